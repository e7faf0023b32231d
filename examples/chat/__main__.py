"""``python -m examples.chat``: serve the demo on http://127.0.0.1:8000.

``CHANX_DEMO_HOST`` and ``CHANX_DEMO_PORT`` change where it listens. uvicorn runs with the
limits of ``serve.server_settings()`` (see docs/production.md).
"""

from __future__ import annotations

import os

import uvicorn

from .app import app
from .serve import server_settings


def main() -> None:
    host = os.environ.get("CHANX_DEMO_HOST", "127.0.0.1")
    port = int(os.environ.get("CHANX_DEMO_PORT", "8000"))
    print(f"Chanx chat demo: open http://{host}:{port} in two browser windows (Ctrl+C stops)")
    uvicorn.run(app, host=host, port=port, **server_settings())


if __name__ == "__main__":
    main()
