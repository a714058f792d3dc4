"""The tenant most tests and benchmarks register: a German GmbH invoicing in EUR."""

from typing import Any

TENANT: dict[str, Any] = {
    "legal_name": "Muster GmbH",
    "address": {"line1": "Hauptstr. 1", "city": "Berlin", "postal_code": "10115", "country": "DE"},
    "country": "DE",
    "vat_id": "DE136695976",
    "currency": "EUR",
    "invoice_prefix": "INV",
    "payment_terms_days": 14,
    "locale": "de",
    # Most tests type their rates; the tax engine's own tests use tenants that do not.
    "allow_tax_rate_override": True,
}
