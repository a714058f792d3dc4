"""Invoice and credit-note JSON as the API returns it, for the PDF tests and benchmark."""

from __future__ import annotations

import struct
import zlib
from datetime import date
from decimal import Decimal
from typing import Any

from ledger.totals import compute_totals, line_net

SELLER_DE: dict[str, Any] = {
    "legal_name": "Müller & Söhne Maschinenbau GmbH",
    "address": {
        "line1": "Hauptstraße 5",
        "line2": "Gebäude C, 3. OG",
        "city": "München",
        "postal_code": "80331",
        "region": None,
        "country": "DE",
    },
    "country": "DE",
    "vat_id": "DE123456789",
    "registration_number": "HRB 123456, Amtsgericht München",
    "bank": {"iban": "DE89370400440532013000", "bic": "COBADEFFXXX", "bank_name": "Commerzbank"},
}
BUYER_DE: dict[str, Any] = {
    "customer_id": "7d1b0c1e-0000-4000-8000-000000000001",
    "name": "Bäckerei Schröder GmbH",
    "address": {"line1": "Domstraße 12", "city": "Köln", "postal_code": "50667", "country": "DE"},
    "country": "DE",
    "region": None,
    "vat_id": "DE987654321",
    "kind": "business",
}
SELLER_FR: dict[str, Any] = {
    "legal_name": "Société Générale d'Équipements SARL",
    "address": {
        "line1": "12 rue de la République",
        "city": "Lyon",
        "postal_code": "69002",
        "country": "FR",
    },
    "country": "FR",
    "vat_id": "FR12345678901",
    "registration_number": "RCS Lyon 123 456 789",
    "bank": {
        "iban": "FR7630006000011234567890189",
        "bic": "AGRIFRPP",
        "bank_name": "Crédit Agricole",
    },
}
BUYER_PL: dict[str, Any] = {
    "name": "Zakład Usług Łączności Sp. z o.o.",
    "address": {
        "line1": "ul. Żółkiewskiego 17",
        "city": "Łódź",
        "postal_code": "90-001",
        "country": "PL",
    },
    "country": "PL",
    "vat_id": "PL5260250274",
    "kind": "business",
}
BUYER_US: dict[str, Any] = {
    "name": "Acme Corporation",
    "address": {
        "line1": "500 Congress Avenue",
        "line2": "Suite 1200",
        "city": "Austin",
        "postal_code": "78701",
        "region": "TX",
        "country": "US",
    },
    "country": "US",
    "vat_id": None,
    "kind": "business",
}
SELLER_IN: dict[str, Any] = {
    "legal_name": "Shree Ganesh Textiles Pvt. Ltd.",
    "address": {
        "line1": "14, MG Road",
        "city": "Bengaluru",
        "postal_code": "560001",
        "region": "Karnataka",
        "country": "IN",
    },
    "country": "IN",
    "vat_id": "29ABCDE1234F1Z5",
    "bank": {"iban": None, "bic": "HDFC0000123", "bank_name": "HDFC Bank, MG Road"},
}
BUYER_IN: dict[str, Any] = {
    "name": "Kaveri Retail LLP",
    "address": {
        "line1": "88, Residency Road",
        "city": "Bengaluru",
        "postal_code": "560025",
        "region": "Karnataka",
        "country": "IN",
    },
    "country": "IN",
    "vat_id": "29AAAFK1234L1Z2",
    "kind": "business",
}
BUYER_CZ: dict[str, Any] = {
    "name": "Dřevařské závody Třeboň s.r.o.",
    "address": {
        "line1": "Žižkova 1428",
        "city": "Třeboň",
        "postal_code": "379 01",
        "country": "CZ",
    },
    "country": "CZ",
    "vat_id": "CZ12345678",
    "kind": "business",
}

