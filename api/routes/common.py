"""Schema pieces and read helpers shared by several resources."""

from __future__ import annotations

from datetime import UTC, date, datetime, timedelta
from decimal import Decimal
from enum import Enum
from typing import Annotated, Any, Literal
from uuid import UUID

from fastapi import Request
from pydantic import AfterValidator, BaseModel, ConfigDict, Field

from api.problems import ReadNotReady

CountryCode = Annotated[
    str, Field(pattern=r"^[A-Z]{2}$", description="ISO 3166-1 alpha-2", examples=["DE"])
]
CurrencyCode = Annotated[
    str, Field(pattern=r"^[A-Z]{3}$", description="ISO 4217", examples=["EUR"])
]
Locale = Literal["en", "de", "fr", "nl", "es", "it"]
# Free text is refused when it holds control characters: PostgreSQL text cannot store NUL
# (one such name would stop a read model for every tenant), and names are single lines.
ONE_LINE = r"^[^\x00-\x1f\x7f]*$"
# Longer text (descriptions, memos) may hold tabs and line breaks, nothing else.
MULTI_LINE = r"^[^\x00-\x08\x0b\x0c\x0e-\x1f\x7f]*$"

TaxId = Annotated[str, Field(min_length=2, max_length=20, pattern=r"^[A-Za-z0-9 .\-]+$")]
Text = Annotated[str, Field(min_length=1, max_length=200, pattern=ONE_LINE)]
_EMAIL_PART = r"[^@\s\x00-\x1f\x7f]+"
Email = Annotated[
    str, Field(max_length=254, pattern=rf"^{_EMAIL_PART}@{_EMAIL_PART}\.{_EMAIL_PART}$")
]


def one_line(max_length: int, min_length: int = 0) -> Any:
    """A single-line text field."""
    return Field(min_length=min_length, max_length=max_length, pattern=ONE_LINE)


def multi_line(max_length: int, min_length: int = 0) -> Any:
    """A text field that may span lines."""
    return Field(min_length=min_length, max_length=max_length, pattern=MULTI_LINE)


def _happened(value: date) -> date:
    # One day of slack: a client a time zone ahead of UTC may already be "tomorrow".
    if value > datetime.now(UTC).date() + timedelta(days=1):
        raise ValueError("the date cannot be in the future")
    if value < date(2000, 1, 1):
        raise ValueError("the date is implausibly old")
    return value


# The day something already happened (money paid or refunded): not in the future, not
# before 2000.
PastDate = Annotated[date, AfterValidator(_happened)]


class Strict(BaseModel):
    """Request bodies refuse unknown fields, so a typo is an error rather than ignored."""

    model_config = ConfigDict(extra="forbid")


class Address(Strict):
    line1: Text
    line2: Annotated[str, one_line(200)] | None = None
    city: Text
    postal_code: Annotated[str, one_line(20)] | None = None
    region: Annotated[str, one_line(100)] | None = None
    country: CountryCode


def jsonable(value: Any) -> Any:
    """Event and aggregate data as JSON: Decimal and ids as strings, dates in ISO 8601."""
    if isinstance(value, dict):
        return {str(k): jsonable(v) for k, v in value.items()}
    if isinstance(value, list | tuple):
        return [jsonable(v) for v in value]
    if isinstance(value, Decimal | UUID):
        return str(value)
    if isinstance(value, datetime | date):
        return value.isoformat()
    if isinstance(value, Enum):
        return value.value
    return value


def json_object(value: dict[str, Any]) -> dict[str, Any]:
    """`jsonable` for a mapping, typed as one."""
    result: dict[str, Any] = jsonable(value)
    return result


def wait_for_projections(request: Request, *names: str) -> None:
    """Reads are consistent with every write acknowledged before they began."""
    projectors = request.app.state.projectors
    head = projectors.head()
    timeout = request.app.state.settings.read_wait_seconds
    if not projectors.wait_for(names, head, timeout):
        raise ReadNotReady("the read models are catching up with recent writes; retry shortly")
