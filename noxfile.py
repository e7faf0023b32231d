"""Project checks: `uv run nox` runs them all (that is also what CI runs).

Every session syncs its virtualenv from the committed ``uv.lock`` with ``--locked``, so a
stale lock fails instead of being rewritten, and uv's cache keeps re-syncs to seconds.

    uv run nox                     # everything (lint, typecheck, tests_core, tests, guides)
    uv run nox -s tests -- -k foo  # arguments after -- go to pytest (or to mypy/ruff)
    uv run nox -l                  # list sessions
"""

from __future__ import annotations

import os
import shutil
from pathlib import Path

import nox
from nox.command import CommandFailed

nox.needs_version = ">=2024.10"
nox.options.default_venv_backend = "uv"
nox.options.reuse_venv = "yes"
nox.options.error_on_external_run = True
# tests_core runs before tests so that the last pytest summary printed is the full suite's.
# Room for later: a Django/Channels version matrix as a parametrized session that syncs the
# dev group, then `uv pip install "django==X.*" "channels==Y.*"` over it and runs tests/django.
nox.options.sessions = ["lint", "typecheck", "tests_core", "tests", "guides"]

ROOT = Path(__file__).parent
PACKAGE_SOURCES = sorted(str(p.relative_to(ROOT)) for p in ROOT.glob("packages/*/src"))

# Imported by no module of the core-only environment: chanx-core must work without them.
FRAMEWORKS = ("starlette", "fastapi", "django", "channels", "daphne", "uvicorn")


def _sync(session: nox.Session, *args: str) -> None:
    """Install exactly what ``uv.lock`` pins for the given selection into the session venv."""
    session.run_install(
        "uv",
        "sync",
        "--locked",
        *args,
        env={"UV_PROJECT_ENVIRONMENT": session.virtualenv.location},
    )


@nox.session
def lint(session: nox.Session) -> None:
    """Formatting, lint rules and lock freshness."""
    _sync(session, "--only-group", "lint")
    checks = [
        ("uv", "lock", "--check"),
        ("ruff", "check", *(session.posargs or ["."])),
        ("ruff", "format", "--check", *(session.posargs or ["."])),
    ]
    # Run every check before failing, so one CI log shows all that needs fixing.
    failed = []
    for check in checks:
        try:
            session.run(*check)
        except CommandFailed:
            failed.append(" ".join(check))
    if failed:
        session.error("failed: " + "; ".join(failed))


@nox.session
def typecheck(session: nox.Session) -> None:
    """mypy --strict (config in the root pyproject) over every package and the tests."""
    _sync(session, "--all-packages", "--group", "dev")
    session.run("mypy", *(session.posargs or [*PACKAGE_SOURCES, "tests"]))


@nox.session
def tests(session: nox.Session) -> None:
    """The whole test suite in the full development environment."""
    _sync(session, "--all-packages", "--group", "dev")
    session.run("pytest", *session.posargs)


@nox.session
def tests_core(session: nox.Session) -> None:
    """tests/core in an environment with chanx-core and chanx-testing but no web framework."""
    _sync(session, "--only-group", "core-test")
    session.log(f"checking that none of {', '.join(FRAMEWORKS)} is installed")
    found = f"[m for m in {FRAMEWORKS} if importlib.util.find_spec(m)]"
    probe = f"import importlib.util, sys; sys.exit({found} or None)"
    session.run("python", "-c", probe)
    targets = ["tests/packaging/test_core_is_framework_free.py"]
    if (ROOT / "tests" / "core").is_dir():
        targets.insert(0, "tests/core")
    else:
        session.log("tests/core does not exist yet; running the framework-free check only")
    # Exit code 5 means pytest collected nothing: legitimate while tests/core is being written.
    session.run("pytest", *(session.posargs or targets), success_codes=[0, 5])


@nox.session
def guides(session: nox.Session) -> None:
    """Follow README.md and the guides in docs/ as a new user, in fresh venvs outside the repo.

    Builds the wheels, installs what each page's install block says, writes its code blocks
    to files, runs its commands and tests, serves the app and does a ping/pong over a real
    socket (tests/guides/runner.py; markers in the Markdown say what each block is).

    uv run nox -s guides -- docs/fastapi.md          # one page
    uv run nox -s guides -- --keep docs/django.md    # keep the directories afterwards
    """
    _sync(session, "--only-group", "guides")
    uv = os.environ.get("UV") or shutil.which("uv")
    if uv is None:
        session.error("uv is needed to build wheels and create the guides' virtualenvs")
    session.run("python", "-m", "tests.guides.runner", *session.posargs, env={"UV": uv})


DJANGO_VERSIONS = ["5.2", "6"]
CHANNELS_VERSIONS = ["4.2", "4.3"]


@nox.session(python=["3.11", "3.12"])
@nox.parametrize("channels", CHANNELS_VERSIONS)
@nox.parametrize("django", DJANGO_VERSIONS)
def tests_django_matrix(session: nox.Session, django: str, channels: str) -> None:
    """tests/django against Django 5.2 / latest 6.x × Channels 4.2 / 4.3 (not run by default).

    uv run nox -s tests_django_matrix       # every combination this machine has a Python for
    uv run nox -s "tests_django_matrix-3.11(django='5.2', channels='4.2')"
    """
    if django == "6" and session.python == "3.11":
        session.skip("Django 6 supports Python 3.12 and later only")
    _sync(session, "--all-packages", "--group", "dev")
    # Over the locked environment: only Django, Channels (and DRF, an extra) change.
    session.run_install(
        "uv",
        "pip",
        "install",
        "--python",
        session.virtualenv.location,
        f"django=={django}.*",
        f"channels=={channels}.*",
        "djangorestframework>=3.15",
    )
    session.run(
        "python", "-c", "import django, channels; print(django.__version__, channels.__version__)"
    )
    session.run("pytest", *(session.posargs or ["tests/django"]))
