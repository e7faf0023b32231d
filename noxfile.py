"""Project checks: `uv run nox` runs them all (that is also what CI runs).

Every session syncs its virtualenv from the committed ``uv.lock`` with ``--locked``, so a
stale lock fails instead of being rewritten, and uv's cache keeps re-syncs to seconds.

    uv run nox                     # everything CI runs (see nox.options.sessions below)
    uv run nox -s tests -- -k foo  # arguments after -- go to pytest (or to mypy/ruff)
    uv run nox -s docs -- serve    # the documentation site on http://127.0.0.1:8000
    uv run nox -l                  # list sessions

tests_lowest and tests_newest are the exceptions to the lock: they resolve the dependencies
afresh (lowest allowed / newest available) into their own virtualenv and leave uv.lock alone.
They print the versions they installed, and under CI=true a missing service (or any other
cause of a skip) fails them as it fails the locked suite (tests/conftest.py).
"""

from __future__ import annotations

import hashlib
import os
import shutil
import subprocess
import tarfile
import tomllib
import urllib.request
from pathlib import Path

import nox
from nox.command import CommandFailed

nox.needs_version = ">=2024.10"
nox.options.default_venv_backend = "uv"
nox.options.reuse_venv = "yes"
nox.options.error_on_external_run = True
# tests_core, tests_lowest and tests_newest run before tests so that the last pytest summary
# printed is the full suite's (the locked versions).
# Room for later: a Django/Channels version matrix as a parametrized session that syncs the
# dev group, then `uv pip install "django==X.*" "channels==Y.*"` over it and runs tests/django.
nox.options.sessions = [
    "lint",
    "typecheck",
    "dist",
    "docs",
    "tests_core",
    "tests_lowest",
    "tests_newest",
    "channels_redis_suite",
    "tests",
    "guides",
]

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
def dist(session: nox.Session) -> None:
    """Build every wheel and sdist as a release would, and `twine check --strict` them.

    What each archive ships (LICENSE, metadata, the namespace layout) is asserted by
    tests/packaging; this session is the check PyPI's upload makes.
    """
    _sync(session, "--only-group", "release")
    out = Path(session.create_tmp()) / "dist"
    shutil.rmtree(out, ignore_errors=True)
    session.run("uv", "build", "--all-packages", "--no-progress", "--out-dir", str(out))
    archives = sorted(str(p) for p in out.iterdir() if p.name.endswith((".whl", ".tar.gz")))
    session.run("twine", "check", "--strict", *archives)


@nox.session
def docs(session: nox.Session) -> None:
    """The documentation site (mkdocs.yml): built strictly, so a broken link fails.

    uv run nox -s docs               # build into .nox/docs/tmp/site, as CI does
    uv run nox -s docs -- serve      # serve on http://127.0.0.1:8000, rebuilt on each edit
    """
    _sync(session, "--only-group", "docs")
    env = {"NO_MKDOCS_2_WARNING": "1"}  # mkdocs-material's banner about its successor
    if session.posargs[:1] == ["serve"]:
        session.run("mkdocs", "serve", *session.posargs[1:], env=env)
        return
    site = Path(session.create_tmp()) / "site"
    session.run("mkdocs", "build", "--strict", "--site-dir", str(site), *session.posargs, env=env)


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


def _unlocked_requirements() -> list[str]:
    """Every workspace package (editable, all extras) and the dev group's other requirements.

    The input of the unlocked sessions, read from the pyprojects so that a new package, extra
    or test dependency is covered without editing this file.
    """
    lines = []
    for pyproject in sorted(ROOT.glob("packages/*/pyproject.toml")):
        config = tomllib.loads(pyproject.read_text())
        # Extras are static, or set by hatch_build.py from its own table (chanx-core's).
        hook = config.get("tool", {}).get("hatch", {}).get("metadata", {}).get("hooks", {})
        extras = sorted(
            config["project"].get("optional-dependencies", {})
            | hook.get("custom", {}).get("optional-dependencies", {})
        )
        suffix = f"[{','.join(extras)}]" if extras else ""
        lines.append(f"-e {pyproject.parent.relative_to(ROOT)}{suffix}")
    groups = tomllib.loads((ROOT / "pyproject.toml").read_text())["dependency-groups"]

    def expand(name: str) -> list[str]:
        out = []
        for item in groups[name]:
            out.extend(expand(item["include-group"]) if isinstance(item, dict) else [item])
        return out

    # The chanx-* entries are the workspace packages above; the linters are not needed.
    lint = set(expand("lint"))
    lines.extend(r for r in expand("dev") if not r.startswith("chanx-") and r not in lint)
    return lines


