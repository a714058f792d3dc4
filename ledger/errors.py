"""Domain errors. Each has a stable machine `code`; the API maps the class to an HTTP status."""

from __future__ import annotations

from typing import Any


class LedgerError(Exception):
    """Base of every error the domain or the application raises on purpose."""

    code = "ledger_error"

    def __init__(self, detail: str, **context: Any) -> None:
        super().__init__(detail)
        self.detail = detail
        self.context = context


class NotFound(LedgerError):
    """Raised when an id names nothing this tenant can see (including another tenant's)."""

    code = "not_found"


class InvalidInput(LedgerError):
    """Raised when a value is well-formed but not acceptable (unknown currency, bad country)."""

    code = "invalid_input"


class StateConflict(LedgerError):
    """Raised when a command is not allowed in the aggregate's current state."""

    code = "state_conflict"


class InvalidTransition(StateConflict):
    """Raised when a document's status does not allow the command (finalize a paid invoice)."""

    code = "invalid_transition"

    def __init__(self, status: str, action: str) -> None:
        super().__init__(f"cannot {action} an invoice that is {status}", current_status=status)


class PaymentExceedsAmountDue(StateConflict):
    """Raised when a payment is larger than what is still due on the invoice."""

    code = "payment_exceeds_amount_due"


class CreditExceedsInvoice(StateConflict):
    """Raised when a credit would take a line or the invoice below zero, or exceed what
    its outcome allows (the amount due, or what was paid)."""

    code = "credit_exceeds_invoice"


class VersionMismatch(StateConflict):
    """Raised when If-Match names another version than the aggregate's current one."""

    code = "version_mismatch"


class IdempotencyKeyReused(StateConflict):
    """Raised when an Idempotency-Key is sent again with a different request."""

    code = "idempotency_key_reused"


class ConcurrencyExhausted(StateConflict):
    """Raised when a command kept conflicting with concurrent writes and gave up retrying."""

    code = "concurrent_modification"


class AccessDenied(LedgerError):
    """Raised when a caller's role does not allow the action."""

    code = "forbidden"


class PlanLimitExceeded(LedgerError):
    """Raised when a command would take the tenant past a cap of its service plan (invoices
    or usage events per month, live API keys); nothing is recorded."""

    code = "plan_limit_exceeded"
