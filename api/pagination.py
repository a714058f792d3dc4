"""Cursor pagination: `?limit=&cursor=` -> `{"data": [...], "next_cursor": ...}`."""

from __future__ import annotations

import base64
import binascii
from collections.abc import Callable, Sequence
from typing import Annotated, Any

from fastapi import Depends, Query
from pydantic import BaseModel

from ledger.errors import InvalidInput

MAX_POSITION = 2**63 - 1


class InvalidCursor(InvalidInput):
    """Raised when a cursor was not one this API returned."""

    code = "invalid_cursor"


class PageRequest(BaseModel):
    limit: int
    before: int | None


def page_request(
    limit: Annotated[int, Query(ge=1, le=200, description="Items per page.")] = 50,
    cursor: Annotated[
        str | None, Query(max_length=64, description="`next_cursor` of the previous page.")
    ] = None,
) -> PageRequest:
    return PageRequest(limit=limit, before=_decode(cursor) if cursor else None)


Page = Annotated[PageRequest, Depends(page_request)]


def _decode(cursor: str) -> int:
    try:
        text = base64.urlsafe_b64decode(cursor + "=" * (-len(cursor) % 4)).decode()
    except (binascii.Error, UnicodeDecodeError, ValueError):
        raise InvalidCursor("the cursor is not one this API returned") from None
    if not text.startswith("p") or not text[1:].isascii() or not text[1:].isdigit():
        raise InvalidCursor("the cursor is not one this API returned")
    position = int(text[1:])
    if position > MAX_POSITION:  # positions are PostgreSQL bigints
        raise InvalidCursor("the cursor is not one this API returned")
    return position


def _encode(position: int) -> str:
    return base64.urlsafe_b64encode(f"p{position}".encode()).decode().rstrip("=")


def paged(
    rows: Sequence[dict[str, Any]], page: PageRequest, render: Callable[[dict[str, Any]], Any]
) -> dict[str, Any]:
    """Rows were fetched with `limit + 1`, so one extra row means there is a next page."""
    more = len(rows) > page.limit
    shown = rows[: page.limit]
    return {
        "data": [render(row) for row in shown],
        "next_cursor": _encode(shown[-1]["position"]) if more and shown else None,
    }