REVERSE_CHARGE_FR = (
    "Autoliquidation : TVA due par le preneur, article 196 de la directive 2006/112/CE."
)
EXPORT_NOTE = "Export delivery, exempt from VAT under § 4 No. 1a and § 6 UStG."
GST_NOTE = "Place of supply: Karnataka (29). Tax payable under reverse charge: No."
LONG_DESCRIPTION = (
    "Wartung und Instandsetzung der Teigknetmaschine Typ KM-500 einschließlich Austausch "
    "des Antriebsriemens, Kalibrierung der Drehzahlregelung und Sicherheitsprüfung nach "
    "DGUV Vorschrift 3, Protokoll liegt bei."
)


def line(
    description: str,
    quantity: str,
    price: str,
    rate: str,
    category: str = "S",
    country: str | None = "DE",
) -> dict[str, Any]:
    return {
        "description": description,
        "quantity": Decimal(quantity),
        "unit_price": Decimal(price),
        "kind": "services",
        "tax_category": category,
        "tax_rate": Decimal(rate),
        "tax_country": country,
    }


def invoice(
    seller: dict[str, Any],
    buyer: dict[str, Any],
    lines: list[dict[str, Any]],
    currency: str = "EUR",
    *,
    number: str = "INV-2026-000042",
    status: str = "open",
    paid: str = "0",
    notes: list[str] | None = None,
    memo: str | None = None,
) -> dict[str, Any]:
    """`InvoiceOut` JSON: nets and totals computed by the ledger's own rules."""
    priced = [
        {**ln, "net_amount": line_net(ln["quantity"], ln["unit_price"], currency)} for ln in lines
    ]
    totals = compute_totals(priced, currency)
    amount_paid = Decimal(paid)
    due = Decimal(0) if status in ("draft", "void") else totals.total - amount_paid
    data: dict[str, Any] = _json(
        {
            "id": "0b9e5f7a-0000-4000-8000-000000000042",
            "number": None if status == "draft" else number,
            "status": status,
            "customer_id": buyer.get("customer_id"),
            "currency": currency,
            "issue_date": None if status == "draft" else date(2026, 11, 23),
            "due_date": None if status == "draft" else date(2026, 12, 7),
            "supply_date": date(2026, 11, 20),
            "seller": seller,
            "buyer": buyer,
            "lines": priced,
            "tax_breakdown": totals.tax_breakdown,
            "subtotal": totals.subtotal,
            "tax_total": totals.tax_total,
            "total": totals.total,
            "amount_paid": amount_paid,
            "amount_credited": Decimal(0),
            "amount_due": due,
            "payments": [],
            "notes": notes or [],
            "memo": memo,
            "version": 3,
        }
    )
    return data


def _json(value: Any) -> Any:
    if isinstance(value, dict):
        return {k: _json(v) for k, v in value.items()}
    if isinstance(value, list):
        return [_json(v) for v in value]
    if isinstance(value, Decimal | date):
        return str(value)
    return value


def domestic_de(**kw: Any) -> dict[str, Any]:
    return invoice(
        SELLER_DE,
        BUYER_DE,
        [
            line("Wartungsvertrag Backstraße, November 2026", "1", "1250", "19"),
            line(LONG_DESCRIPTION, "3.5", "84.50", "19"),
            line("Ersatzteil Dichtungssatz DS-12", "12", "4.95", "19"),
            line("Fachbuch „Brotbacken für Profis“", "2", "39.90", "7"),
        ],
        paid="500.00",
        memo="Ihre Bestellung 4711 vom 02.11.2026",
        **kw,
    )


def reverse_charge_fr(**kw: Any) -> dict[str, Any]:
    return invoice(
        SELLER_FR,
        BUYER_PL,
        [
            line(
                "Prestation de conseil \u2013 intégration logicielle", "10", "950", "0", "AE", "PL"
            ),
            line("Déplacement et hébergement à Łódź", "1", "1234.56", "0", "AE", "PL"),
        ],
        number="FA-2026-0107",
        notes=[REVERSE_CHARGE_FR],
        **kw,
    )


