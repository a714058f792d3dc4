"""What the report benchmark's tenants sell: customers, baskets and a year of issue dates.

Three tenants: a German online seller (domestic, intra-EU B2B goods and services, OSS sales
to consumers, exports), an Indian one (GST: B2B by GSTIN, B2C within and across states,
large B2C, exports) and a small Dutch one whose documents are noise in the same tables.
Customers are the domain's own `Customer` aggregates with tax ids that pass the offline
check; the plan fixes every invoice's issue date, number and fate (credited, voided).
"""

from __future__ import annotations

import random
from dataclasses import dataclass
from datetime import date, timedelta
from decimal import Decimal
from typing import Any
from uuid import UUID

from ledger.commands.customers import with_tax_id_check
from ledger.domain.customer import Customer
from ledger.tax import check_tax_id

YEAR = 2025
CREDITED, VOIDED = 0.03, 0.005  # shares of invoices later credited (2/3 partly) or voided


@dataclass(frozen=True)
class Item:
    description: str
    kind: str  # goods, services, digital
    tax_class: str | None  # None: standard
    low: float  # unit price range, in the invoice's currency
    high: float


@dataclass(frozen=True)
class Segment:
    """A share of a tenant's invoices: who buys (countries, business or consumer) and what."""

    share: float
    kind: str
    countries: tuple[str, ...]
    customers: int
    baskets: tuple[tuple[Item, ...], ...]
    regions: tuple[str, ...] = ()  # India: GST state codes of the customers
    foreign_currency: bool = False  # invoiced in the customer's currency, at a daily rate


@dataclass(frozen=True)
class CompanySpec:
    key: str
    tenant: dict[str, Any]  # the POST /v1/tenants body
    segments: tuple[Segment, ...]


@dataclass(frozen=True)
class Client:
    """A customer as invoices see it: the aggregate's id, profile and buyer snapshot."""

    id: UUID
    profile: dict[str, Any]
    snapshot: dict[str, Any]
    currency: str
    baskets: tuple[int, ...]  # what this customer buys: two of its segment's baskets


@dataclass(frozen=True)
class Company:
    """A registered tenant with its customers per segment."""

    spec: CompanySpec
    tenant_id: UUID
    profile: dict[str, Any]
    seller: dict[str, Any]
    clients: tuple[tuple[Client, ...], ...]
    invoices: int


@dataclass(frozen=True)
class Fate:
    """What happens to an invoice after it is finalized: credited (all or half of its first
    line) or voided, on `day` (an ordinal); credit notes carry their number."""

    kind: str  # credit_full, credit_half, void
    day: int
    number: str = ""


@dataclass(frozen=True)
class Chunk:
    """One month of one tenant's invoices, generated and written by one worker."""

    company: int
    month: int
    first: int  # the index of its first invoice in the tenant's year
    days: tuple[int, ...]  # issue dates (ordinals), ascending as numbers are
    fates: dict[int, Fate]  # by invoice index


CONSULTING = Item("Consulting", "services", None, 150, 2400)
LICENCE = Item("Software licence", "digital", None, 9, 240)
HARDWARE = Item("Hardware", "goods", None, 40, 1800)
BOOKS = Item("Books", "goods", "reduced", 8, 60)
TRAINING = Item("Accredited training", "services", "exempt", 300, 1500)
SOLAR = Item("Solar module", "goods", "zero", 180, 900)
EU_BUSINESS = ("FR", "NL", "IT", "AT", "BE", "PL", "SE", "ES")
_OFFICE = ((CONSULTING,), (HARDWARE, CONSULTING), (LICENCE,), (TRAINING,), (SOLAR, HARDWARE))
_SHOP = ((BOOKS,), (HARDWARE,), (LICENCE,), (SOLAR,), (BOOKS, HARDWARE), (BOOKS, LICENCE))
_EU_TRADE = ((HARDWARE,), (HARDWARE, BOOKS), (CONSULTING,), (LICENCE,), (CONSULTING, HARDWARE))
_EXPORT = ((HARDWARE,), (CONSULTING,), (HARDWARE, LICENCE))

