"""The pytest plugin, run the way users run it: an inner pytest session through pytester."""

from __future__ import annotations

import subprocess
import sys
import textwrap

import pytest

pytest_plugins = ["pytester"]

INNER_OPTIONS = (
    "-p",
    "no:cacheprovider",
    "-W",
    "error",
    "-o",
    "asyncio_mode=auto",
    "-o",
    "asyncio_default_fixture_loop_scope=function",
)

CONSUMER = """
from typing import Literal

from chanx.core import BaseMessage, PingMessage, PongMessage, ws_handler
from chanx.core.layers import get_channel_layer
from chanx.core.layers._registry import lookup_channel_layer

disconnects = []


class ChatMessage(BaseMessage):
    action: Literal["chat"] = "chat"
    payload: str


class ChatNotice(BaseMessage):
    action: Literal["chat_notice"] = "chat_notice"
    payload: str


class RoomConsumer(Base):
    groups = ["room"]

    @ws_handler
    async def handle_ping(self, message: PingMessage) -> PongMessage:
        return PongMessage()

    @ws_handler
    async def handle_chat(self, message: ChatMessage) -> None:
        await self.broadcast_message(ChatNotice(payload=message.payload))

    async def on_disconnect(self, code: int) -> None:
        disconnects.append(code)
"""

APPS = {
    "fastapi": """
from fastapi import FastAPI
from chanx.fastapi import AsyncJsonWebsocketConsumer as Base
{consumer}
app = FastAPI()
app.router.add_websocket_route("/ws/{{room}}", RoomConsumer.as_asgi())
""",
    "starlette": """
from starlette.applications import Starlette
from starlette.routing import WebSocketRoute
from chanx.fastapi import AsyncJsonWebsocketConsumer as Base
{consumer}
app = Starlette(routes=[WebSocketRoute("/ws/{{room}}", RoomConsumer.as_asgi())])
""",
    "plain_asgi": """
from chanx.core import AsyncJsonWebsocketConsumer as Base
{consumer}
app = RoomConsumer.as_asgi()
""",
}

TESTS = """
received = []


async def spied(scope, receive, send):
    async def recording_receive():
        event = await receive()
        received.append(event["type"])
        return event

    await app(scope, recording_receive, send)


async def test_room(chanx_layer, chanx_communicator):
    assert get_channel_layer() is chanx_layer
    alice = chanx_communicator(spied, "/ws/lobby")
    bob = chanx_communicator(spied, "/ws/lobby", timeout=2.0)
    assert await alice.connect()
    assert await bob.connect()
    await alice.send_json({"action": "chat", "payload": "hi"})
    assert await bob.receive_json() == {"action": "chat_notice", "payload": "hi"}
    assert await alice.receive_json() == {"action": "chat_notice", "payload": "hi"}
    # both are left connected: the plugin disconnects them


def test_after_room():
    assert disconnects == [1000, 1000]
    # the apps heard websocket.disconnect: they were not cancelled by the loop closing
    assert received.count("websocket.disconnect") == 2
    assert lookup_channel_layer("default") is None


async def test_registrations_undone(chanx_layers_cleanup):
    from chanx.core.layers import InMemoryChannelLayer, register_channel_layer

    register_channel_layer("other", InMemoryChannelLayer())


def test_after_registrations():
    assert lookup_channel_layer("other") is None
"""


def test_fixtures_drive_fastapi_starlette_and_plain_asgi_apps_and_clean_up(
    pytester: pytest.Pytester,
) -> None:
    files = {f"test_{name}": app.format(consumer=CONSUMER) + TESTS for name, app in APPS.items()}
    pytester.makepyfile(**files)
    result = pytester.runpytest_subprocess(*INNER_OPTIONS, "-v")
    result.assert_outcomes(passed=4 * len(APPS))


def test_a_communicator_app_error_fails_the_test_at_teardown(pytester: pytest.Pytester) -> None:
    pytester.makepyfile(
        test_inner="""
        async def broken(scope, receive, send):
            await receive()
            await send({"type": "websocket.accept"})
            await receive()
            raise RuntimeError("the app broke on disconnect")

        async def test_leaves_it_connected(chanx_communicator):
            assert await chanx_communicator(broken, "/").connect()
        """
    )
    result = pytester.runpytest_subprocess(*INNER_OPTIONS)
    result.assert_outcomes(passed=1, errors=1)
    result.stdout.fnmatch_lines(["*RuntimeError: the app broke on disconnect*"])


