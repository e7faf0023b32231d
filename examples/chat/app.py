"""The demo's ASGI app: the static page, two WebSocket routes and a notify endpoint.

Run: ``uv run python -m examples.chat``, which starts uvicorn with the limits of
``serve.py`` (README.md gives the equivalent ``uvicorn`` command line).
Set ``CHANX_LAYER_URL=redis://127.0.0.1:6379`` (or ``amqp://guest:guest@127.0.0.1:5672/``
for RabbitMQ) to share groups between processes; without it the in-memory layer is used,
which reaches only this process.
"""

from __future__ import annotations

import logging
import os
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from pathlib import Path as FilePath
from typing import Annotated

from fastapi import FastAPI, Path
from fastapi.responses import FileResponse
from fastapi.staticfiles import StaticFiles
from pydantic import BaseModel, Field

from chanx.core import register_channel_layer
from chanx.fastapi import add_asyncapi_routes

from .consumers import ChatConsumer, UserConsumer, user_group
from .messages import NAME_PATTERN, NotifyEvent

# uvicorn shows INFO records of its own loggers only; the demo reports its layer there.
logger = logging.getLogger("uvicorn.error")

STATIC = FilePath(__file__).parent / "static"
# The page runs no inline script and loads nothing from elsewhere.
CSP = "default-src 'self'; connect-src 'self' ws: wss:; frame-ancestors 'none'"


@asynccontextmanager
async def lifespan(app: FastAPI) -> AsyncIterator[None]:
    url = os.environ.get("CHANX_LAYER_URL")
    if not url:
        logger.info("Chanx channel layer: in-memory (set CHANX_LAYER_URL to share it)")
        yield
        return
    layer = register_channel_layer("default", url)
    logger.info("Chanx channel layer: %r", layer)
    try:
        yield
    finally:
        await layer.close()


app = FastAPI(title="Chanx chat demo", lifespan=lifespan)

# Starlette 1.x has no app.add_websocket_route; the router's method works in both.
app.router.add_websocket_route("/ws/chat/{room_id}", ChatConsumer.as_asgi())
app.router.add_websocket_route("/ws/notifications", UserConsumer.as_asgi())
# The AsyncAPI document (/asyncapi.json, /asyncapi.yaml) and its offline docs page.
add_asyncapi_routes(app)


class NotifyRequest(BaseModel):
    text: str = Field(min_length=1, max_length=1000)
    sender: str | None = Field(default=None, pattern=NAME_PATTERN)


class NotifyResponse(BaseModel):
    group: str


@app.post("/api/notify/{user}", status_code=202)
async def notify(
    user: Annotated[str, Path(pattern=NAME_PATTERN)], body: NotifyRequest
) -> NotifyResponse:
    """Send a private notification to every open socket of ``user``."""
    group = user_group(user)
    await UserConsumer.broadcast_event(
        NotifyEvent(text=body.text, sender=body.sender), groups=group
    )
    return NotifyResponse(group=group)


@app.get("/", include_in_schema=False)
async def index() -> FileResponse:
    return FileResponse(STATIC / "index.html", headers={"Content-Security-Policy": CSP})


app.mount("/static", StaticFiles(directory=STATIC), name="static")
