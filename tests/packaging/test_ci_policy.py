"""The rules tests/conftest.py sets for CI runs, checked in an inner pytest session.

Under ``CI=true`` nothing may pass by skipping (a missing service, module or program fails
the test), and hypothesis runs without its wall-clock deadline. Locally, skips stay skips.
"""

from __future__ import annotations

from pathlib import Path

import pytest

pytest_plugins = ["pytester"]

CONFTEST = (Path(__file__).resolve().parents[1] / "conftest.py").read_text()
INNER_TESTS = """
import pytest
from hypothesis import settings


def test_skipped():
    pytest.skip("the thing is missing")


def test_importorskip():
    pytest.importorskip("a_module_nobody_has")


@pytest.mark.skipif(True, reason="the program is missing")
def test_skipif():
    pass


@pytest.mark.xfail(reason="a known upstream bug", strict=True)
def test_known_bug():
    raise AssertionError


def test_profile():
    print("deadline:", settings().deadline, "database:", settings().database)
"""


def run_inner(
    pytester: pytest.Pytester, monkeypatch: pytest.MonkeyPatch, ci: str
) -> pytest.RunResult:
    monkeypatch.setenv("CI", ci)
    monkeypatch.delenv("HYPOTHESIS_PROFILE", raising=False)
    pytester.makeconftest(CONFTEST)
    pytester.makepyfile(test_inner=INNER_TESTS)
    return pytester.runpytest_subprocess(
        "-p",
        "no:cacheprovider",
        "-o",
        "asyncio_default_fixture_loop_scope=function",
        "-rA",
        "-s",
        timeout=120,
    )


def test_under_ci_every_skip_fails_and_says_what_was_missing(
    pytester: pytest.Pytester, monkeypatch: pytest.MonkeyPatch
) -> None:
    result = run_inner(pytester, monkeypatch, "true")
    # A skip at set-up (skipif) fails as an error, one in the test body as a failure.
    result.assert_outcomes(passed=1, failed=2, errors=1, xfailed=1)
    # One at a time: pytest versions order set-up errors and failures differently.
    for reason in ("the thing is missing", "could not import 'a_module_nobody_has'*"):
        result.stdout.fnmatch_lines([f"*skipped under CI=true, where nothing may be: {reason}"])
    result.stdout.fnmatch_lines(["*skipped under CI=true*the program is missing*"])
    result.stdout.fnmatch_lines(["*deadline: None database: None"])


def test_locally_skips_stay_skips_and_hypothesis_keeps_its_defaults(
    pytester: pytest.Pytester, monkeypatch: pytest.MonkeyPatch
) -> None:
    result = run_inner(pytester, monkeypatch, "")
    result.assert_outcomes(passed=1, skipped=3, xfailed=1)
    assert "deadline: None" not in result.stdout.str()
