"""The Subscription aggregate: its status as of a day (past_due included), and events
recorded before calendar billing and settlement existed."""

from __future__ import annotations

import uuid
from datetime import date
from decimal import Decimal

from ledger.context import acting_as
from ledger.domain.subscription import Subscription
from tests.conftest import command_context

BASIC = {
    "code": "b",
    "name": "Basic",
    "amount": Decimal("30.00"),
    "currency": "EUR",
    "interval": "month",
    "interval_count": 1,
    "kind": "services",
}
PRO = {**BASIC, "code": "p", "name": "Pro", "amount": Decimal("60.00")}


def started(trial_end: date | None = None, anchor: str = "anniversary") -> Subscription:
    with acting_as(command_context(uuid.uuid4())):
        return Subscription.start(
            tenant_id=uuid.uuid4(),
            customer_id=uuid.uuid4(),
            plan=BASIC,
            metered=[],
            billing="in_advance",
            start_date=date(2025, 4, 1),
            trial_end=trial_end,
            billing_anchor=anchor,
        )


def test_past_due_is_an_active_subscription_after_its_unpaid_invoices_due_date() -> None:
    sub = started()
    due = date(2025, 4, 15)
    assert sub.status_on(date(2025, 4, 15), due) == "active"  # due that day, not yet late
    assert sub.status_on(date(2025, 4, 16), due) == "past_due"
    assert sub.status_on(date(2025, 4, 16), None) == "active"  # paid


def test_trialing_paused_and_canceled_are_not_shown_as_past_due() -> None:
    sub = started(trial_end=date(2025, 4, 15))
    late = date(2025, 4, 2)
    assert sub.status_on(date(2025, 4, 10), late) == "trialing"
    with acting_as(command_context(sub.tenant_id)):
        sub.pause(date(2025, 5, 1))
        sub.cancel(at_period_end=False, on=date(2025, 6, 1))
    assert sub.status_on(date(2025, 5, 10), late) == "paused"
    assert sub.status_on(date(2025, 6, 10), late) == "canceled"


def test_events_recorded_before_calendar_billing_replay_as_anniversary_and_pending() -> None:
    sub = started()
    with acting_as(command_context(sub.tenant_id)):
        sub.change_plan(PRO, None, date(2025, 4, 11))
    events = sub.collect_events()
    # As stored before: no billing_anchor or anchor, no settlement.
    for old, fields in zip(events, (("billing_anchor", "anchor"), ("settlement",)), strict=True):
        for name in fields:
            object.__delattr__(old, name)

    replayed = None
    for domain_event in events:
        replayed = domain_event.mutate(replayed)

    assert isinstance(replayed, Subscription)
    assert (replayed.billing_anchor, replayed.anchor) == ("anniversary", date(2025, 4, 1))
    assert [ln["unit_price"] for ln in replayed.pending] == [Decimal("-20.00"), Decimal("40.00")]