def export_us(**kw: Any) -> dict[str, Any]:
    return invoice(
        SELLER_DE,
        BUYER_US,
        [
            line("Dough kneading machine KM-500", "2", "18400", "0", "G"),
            line("Spare parts kit, 12 months", "2", "1290.00", "0", "G"),
            line("Sea freight Hamburg \u2013 Houston (FOB)", "1", "2150", "0", "G"),
        ],
        currency="USD",
        number="INV-2026-000043",
        notes=[EXPORT_NOTE],
        **kw,
    )


def gst_india(**kw: Any) -> dict[str, Any]:
    data = invoice(
        SELLER_IN,
        BUYER_IN,
        [
            line("Cotton saree, handloom, Mysore silk border", "40", "1850", "18", "S", "IN"),
            line("Block-printed bedsheet set, double", "25", "1499", "18", "S", "IN"),
            line("Khadi kurta fabric, per metre", "120", "240", "5", "S", "IN"),
        ],
        currency="INR",
        number="GST/2026-27/0042",
        notes=[GST_NOTE],
        **kw,
    )
    for group in data["tax_breakdown"]:
        half_rate = Decimal(group["tax_rate"]) / 2
        half = Decimal(group["tax_amount"]) / 2
        group["components"] = [
            {"name": "CGST", "rate": str(half_rate.normalize()), "amount": str(half)},
            {"name": "SGST", "rate": str(half_rate.normalize()), "amount": str(half)},
        ]
    return data


def central_europe(**kw: Any) -> dict[str, Any]:
    """Polish and Czech letters in the parties and lines."""
    return invoice(
        SELLER_DE,
        BUYER_CZ,
        [
            line("Příliš žluťoučký kůň úpěl ďábelské ódy", "1", "100", "0", "K", "DE"),
            line("Zażółć gęślą jaźń — ĄĆĘŁŃÓŚŹŻ", "2", "50", "0", "K", "DE"),
        ],
        number="INV-2026-000044",
        notes=["Innergemeinschaftliche Lieferung."],
        **kw,
    )


def long_invoice(count: int = 120, **kw: Any) -> dict[str, Any]:
    lines = [
        line(f"Line {n:03d}: consulting, backend work", "1", f"{100 + n}.00", "19")
        for n in range(1, count + 1)
    ]
    return invoice(SELLER_DE, BUYER_DE, lines, number="INV-2026-000120", **kw)


def ten_lines() -> dict[str, Any]:
    return long_invoice(10)


def credit_note(**kw: Any) -> dict[str, Any]:
    data = invoice(
        SELLER_DE,
        BUYER_DE,
        [
            line("Gutschrift: Rückgabe Ersatzteil Dichtungssatz DS-12", "4", "4.95", "19"),
        ],
        number="CN-2026-000001",
        **kw,
    )
    data["invoice_number"] = "INV-2026-000042"  # as CreditNoteOut has them
    data["invoice_issue_date"] = "2026-03-01"
    data["reason"] = "Rückgabe unbenutzter Teile"
    data["status"] = "issued"
    for key in ("due_date", "amount_paid", "amount_due", "amount_credited"):
        data.pop(key)
    return data


def logo_png(width: int = 240, height: int = 80) -> bytes:
    """A small two-colour PNG, made here so the tests need no image file."""
    rows = b"".join(
        b"\x00"
        + b"".join(
            (b"\x1d\x4f\x91" if (x // 20 + y // 20) % 2 == 0 or y > 60 else b"\xf0\xa0\x20")
            for x in range(width)
        )
        for y in range(height)
    )

    def chunk(kind: bytes, data: bytes) -> bytes:
        body = kind + data
        return struct.pack(">I", len(data)) + body + struct.pack(">I", zlib.crc32(body))

    header = struct.pack(">IIBBBBB", width, height, 8, 2, 0, 0, 0)
    return (
        b"\x89PNG\r\n\x1a\n"
        + chunk(b"IHDR", header)
        + chunk(b"IDAT", zlib.compress(rows, 9))
        + chunk(b"IEND", b"")
    )
