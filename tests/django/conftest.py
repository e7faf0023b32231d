"""Django settings for tests/django, configured once for the whole (shared) test process.

Other test folders run in the same process, so the base settings name no channel layer:
the Django adapter then declines every alias and those tests keep Chanx's own registry.
Each test here gets its layer through ``override_settings(CHANNEL_LAYERS=...)``.
"""

# mypy: disable-error-code="import-untyped"
from __future__ import annotations

import importlib.util
import tempfile
import uuid
from collections.abc import AsyncIterator, Iterator
from typing import Any

import django
import pytest
from django.conf import settings
from django.test.utils import override_settings

from tests.asyncapi.conftest import asyncapi_parser, parser_node_modules
from tests.conftest import IN_CI

# The AsyncAPI parser fixtures, for documents of Django apps.
__all__ = ["asyncapi_parser", "parser_node_modules"]

HAS_DRF = importlib.util.find_spec("rest_framework") is not None
_DB_DIR = tempfile.mkdtemp(prefix="chanx-django-tests-")

if not settings.configured:
    settings.configure(
        DEBUG=False,
        SECRET_KEY="chanx-tests-only",
        ALLOWED_HOSTS=["testserver"],
        INSTALLED_APPS=[
            "django.contrib.auth",
            "django.contrib.contenttypes",
            "django.contrib.sessions",
            "channels",
            *(["rest_framework", "rest_framework.authtoken"] if HAS_DRF else []),
            "chanx.django",
        ],
        # A file, not ":memory:": each worker thread of sync_to_async opens its own
        # connection, and an in-memory SQLite database is private to one connection.
        DATABASES={
            "default": {"ENGINE": "django.db.backends.sqlite3", "NAME": f"{_DB_DIR}/db.sqlite3"}
        },
        ROOT_URLCONF="tests.django.project",
        PASSWORD_HASHERS=["django.contrib.auth.hashers.MD5PasswordHasher"],
        USE_TZ=True,
        REST_FRAMEWORK={"UNAUTHENTICATED_USER": "django.contrib.auth.models.AnonymousUser"},
    )
    django.setup()

MEMORY = {"BACKEND": "channels.layers.InMemoryChannelLayer"}
CHANX_MEMORY = {"BACKEND": "chanx.core.layers.InMemoryChannelLayer"}


def require_drf() -> None:
    """Skip (locally) or fail (CI) when Django REST framework is not installed."""
    if HAS_DRF:
        return
    message = 'djangorestframework is not installed (pip install "chanx-django[drf]")'
    if IN_CI:
        pytest.fail(f"{message}; CI=true requires it", pytrace=False)
    pytest.skip(message)


@pytest.fixture(scope="session", autouse=True)
def _database() -> None:
    from django.core.management import call_command

    call_command("migrate", verbosity=0, interactive=False)


def redis_layer(url: str) -> dict[str, Any]:
    # A prefix per test keeps tests (and parallel runs) from seeing each other's groups.
    return {
        "BACKEND": "channels_redis.core.RedisChannelLayer",
        "CONFIG": {"hosts": [url], "prefix": f"chanx-test-{uuid.uuid4().hex[:8]}"},
    }


@pytest.fixture(params=["channels-memory", "chanx-memory", "channels-redis"])
def layer_config(request: pytest.FixtureRequest) -> dict[str, Any]:
    """The ``default`` CHANNEL_LAYERS entry: each scenario runs on each backend."""
    if request.param == "channels-memory":
        return MEMORY
    if request.param == "chanx-memory":
        return CHANX_MEMORY
    url = request.getfixturevalue("redis_url")
    return redis_layer(url)


@pytest.fixture
async def channel_layers(layer_config: dict[str, Any]) -> AsyncIterator[dict[str, Any]]:
    """Apply CHANNEL_LAYERS for one test, and close what the test opened."""
    from channels.layers import channel_layers as manager

    layers = {"default": layer_config, "other": MEMORY}
    with override_settings(CHANNEL_LAYERS=layers):
        yield layers
        for layer in list(manager.backends.values()):
            await _close(layer)


async def _close(layer: Any) -> None:
    if hasattr(layer, "close_pools"):  # channels_redis
        await layer.flush()
        await layer.close_pools()
    elif hasattr(layer, "close"):
        await layer.close()


@pytest.fixture
def user_factory() -> Iterator[Any]:
    from django.contrib.auth.models import User

    made: list[Any] = []

    def make(name: str = "alice") -> Any:
        user = User.objects.create_user(f"{name}-{uuid.uuid4().hex[:8]}", password="pw")
        made.append(user)
        return user

    yield make
    for user in made:
        user.delete()
