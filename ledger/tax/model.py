"""What the tax engine takes (seller, buyer, line) and what it decides per line."""

from __future__ import annotations

from dataclasses import dataclass
from decimal import Decimal
from enum import StrEnum

from ledger.tax.tax_ids import TaxIdCheck


class Category(StrEnum):
    """EN 16931 VAT category codes (BT-151 / BT-118, UNCL5305 subset)."""

    STANDARD = "S"
    ZERO = "Z"
    EXEMPT = "E"
    REVERSE_CHARGE = "AE"
    INTRA_COMMUNITY = "K"
    EXPORT = "G"
    OUTSIDE_SCOPE = "O"


class SupplyKind(StrEnum):
    GOODS = "goods"
    SERVICES = "services"
    # Telecom, broadcasting and electronically supplied services (art. 58 Directive 2006/112/EC).
    DIGITAL = "digital"


class BuyerKind(StrEnum):
    BUSINESS = "business"
    CONSUMER = "consumer"


class TaxClass(StrEnum):
    """A product's rate class; the rate files give each class a rate per country and date."""

    STANDARD = "standard"
    REDUCED = "reduced"  # the country's first (lower) reduced rate, or its only one
    REDUCED_2 = "reduced_2"  # its second (higher) reduced rate, where there is one
    SUPER_REDUCED = "super_reduced"
    PARKING = "parking"
    DEMERIT = "demerit"  # India's top GST slab (28% until 2025-09-21, 40% from 2025-09-22)
    ZERO = "zero"  # zero-rated product: category Z, no rate lookup
    EXEMPT = "exempt"  # exempt product: category E, no rate lookup


class Rule(StrEnum):
    """The rule that decided a line: a stable code, stored with the decision."""

    DOMESTIC = "domestic"
    EU_B2B_GOODS_IC_SUPPLY = "eu_b2b_goods_ic_supply"
    EU_B2B_SERVICES_REVERSE_CHARGE = "eu_b2b_services_reverse_charge"
    EU_B2C_DISTANCE_BELOW_THRESHOLD = "eu_b2c_distance_below_threshold"
    EU_B2C_OSS_DESTINATION = "eu_b2c_oss_destination"
    EU_B2C_NON_UNION_OSS = "eu_b2c_non_union_oss"
    B2C_SERVICES_AT_SUPPLIER = "b2c_services_at_supplier"
    EXPORT = "export"
    OUTSIDE_SCOPE = "outside_scope"
    UK_DOMESTIC = "uk_domestic"
    IN_INTRA_STATE = "in_intra_state"
    IN_INTER_STATE = "in_inter_state"
    EXPLICIT_OVERRIDE = "explicit_override"


class NoteCode(StrEnum):
    """Codes for invoice wording (`TaxDecision.notes`) and for advisories about the decision."""

    IC_SUPPLY = "ic_supply_art138"
    REVERSE_CHARGE = "reverse_charge_art196"
    EXPORT_EU = "export_art146"
    EXPORT_ZERO_RATED = "export_zero_rated"
    OUTSIDE_SCOPE_EU = "outside_scope_art44"
    OUTSIDE_SCOPE = "outside_scope"
    CUSTOMER_ACCOUNTS_FOR_VAT = "customer_accounts_for_vat"
    OSS = "oss_union_scheme"
    NON_UNION_OSS = "oss_non_union_scheme"
    EXEMPT = "exempt"
    IN_EXPORT_UNDER_LUT = "in_export_under_lut"
    # Advisories: said to the caller, not printed as invoice wording.
    BUYER_VAT_ID_INVALID = "buyer_vat_id_invalid"
    BUYER_VAT_ID_MISSING = "buyer_vat_id_missing"


class Party(StrEnum):
    SELLER = "seller"
    BUYER = "buyer"


@dataclass(frozen=True)
class Seller:
    """The invoicing tenant, as the tax rules see it.

    `eu_b2c_sales_*` are the seller's cross-border B2C sales of goods and digital services
    to other member states in EUR (art. 59c), tracked by the caller; the current year's
    figure includes the supply being decided.
    """

    country: str  # ISO 3166-1 alpha-2, or "XI" for Northern Ireland
    vat_id: str | None = None
    region: str | None = None  # India: the two-digit GST state code ("27")
    oss_registered: bool = False
    eu_b2c_sales_current_year: Decimal = Decimal(0)
    eu_b2c_sales_previous_year: Decimal = Decimal(0)
    allows_rate_override: bool = False


@dataclass(frozen=True)
class Buyer:
    country: str  # ISO 3166-1 alpha-2, or "XI"
    kind: BuyerKind = BuyerKind.CONSUMER
    vat_id: str | None = None
    region: str | None = None  # India: the two-digit GST state code of the place of supply


@dataclass(frozen=True)
class SupplyLine:
    """What the rules need of an invoice line."""

    kind: SupplyKind
    tax_class: TaxClass = TaxClass.STANDARD
    tax_rate: Decimal | None = None  # an explicit percentage from the client
    ship_to: str | None = None  # goods: the country they are delivered to (default: buyer's)


@dataclass(frozen=True)
class GstComponent:
    """One head of Indian GST on a line: CGST, SGST, UTGST or IGST at a percentage."""

    tax: str
    rate: Decimal


@dataclass(frozen=True)
class TaxDecision:
    """The tax treatment of one line; frozen into the invoice when it is finalized.

    `country` is the place of supply under the rule applied (the seller's country for
    exempt intra-community supplies and exports; the customer's for reverse charge,
    OSS and supplies outside the scope). `notes` are invoice wording codes;
    `advisories` tell the caller something about the inputs (an invalid buyer VAT id).
    """

    category: Category
    rate: Decimal
    country: str
    rule: Rule
    legal_basis: str
    notes: tuple[NoteCode, ...] = ()
    advisories: tuple[NoteCode, ...] = ()
    tax_ids_shown: tuple[Party, ...] = (Party.SELLER,)
    buyer_treated_as_consumer: bool = False
    buyer_tax_id: TaxIdCheck | None = None
    gst: tuple[GstComponent, ...] = ()
