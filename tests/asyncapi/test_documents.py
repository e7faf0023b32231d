"""Every document the tests build is valid for the official parser and matches its snapshot."""

from __future__ import annotations

import pytest

from tests.asyncapi.conftest import AsyncAPIParser
from tests.asyncapi.documents import DOCUMENTS
from tests.asyncapi.snapshot import assert_snapshot


@pytest.mark.parametrize("name", sorted(DOCUMENTS))
def test_document_is_valid_asyncapi(name: str, asyncapi_parser: AsyncAPIParser) -> None:
    asyncapi_parser.assert_valid(DOCUMENTS[name]())


@pytest.mark.parametrize("name", sorted(DOCUMENTS))
def test_document_matches_snapshot(name: str) -> None:
    assert_snapshot(name, DOCUMENTS[name]())