def _install_unlocked(session: nox.Session, *resolution: str) -> None:
    """Resolve the test environment without uv.lock, pin it to a file, and sync it exactly."""
    tmp = Path(session.create_tmp())
    requirements_in = tmp / "requirements.in"
    requirements_in.write_text("\n".join(_unlocked_requirements()) + "\n")
    pinned = tmp / "requirements.txt"
    # uv pip compile prefers the versions an existing output file pins: a reused session would
    # keep an earlier run's resolution (a floor raised since, then lowered, stays raised).
    pinned.unlink(missing_ok=True)
    python = ("--python", session.virtualenv.location)
    session.run_install(
        "uv", "pip", "compile", "--quiet", *python, *resolution,
        str(requirements_in), "--output-file", str(pinned),
    )  # fmt: skip
    # `sync`, not `install`: a reused virtualenv must not keep versions from an earlier run.
    session.run_install("uv", "pip", "sync", "--quiet", *python, str(pinned))
    session.run("python", "-c", _SHOW_VERSIONS, *sorted(VERSIONS_SHOWN))


# Printed by the unlocked sessions, so that a CI log says which versions were tested.
_SHOW_VERSIONS = """
import importlib.metadata as metadata, platform, sys
def version(name):
    try:
        return metadata.version(name)
    except metadata.PackageNotFoundError:
        return "absent"
print("python", platform.python_version(), *(f"{n}=={version(n)}" for n in sys.argv[1:]))
"""
VERSIONS_SHOWN = {
    "aiormq", "anyio", "asgiref", "channels", "channels-redis", "django", "djangorestframework",
    "fastapi", "hiredis", "hypothesis", "msgspec", "prometheus-client", "pydantic", "pytest",
    "pytest-asyncio", "redis", "rich", "starlette", "typer", "uvicorn", "websockets",
}  # fmt: skip


# A floor that is too low can fail hundreds of tests; the first ten name it, and the rest of
# the log (and CI's time) is not spent on the same cause.
UNLOCKED_PYTEST_ARGS = ["-q", "--maxfail=10"]


def _newest_python() -> str | None:
    """The newest CPython this machine has (for tests_newest), else nox's own interpreter."""
    for minor in ("3.14", "3.13", "3.12"):
        found = [shutil.which(f"python{minor}")]
        found += sorted(Path.home().glob(f".pyenv/versions/{minor}.*/bin/python{minor}"))
        for candidate in filter(None, found):
            # A pyenv shim exists for every version but only runs the activated ones.
            probe = subprocess.run([str(candidate), "-c", ""], capture_output=True, check=False)
            if probe.returncode == 0:
                return str(candidate)
    return None


@nox.session(venv_backend="uv")
def tests_lowest(session: nox.Session) -> None:
    """The test suite with every direct dependency at the lowest version its floor allows.

    uv's lowest-direct resolution: each package's own floors (pydantic, redis, typer, Django,
    Starlette, ...) and the dev group's are installed at exactly their minimum, transitive
    dependencies at their newest. A floor that is too low fails here.
    """
    _install_unlocked(session, "--resolution", "lowest-direct")
    session.run("pytest", *(session.posargs or UNLOCKED_PYTEST_ARGS))


@nox.session(python=_newest_python(), venv_backend="uv")
def tests_newest(session: nox.Session) -> None:
    """The test suite with the newest release of every dependency, on the newest Python here.

    What a user who runs `pip install chanx-...` today gets; uv.lock stays as it is.
    """
    _install_unlocked(session, "--upgrade")
    session.run("pytest", *(session.posargs or UNLOCKED_PYTEST_ARGS))


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


