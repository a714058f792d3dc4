from datetime import UTC, date, datetime
from decimal import Decimal
from uuid import uuid4

import pytest

from ledger.persistence import DatabaseLocation, OrjsonTranscoder


def test_decimal_keeps_its_exponent() -> None:
    codec = OrjsonTranscoder()
    for text in ("1.10", "0", "-0.00", "1E+3", "123456789012345678901234567890.123456"):
        decoded = codec.decode(codec.encode({"a": Decimal(text)}))["a"]
        assert decoded.as_tuple() == Decimal(text).as_tuple()


def test_a_datetime_stays_a_datetime_and_a_date_a_date() -> None:
    codec = OrjsonTranscoder()
    value = {"at": datetime(2026, 1, 2, 3, 4, 5, 6, tzinfo=UTC), "on": date(2026, 1, 2)}
    decoded = codec.decode(codec.encode(value))
    assert type(decoded["at"]) is datetime
    assert decoded["at"] == value["at"]
    assert type(decoded["on"]) is date
    assert decoded["on"] == value["on"]


def test_a_uuid_is_not_confused_with_its_string() -> None:
    codec = OrjsonTranscoder()
    ident = uuid4()
    decoded = codec.decode(codec.encode({"id": ident, "text": str(ident)}))
    assert decoded == {"id": ident, "text": str(ident)}


def test_floats_are_refused_because_money_is_decimal() -> None:
    with pytest.raises(TypeError):
        OrjsonTranscoder().encode({"amount": 0.1})


def test_database_url_round_trips_through_the_location() -> None:
    for url in (
        "postgresql://postgres@127.0.0.1:5432/test",
        "postgresql://u:p%40ss@/ledger?host=/run/pg&port=5433",
    ):
        location = DatabaseLocation.from_url(url)
        assert DatabaseLocation.from_url(location.url()) == location
