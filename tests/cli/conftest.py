"""The CLI tests reuse the AsyncAPI parser fixtures."""

from __future__ import annotations

from tests.asyncapi.conftest import asyncapi_parser, parser_node_modules

__all__ = ["asyncapi_parser", "parser_node_modules"]
