from typing import Any

from hypothesis import given
from hypothesis import strategies as st

from ledger.persistence import OrjsonTranscoder

scalars = (
    st.decimals(allow_nan=False, allow_infinity=False)
    | st.dates()
    | st.datetimes(timezones=st.none() | st.timezones())
    | st.uuids()
    | st.text()
    | st.integers(min_value=-(2**63), max_value=2**63 - 1)
    | st.booleans()
    | st.none()
)
payloads = st.recursive(
    scalars,
    lambda children: (
        st.lists(children, max_size=5) | st.dictionaries(st.text(), children, max_size=5)
    ),
    max_leaves=30,
)


def exact(value: Any) -> Any:
    """Equality that also tells 1.0 from 1.00 and a date from a datetime."""
    if isinstance(value, dict):
        return ("dict", tuple(sorted((k, exact(v)) for k, v in value.items())))
    if isinstance(value, list):
        return ("list", tuple(exact(v) for v in value))
    if hasattr(value, "as_tuple"):
        return ("decimal", value.as_tuple())
    return (type(value).__name__, value)


@given(st.dictionaries(st.text(), payloads, max_size=8))
def test_any_payload_of_decimals_dates_and_uuids_round_trips_exactly(
    payload: dict[str, Any],
) -> None:
    codec = OrjsonTranscoder()
    assert exact(codec.decode(codec.encode(payload))) == exact(payload)
