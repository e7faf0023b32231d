"""Chanx chat demo: chat rooms, per-user notifications and ping, served by FastAPI.

Run it from the repository root with ``uv run python -m examples.chat`` and open
http://127.0.0.1:8000.
"""