MUSTER = CompanySpec(
    "DE",
    {
        "legal_name": "Muster Versand GmbH",
        "address": {"line1": "Hauptstr. 1", "city": "Berlin", "country": "DE"},
        "country": "DE",
        "vat_id": "DE136695976",
        "currency": "EUR",
        "locale": "de",
        "oss_registered": True,
    },
    (
        Segment(0.30, "business", ("DE",), 400, _OFFICE),
        Segment(0.20, "consumer", ("DE",), 4000, _SHOP),
        Segment(0.18, "business", EU_BUSINESS, 400, _EU_TRADE),  # K and AE
        Segment(0.20, "consumer", (*EU_BUSINESS, "IE", "PT"), 4000, _SHOP[1:3]),  # OSS
        Segment(0.12, "business", ("US", "CH", "GB", "NO"), 300, _EXPORT, foreign_currency=True),
    ),
)

SAAS = Item("SaaS subscription", "services", None, 500, 24000)
PARTS = Item("Spare parts", "goods", None, 200, 40000)
FOOD = Item("Packaged food", "goods", "reduced", 80, 4000)
DRINKS = Item("Aerated drinks", "goods", "demerit", 40, 1500)
MACHINE = Item("CNC machine", "goods", None, 110_000, 450_000)
OTHER_STATES = ("29", "07", "33", "24", "09", "19", "06", "36", "32", "04")
_TRADE = ((SAAS,), (PARTS,), (PARTS, FOOD), (FOOD, DRINKS))
_RETAIL = ((FOOD,), (DRINKS, FOOD), (SAAS,), (PARTS,))

ACME = CompanySpec(
    "IN",
    {
        "legal_name": "Acme India Pvt Ltd",
        "address": {"line1": "1 MG Road", "city": "Mumbai", "country": "IN"},
        "country": "IN",
        "region": "27",
        "vat_id": "27AAPFU0939F1ZV",
        "currency": "INR",
        "locale": "en",
    },
    (
        Segment(0.14, "business", ("IN",), 300, _TRADE, ("27",)),  # B2B within the state
        Segment(0.20, "business", ("IN",), 600, _TRADE, OTHER_STATES),
        Segment(0.32, "consumer", ("IN",), 4000, _RETAIL, ("27",)),  # B2C small
        Segment(0.24, "consumer", ("IN",), 4000, _RETAIL, OTHER_STATES),
        Segment(0.02, "consumer", ("IN",), 400, ((MACHINE,),), OTHER_STATES),  # B2C large
        Segment(0.08, "business", ("US", "GB", "AE", "SG"), 200, _TRADE[:2], foreign_currency=True),
    ),
)

VOORBEELD = CompanySpec(
    "NL",
    {
        "legal_name": "Voorbeeld BV",
        "address": {"line1": "Damrak 1", "city": "Amsterdam", "country": "NL"},
        "country": "NL",
        "vat_id": "NL004495445B01",
        "currency": "EUR",
        "locale": "en",
    },
    (
        Segment(0.45, "business", ("NL",), 200, _OFFICE),
        Segment(0.40, "consumer", ("NL",), 1000, _SHOP),
        Segment(0.15, "business", ("DE", "BE"), 100, _EU_TRADE),
    ),
)

CURRENCY_OF = {"US": "USD", "CH": "CHF", "GB": "GBP", "NO": "NOK", "AE": "AED", "SG": "SGD"}
# Units of the tenant's currency per unit of the invoice's, around which the daily rate moves.
RATES = {
    **{("EUR", c): r for c, r in (("USD", 0.92), ("CHF", 1.05), ("GBP", 1.18), ("NOK", 0.085))},
    **{("INR", c): r for c, r in (("USD", 84.2), ("GBP", 107.5), ("AED", 22.9), ("SGD", 62.8))},
}
# Tax id shapes (# digit, % digit 1-9, @ letter, ? digit or letter); drawn until valid.
_TAX_ID_SHAPES = {
    shape[:2]: shape
    for shape in (
        *("DE%########", "FR##%########", "NL#########B0%", "IT%######0%##", "ATU########"),
        *("BE0%########", "PL%#########", "SE%#########01", "ES@########"),
    )
}