def test_layer_alias_can_be_overridden(pytester: pytest.Pytester) -> None:
    pytester.makeconftest(
        """
        import pytest

        @pytest.fixture
        def chanx_layer_alias():
            return "chat"
        """
    )
    pytester.makepyfile(
        test_inner="""
        from chanx.core.layers import get_channel_layer
        from chanx.core.layers._registry import lookup_channel_layer

        def test_alias(chanx_layer):
            assert get_channel_layer("chat") is chanx_layer
            assert lookup_channel_layer("default") is None

        def test_after():
            assert lookup_channel_layer("chat") is None
        """
    )
    pytester.runpytest_subprocess(*INNER_OPTIONS).assert_outcomes(passed=2)


def test_previous_layer_is_restored(pytester: pytest.Pytester) -> None:
    pytester.makepyfile(
        test_inner="""
        from chanx.core.layers import InMemoryChannelLayer, register_channel_layer
        from chanx.core.layers._registry import lookup_channel_layer

        before = register_channel_layer("default", InMemoryChannelLayer())

        def test_swapped(chanx_layer, chanx_capture):
            assert lookup_channel_layer("default") is chanx_capture
            assert chanx_capture.inner is chanx_layer

        def test_after():
            assert lookup_channel_layer("default") is before
        """
    )
    pytester.runpytest_subprocess(*INNER_OPTIONS).assert_outcomes(passed=2)


def test_plugin_can_be_switched_off(pytester: pytest.Pytester) -> None:
    pytester.makepyfile(test_inner="def test_uses(chanx_layer): pass")
    result = pytester.runpytest_subprocess(*INNER_OPTIONS, "-p", "no:chanx")
    result.assert_outcomes(errors=1)
    result.stdout.fnmatch_lines(["*fixture 'chanx_layer' not found*"])


def test_importing_the_plugin_loads_no_framework_and_no_hypothesis() -> None:
    # pytest imports the plugin in every session of a project that installs chanx-testing:
    # the communicator, chanx-core and pydantic load only when a test uses them.
    code = textwrap.dedent(
        """
        import sys
        import chanx.testing._plugin
        heavy = ("starlette", "fastapi", "django", "channels", "hypothesis", "redis", "pydantic")
        loaded = sorted({m.split(".")[0] for m in sys.modules} & set(heavy))
        extra = [m for m in sys.modules if m.startswith(("chanx.testing.strategies",
                 "chanx.testing.layers", "chanx.testing._communicator", "chanx.core",
                 "chanx.fastapi", "chanx.django"))]
        print(loaded + extra)
        """
    )
    out = subprocess.run(
        [sys.executable, "-c", code], capture_output=True, text=True, check=True, timeout=60
    )
    assert out.stdout.strip() == "[]"


def test_fixtures_stand_in_for_django_channel_layers(pytester: pytest.Pytester) -> None:
    pytester.makeconftest(
        """
        import django
        from django.conf import settings

        settings.configure(
            INSTALLED_APPS=["channels", "chanx.django"],
            CHANNEL_LAYERS={"default": {"BACKEND": "channels.layers.InMemoryChannelLayer"}},
        )
        django.setup()
        """
    )
    app = f"""
from channels.layers import get_channel_layer as channels_layer
from channels.routing import URLRouter
from django.urls import path
from chanx.django import AsyncJsonWebsocketConsumer as Base
{CONSUMER}
app = URLRouter([path("ws/<room>/", RoomConsumer.as_asgi())])
"""
    tests = TESTS.replace("/ws/lobby", "/ws/lobby/").replace(
        "assert get_channel_layer() is chanx_layer", "assert channels_layer() is chanx_layer"
    )
    checks = """

original = channels_layer()


async def test_capture_under_django(chanx_capture, chanx_communicator):
    assert channels_layer() is chanx_capture
    ws = chanx_communicator(spied, "/ws/lobby/")
    assert await ws.connect()
    await ws.send_json({"action": "chat", "payload": "hey"})
    assert (await chanx_capture.wait_for(1))[0].frame["payload"] == "hey"


def test_channels_layer_restored():
    assert channels_layer() is original
"""
    pytester.makepyfile(test_django=app + tests + checks)
    result = pytester.runpytest_subprocess(*INNER_OPTIONS)
    result.assert_outcomes(passed=6)