def _locked_sdist(name: str) -> tuple[str, str, str]:
    """(version, URL, sha256) of ``name``'s sdist as uv.lock pins it."""
    lock = tomllib.loads((ROOT / "uv.lock").read_text())
    for package in lock["package"]:
        if package["name"] == name and "sdist" in package:
            sdist = package["sdist"]
            return package["version"], sdist["url"], sdist["hash"].removeprefix("sha256:")
    raise LookupError(f"uv.lock pins no sdist of {name}")


def _fetch_checked(url: str, sha256: str, into: Path) -> Path:
    """Download ``url`` into ``into`` once; the file must match the lock's hash."""
    path = into / url.rsplit("/", 1)[1]
    if not path.exists() or hashlib.sha256(path.read_bytes()).hexdigest() != sha256:
        with urllib.request.urlopen(url, timeout=60) as response:
            data = response.read()
        if hashlib.sha256(data).hexdigest() != sha256:
            raise RuntimeError(f"{url} does not match the sha256 uv.lock records")
        path.write_bytes(data)
    return path


# Redis for channels_redis_suite: a database of its own (the tests session uses 0).
CHANNELS_REDIS_SUITE_URL = "redis://127.0.0.1:6379/14"
_REDIS_PING = """
import sys, redis
try:
    redis.Redis.from_url(sys.argv[1], socket_timeout=2).ping()
except redis.RedisError as error:
    sys.exit(f"Redis is not reachable at {sys.argv[1]}: {error}")
"""


@nox.session
def channels_redis_suite(session: nox.Session) -> None:
    """channels_redis's own layer tests (tests/test_core.py) against chanx.redis's layer.

    The test file comes from the channels_redis sdist that uv.lock pins (hash-checked) and
    runs with the newest redis-py; tests/peer_suites/channels_redis_conftest.py points their
    imports at our layer and says which tests are deselected or expected to fail, and why.
    ``CHANX_CHANNELS_REDIS_SUITE_URL`` overrides the Redis database (default: db 14).
    """
    _sync(session, "--all-packages", "--group", "dev")
    python = ("--python", session.virtualenv.location)
    # Over the locked environment: the newest redis-py, and their tests' own import.
    session.run_install("uv", "pip", "install", "--quiet", *python, "--upgrade", "redis")
    session.run_install("uv", "pip", "install", "--quiet", *python, "async-timeout")
    session.run("python", "-c", _SHOW_VERSIONS, "redis", "hiredis", "channels-redis")
    url = os.environ.get("CHANX_CHANNELS_REDIS_SUITE_URL", CHANNELS_REDIS_SUITE_URL)
    try:
        session.run("python", "-c", _REDIS_PING, url, silent=True)
    except CommandFailed:
        if os.environ.get("CI", "").lower() in {"1", "true", "yes"}:
            session.error(f"Redis is not reachable at {url}, and CI=true requires it")
        session.skip(f"Redis is not reachable at {url}")
    version, sdist_url, sha256 = _locked_sdist("channels-redis")
    tmp = Path(session.create_tmp())
    archive = _fetch_checked(sdist_url, sha256, tmp)
    suite = tmp / "channels_redis_suite"
    shutil.rmtree(suite, ignore_errors=True)
    suite.mkdir()
    with tarfile.open(archive) as sdist:
        member = sdist.getmember(f"channels_redis-{version}/tests/test_core.py")
        source = sdist.extractfile(member)
        assert source is not None
        (suite / "test_core.py").write_bytes(source.read())
    shutil.copy(ROOT / "tests/peer_suites/channels_redis_conftest.py", suite / "conftest.py")
    # Their own pytest settings (setup.cfg), warnings as errors as in our suite.
    (suite / "pytest.ini").write_text(
        "[pytest]\nasyncio_mode = auto\nasyncio_default_fixture_loop_scope = function\n"
        "timeout = 10\nfilterwarnings = error\n"
    )
    session.log(f"channels_redis {version}: tests/test_core.py against chanx.redis on {url}")
    session.run(
        "pytest", "-c", str(suite / "pytest.ini"), "--rootdir", str(suite),
        "-p", "no:cacheprovider", "-p", "no:django", "-ra", "-q",
        str(suite / "test_core.py"), *session.posargs,
        env={"CHANX_CHANNELS_REDIS_SUITE_URL": url},
    )  # fmt: skip


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