def exchange_rate(tenant_currency: str, currency: str, day: date) -> Decimal:
    """The day's rate: the base rate moved by a slow wave and a daily wiggle, 4 decimals."""
    if currency == tenant_currency:
        return Decimal(1)
    base = RATES[(tenant_currency, currency)]
    n = day.toordinal()
    moved = base * (1 + 0.03 * ((n % 97) / 97 - 0.5) + 0.004 * ((n * 7919) % 11 - 5) / 5)
    return Decimal(f"{moved:.4f}")


def clients(
    rng: random.Random, tenant_id: UUID, spec: CompanySpec
) -> tuple[tuple[Client, ...], ...]:
    """The customers of each segment, created as the application creates them."""
    currency = spec.tenant["currency"]
    made = []
    for s, segment in enumerate(spec.segments):
        group = []
        for n in range(segment.customers):
            country = rng.choice(segment.countries)
            profile: dict[str, Any] = {
                "name": f"{'Firma' if segment.kind == 'business' else 'Kunde'} {s}-{n}",
                "country": country,
                "kind": segment.kind,
                "address": {"line1": f"Street {n}", "city": "City", "country": country},
            }
            if segment.regions:
                profile["region"] = rng.choice(segment.regions)
            if segment.kind == "business" and (country in _TAX_ID_SHAPES or country == "IN"):
                profile["vat_id"] = _tax_id(rng, country, profile.get("region"))
            customer = Customer(tenant_id=tenant_id, profile=with_tax_id_check(profile))
            own = CURRENCY_OF.get(country, currency) if segment.foreign_currency else currency
            usual = tuple(rng.sample(range(len(segment.baskets)), min(2, len(segment.baskets))))
            snapshot = customer.buyer_snapshot()
            group.append(Client(customer.id, customer.profile, snapshot, own, usual))
        made.append(tuple(group))
    return tuple(made)


def _tax_id(rng: random.Random, country: str, region: str | None) -> str:
    shape = f"{region}AAAC@####@%Z?" if country == "IN" else _TAX_ID_SHAPES[country]
    for _ in range(20_000):
        candidate = "".join(_draw(rng, ch) for ch in shape)
        if check_tax_id(country, candidate).is_valid:
            return candidate
    raise RuntimeError(f"no valid tax id of shape {shape} drawn")


def _draw(rng: random.Random, ch: str) -> str:
    pools = {"#": "0123456789", "%": "123456789", "@": "ABCDEFGHIJKLMNOPQRSTUVWXYZ"}
    pools["?"] = pools["#"] + pools["@"]
    return rng.choice(pools[ch]) if ch in pools else ch


def plan(company: int, spec: CompanySpec, invoices: int, seed: int) -> list[Chunk]:
    """A year of issue dates (fewer at weekends, more before Christmas), numbered in date
    order as the gapless sequence requires, with credit notes and voids, cut into months."""
    rng = random.Random(f"{seed}/{spec.key}")
    first = date(YEAR, 1, 1)
    year = [first + timedelta(days=d) for d in range((date(YEAR + 1, 1, 1) - first).days)]
    weights = [(0.25 if d.weekday() >= 5 else 1.0) * (1.3 if d.month == 12 else 1.0) for d in year]
    days = sorted(d.toordinal() for d in rng.choices(year, weights, k=invoices))
    fates: dict[int, Fate] = {}
    credits: list[tuple[int, int]] = []
    for i, day in enumerate(days):
        draw = rng.random()
        if draw < CREDITED:
            kind = "credit_full" if draw < CREDITED / 3 else "credit_half"
            fates[i] = Fate(kind, day + rng.randint(1, 45))
            credits.append((fates[i].day, i))
        elif draw < CREDITED + VOIDED:
            fates[i] = Fate("void", day + rng.randint(0, 5))
    prefix, counters = spec.tenant.get("credit_note_prefix", "CN"), dict[int, int]()
    for day, i in sorted(credits):
        on = date.fromordinal(day)
        counters[on.year] = counters.get(on.year, 0) + 1
        fates[i] = Fate(fates[i].kind, day, f"{prefix}-{on.year}-{counters[on.year]:06d}")
    chunks, start = [], 0
    for month in range(1, 13):
        end = start
        while end < len(days) and date.fromordinal(days[end]).month == month:
            end += 1
        mine = {i: f for i, f in fates.items() if start <= i < end}
        chunks.append(Chunk(company, month, start, tuple(days[start:end]), mine))
        start = end
    return chunks
