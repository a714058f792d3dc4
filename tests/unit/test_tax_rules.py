"""Worked cases of the tax engine's rules, each with the rule and legal basis it follows."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date
from decimal import Decimal

import pytest

from ledger.errors import InvalidInput
from ledger.tax import (
    Buyer,
    BuyerKind,
    Category,
    GstComponent,
    GstStateUnknown,
    InvalidTaxRate,
    NoteCode,
    Party,
    RateNotFound,
    RateOverrideRefused,
    Rule,
    Seller,
    SellerTaxIdInvalid,
    SellerTaxIdRequired,
    SupplyKind,
    SupplyLine,
    TaxClass,
    TaxIdStatus,
    UnsupportedTaxCountry,
    ViesStatus,
    decide,
    decide_lines,
)

ON = date(2026, 10, 1)
BIZ, CONSUMER = BuyerKind.BUSINESS, BuyerKind.CONSUMER
GOODS, SERVICES, DIGITAL = SupplyKind.GOODS, SupplyKind.SERVICES, SupplyKind.DIGITAL
S, Z, E = Category.STANDARD, Category.ZERO, Category.EXEMPT
AE, K, G = Category.REVERSE_CHARGE, Category.INTRA_COMMUNITY, Category.EXPORT
OUTSIDE = Category.OUTSIDE_SCOPE

# Ids with valid check digits (python-stdnum 2.2).
DE_ID, FR_ID, NL_ID, IT_ID = "DE136695976", "FR40303265045", "NL004495445B01", "IT00743110157"
BE_ID, ES_ID, GR_ID, AT_ID = "BE0203201340", "ESA13585625", "EL094259216", "ATU13585627"
GB_ID, XI_ID = "GB980780684", "XI980780684"
GSTIN_MH, GSTIN_KA, GSTIN_CH = "27AAPFU0939F1ZV", "29AAPFU0939F1ZR", "04AAPFU0939F1Z3"

DE = Seller("DE", vat_id=DE_ID)
DE_OVER = Seller("DE", vat_id=DE_ID, eu_b2c_sales_current_year=Decimal("12000.01"))
DE_LAST_YEAR_OVER = Seller("DE", vat_id=DE_ID, eu_b2c_sales_previous_year=Decimal(15000))
DE_SMALL = Seller(
    "DE",
    vat_id=DE_ID,
    eu_b2c_sales_previous_year=Decimal(6000),
    eu_b2c_sales_current_year=Decimal(10000),
)
DE_OSS = Seller("DE", vat_id=DE_ID, oss_registered=True)
FR = Seller("FR", vat_id=FR_ID)
NL = Seller("NL", vat_id=NL_ID)
IT = Seller("IT", vat_id=IT_ID)
ES = Seller("ES", vat_id=ES_ID)
IE_OSS = Seller("IE", vat_id="IE6388047V", oss_registered=True)
GB = Seller("GB", vat_id=GB_ID)
XI = Seller("XI", vat_id=XI_ID)
IN_MH = Seller("IN", vat_id=GSTIN_MH)
IN_CH = Seller("IN", vat_id=GSTIN_CH)
CH = Seller("CH", vat_id="CHE-107.787.577 MWST")
NO = Seller("NO", vat_id="NO 995 525 828 MVA")


def line(
    kind: SupplyKind, tax_class: TaxClass = TaxClass.STANDARD, ship_to: str | None = None
) -> SupplyLine:
    return SupplyLine(kind, tax_class, ship_to=ship_to)


@dataclass(frozen=True)
class Expected:
    category: Category
    rate: str
    country: str
    rule: Rule


def case(
    seller: Seller,
    buyer: Buyer,
    supply: SupplyLine,
    expected: Expected,
    on: date = ON,
    *,
    id: str,
) -> object:
    return pytest.param(seller, buyer, supply, on, expected, id=id)


CASES = [
    # --- Domestic: taxed in the seller's state at its rate for the line's class ---
    # Art. 31-32 Directive 2006/112/EC: goods taxed where dispatch begins (at home).
    case(DE, Buyer("DE"), line(GOODS), Expected(S, "19", "DE", Rule.DOMESTIC), id="de-b2c-goods"),
    # Art. 44: B2B service to a customer in the same state: taxed there, reduced class.
    case(
        DE,
        Buyer("DE", BIZ, DE_ID),
        line(SERVICES, TaxClass.REDUCED),
        Expected(S, "7", "DE", Rule.DOMESTIC),
        id="de-b2b-services-reduced",
    ),
    # Art. 98: a reduced rate the product's class names (FR 5.5).
    case(
        FR,
        Buyer("FR"),
        line(GOODS, TaxClass.REDUCED),
        Expected(S, "5.5", "FR", Rule.DOMESTIC),
        id="fr-reduced",
    ),
    # Art. 110 (rates below 5% kept from before 1991): FR super-reduced 2.1.
    case(
        FR,
        Buyer("FR"),
        line(GOODS, TaxClass.SUPER_REDUCED),
        Expected(S, "2.1", "FR", Rule.DOMESTIC),
        id="fr-super-reduced",
    ),
    # Art. 132-135: an exempt product is E at 0 with the exemption wording.
    case(
        NL,
        Buyer("NL"),
        line(SERVICES, TaxClass.EXEMPT),
        Expected(E, "0", "NL", Rule.DOMESTIC),
        id="nl-exempt",
    ),
    # Art. 138(1): no exemption when the buyer's VAT id is of the seller's own state.
    case(
        DE,
        Buyer("FR", BIZ, DE_ID),
        line(GOODS, ship_to="FR"),
        Expected(S, "19", "DE", Rule.DOMESTIC),
        id="de-buyer-with-de-id-goods-to-fr",
    ),
    # Art. 7 (Monaco is French VAT territory): a sale to Monaco is domestic French.
    case(FR, Buyer("MC"), line(GOODS), Expected(S, "20", "FR", Rule.DOMESTIC), id="fr-to-monaco"),
    # --- Intra-community supply of goods: K at 0, art. 138 ---
    # Art. 138(1): goods to a business with another member state's VAT id.
    case(
        DE,
        Buyer("FR", BIZ, FR_ID),
        line(GOODS),
        Expected(K, "0", "DE", Rule.EU_B2B_GOODS_IC_SUPPLY),
        id="de-fr-b2b-goods",
    ),
    # Art. 138(1): same from Italy to the Netherlands.
    case(
        IT,
        Buyer("NL", BIZ, NL_ID),
        line(GOODS, TaxClass.REDUCED),
        Expected(K, "0", "IT", Rule.EU_B2B_GOODS_IC_SUPPLY),
        id="it-nl-b2b-goods",
    ),
    # Art. 138(1): a Greek buyer's VAT id carries the EL prefix.
    case(
        ES,
        Buyer("GR", BIZ, GR_ID),
        line(GOODS),
        Expected(K, "0", "ES", Rule.EU_B2B_GOODS_IC_SUPPLY),
        id="es-gr-b2b-goods-el-prefix",
    ),
    # Art. 138 with the Windsor Framework: EU -> NI goods to an XI VAT id are intra-community.
    case(
        Seller("IE", vat_id="IE6388047V"),
        Buyer("XI", BIZ, XI_ID),
        line(GOODS),
        Expected(K, "0", "IE", Rule.EU_B2B_GOODS_IC_SUPPLY),
        id="ie-xi-b2b-goods",
    ),
    # Windsor Framework: NI -> EU goods to a business are intra-community too.
    case(
        XI,
        Buyer("DE", BIZ, DE_ID),
        line(GOODS),
        Expected(K, "0", "XI", Rule.EU_B2B_GOODS_IC_SUPPLY),
        id="xi-de-b2b-goods",
    ),
    # --- Reverse charge on B2B services: AE at 0, art. 44 + 196 ---
    # Art. 196: B2B service to another member state -> reverse charge.
    case(
        DE,
        Buyer("FR", BIZ, FR_ID),
        line(SERVICES),
        Expected(AE, "0", "FR", Rule.EU_B2B_SERVICES_REVERSE_CHARGE),
        id="de-fr-b2b-services",
    ),
    # Art. 196: B2B digital services are general-rule services too.
    case(
        NL,
        Buyer("DE", BIZ, DE_ID),
        line(DIGITAL),
        Expected(AE, "0", "DE", Rule.EU_B2B_SERVICES_REVERSE_CHARGE),
        id="nl-de-b2b-digital",
    ),
    # Art. 196: a Belgian business customer of a French seller.
    case(
        FR,
        Buyer("BE", BIZ, BE_ID),
        line(SERVICES),
        Expected(AE, "0", "BE", Rule.EU_B2B_SERVICES_REVERSE_CHARGE),
        id="fr-be-b2b-services",
    ),
    # --- An invalid or missing VAT id makes the buyer a consumer ---
    # Art. 138 needs a valid VAT id: with a bad check digit, a distance sale below threshold.
    case(
        DE,
        Buyer("FR", BIZ, "FR41303265045"),
        line(GOODS),
        Expected(S, "19", "DE", Rule.EU_B2C_DISTANCE_BELOW_THRESHOLD),
        id="de-fr-invalid-id-goods",
    ),
    # Art. 45 (Impl. Reg. 282/2011 art. 18): no VAT id -> consumer, taxed where the supplier is.
    case(
        DE,
        Buyer("IT", BIZ),
        line(SERVICES),
        Expected(S, "19", "DE", Rule.B2C_SERVICES_AT_SUPPLIER),
        id="de-it-business-without-id-services",
    ),
    # --- Distance sales to consumers: art. 59c threshold, else destination (OSS) ---
    # Art. 59c: EU-wide B2C sales within EUR 10,000 in both years -> seller's rate.
    case(
        DE_SMALL,
        Buyer("FR"),
        line(GOODS),
        Expected(S, "19", "DE", Rule.EU_B2C_DISTANCE_BELOW_THRESHOLD),
        id="de-fr-b2c-goods-at-threshold",
    ),
    # Art. 33(a) + OSS: above EUR 10,000 this year -> the consumer's state's rate.
    case(
        DE_OVER,
        Buyer("FR"),
        line(GOODS),
        Expected(S, "20", "FR", Rule.EU_B2C_OSS_DESTINATION),
        id="de-fr-b2c-goods-over-threshold",
    ),
    # Art. 58 + 59c: above the threshold last year -> destination from the first euro.
    case(
        DE_LAST_YEAR_OVER,
        Buyer("FR"),
        line(DIGITAL),
        Expected(S, "20", "FR", Rule.EU_B2C_OSS_DESTINATION),
        id="de-fr-b2c-digital-last-year-over",
    ),
    # Art. 59c(3): a seller who opted into OSS taxes at destination under the threshold.
    case(
        DE_OSS,
        Buyer("NL"),
        line(DIGITAL),
        Expected(S, "21", "NL", Rule.EU_B2C_OSS_DESTINATION),
        id="de-nl-b2c-digital-oss",
    ),
    # Art. 33(a) + OSS: the destination's rate for the product's class (FR reduced 5.5).
    case(
        DE_OSS,
        Buyer("FR"),
        line(GOODS, TaxClass.REDUCED),
        Expected(S, "5.5", "FR", Rule.EU_B2C_OSS_DESTINATION),
        id="de-fr-b2c-goods-reduced-oss",
    ),
    # Art. 59c: TBE services to an Austrian consumer below the threshold -> German rate.
    case(
        DE,
        Buyer("AT"),
        line(DIGITAL),
        Expected(S, "19", "DE", Rule.EU_B2C_DISTANCE_BELOW_THRESHOLD),
        id="de-at-b2c-digital-below",
    ),
    # Art. 33(a) + Windsor Framework: OSS distance sale to a Northern Ireland consumer.
    case(
        IE_OSS,
        Buyer("XI"),
        line(GOODS),
        Expected(S, "20", "XI", Rule.EU_B2C_OSS_DESTINATION),
        id="ie-xi-b2c-goods-oss",
    ),
    # Art. 45: general services to a consumer are taxed where the supplier is.
    case(
        FR,
        Buyer("DE"),
        line(SERVICES),
        Expected(S, "20", "FR", Rule.B2C_SERVICES_AT_SUPPLIER),
        id="fr-de-b2c-services",
    ),
    # Art. 33(a): the ship-to country decides for goods, not the buyer's address.
    case(
        DE_OSS,
        Buyer("DE"),
        line(GOODS, ship_to="IT"),
        Expected(S, "22", "IT", Rule.EU_B2C_OSS_DESTINATION),
        id="de-b2c-goods-shipped-to-it",
    ),
    # --- Exports and supplies outside the scope ---
    # Art. 146(1)(a): goods leaving the EU -> G at 0 with export wording.
    case(DE, Buyer("US"), line(GOODS), Expected(G, "0", "DE", Rule.EXPORT), id="de-us-goods"),
    # Art. 146(1)(a): Switzerland is outside the EU.
    case(FR, Buyer("CH", BIZ), line(GOODS), Expected(G, "0", "FR", Rule.EXPORT), id="fr-ch-goods"),
    # Art. 146(1)(a) after Brexit: EU -> Great Britain goods are exports.
    case(
        DE,
        Buyer("GB", BIZ, GB_ID),
        line(GOODS),
        Expected(G, "0", "DE", Rule.EXPORT),
        id="de-gb-goods",
    ),
    # Art. 146 (Åland is outside the EU VAT area though part of Finland).
    case(
        Seller("FI", vat_id=None),
        Buyer("AX"),
        line(GOODS),
        Expected(G, "0", "FI", Rule.EXPORT),
        id="fi-aland-goods",
    ),
    # Art. 44: B2B service to a customer outside the EU -> outside scope.
    case(
        DE,
        Buyer("US", BIZ),
        line(SERVICES),
        Expected(OUTSIDE, "0", "US", Rule.OUTSIDE_SCOPE),
        id="de-us-b2b-services",
    ),
    # Art. 44: B2B service to a UK business; the customer reverse-charges in the UK.
    case(
        DE,
        Buyer("GB", BIZ, GB_ID),
        line(SERVICES),
        Expected(OUTSIDE, "0", "GB", Rule.OUTSIDE_SCOPE),
        id="de-gb-b2b-services",
    ),
    # Art. 44 + Windsor Framework: NI services follow UK rules, so outside the EU scope.
    case(
        FR,
        Buyer("XI", BIZ, XI_ID),
        line(SERVICES),
        Expected(OUTSIDE, "0", "XI", Rule.OUTSIDE_SCOPE),
        id="fr-xi-b2b-services",
    ),
    # Art. 58: TBE services are taxed where the consumer is; outside the EU -> outside scope.
    case(
        DE,
        Buyer("US"),
        line(DIGITAL),
        Expected(OUTSIDE, "0", "US", Rule.OUTSIDE_SCOPE),
        id="de-us-b2c-digital",
    ),
    # Art. 45: other services to a consumer outside the EU stay taxed at the supplier.
    case(
        DE,
        Buyer("US"),
        line(SERVICES),
        Expected(S, "19", "DE", Rule.B2C_SERVICES_AT_SUPPLIER),
        id="de-us-b2c-services",
    ),
    # --- United Kingdom ---
    # VATA 1994 s. 4: UK domestic standard rate 20.
    case(GB, Buyer("GB"), line(GOODS), Expected(S, "20", "GB", Rule.UK_DOMESTIC), id="gb-goods"),
    # VATA 1994 Sch. 7A: UK reduced rate 5.
    case(
        GB,
        Buyer("GB"),
        line(GOODS, TaxClass.REDUCED),
        Expected(S, "5", "GB", Rule.UK_DOMESTIC),
        id="gb-reduced",
    ),
    # VATA 1994 Sch. 8: zero-rated goods (books) -> Z at 0.
    case(
        GB,
        Buyer("GB", BIZ, GB_ID),
        line(GOODS, TaxClass.ZERO),
        Expected(Z, "0", "GB", Rule.UK_DOMESTIC),
        id="gb-zero-rated",
    ),
    # Windsor Framework: GB -> NI goods follow UK domestic rules.
    case(GB, Buyer("XI"), line(GOODS), Expected(S, "20", "GB", Rule.UK_DOMESTIC), id="gb-xi-goods"),
    # VATA 1994 s. 30(6): GB -> EU goods are zero-rated exports.
    case(
        GB,
        Buyer("FR", BIZ, FR_ID),
        line(GOODS),
        Expected(G, "0", "GB", Rule.EXPORT),
        id="gb-fr-goods",
    ),
    # VATA 1994 s. 7A(2)(a): B2B services to an EU business are outside UK scope.
    case(
        GB,
        Buyer("DE", BIZ, DE_ID),
        line(SERVICES),
        Expected(OUTSIDE, "0", "DE", Rule.OUTSIDE_SCOPE),
        id="gb-de-b2b-services",
    ),
    # Art. 58 + non-Union OSS: UK digital services to EU consumers, destination rate, no threshold.
    case(
        GB,
        Buyer("FR"),
        line(DIGITAL),
        Expected(S, "20", "FR", Rule.EU_B2C_NON_UNION_OSS),
        id="gb-fr-b2c-digital",
    ),
    # VATA 1994 Sch. 4A para. 15: UK e-services to a consumer abroad are supplied where they are.
    case(
        GB,
        Buyer("US"),
        line(DIGITAL),
        Expected(OUTSIDE, "0", "US", Rule.OUTSIDE_SCOPE),
        id="gb-us-b2c-digital",
    ),
    # VATA 1994 s. 7A(2)(b): other B2C services abroad stay taxed in the UK.
    case(
        GB,
        Buyer("FR"),
        line(SERVICES),
        Expected(S, "20", "GB", Rule.B2C_SERVICES_AT_SUPPLIER),
        id="gb-fr-b2c-services",
    ),
    # Windsor Framework: NI -> GB goods are UK domestic.
    case(XI, Buyer("GB"), line(GOODS), Expected(S, "20", "XI", Rule.UK_DOMESTIC), id="xi-gb-goods"),
    # Windsor Framework: NI services follow UK rules -> B2B to the EU outside UK scope.
    case(
        XI,
        Buyer("FR", BIZ, FR_ID),
        line(SERVICES),
        Expected(OUTSIDE, "0", "FR", Rule.OUTSIDE_SCOPE),
        id="xi-fr-b2b-services",
    ),
    # Windsor Framework + art. 59c: NI goods to an EU consumer under the threshold, UK rate.
    case(
        XI,
        Buyer("FR"),
        line(GOODS),
        Expected(S, "20", "XI", Rule.EU_B2C_DISTANCE_BELOW_THRESHOLD),
        id="xi-fr-b2c-goods-below",
    ),
    # Art. 146 (NI goods follow EU rules): NI -> US goods are exports.
    case(XI, Buyer("US"), line(GOODS), Expected(G, "0", "XI", Rule.EXPORT), id="xi-us-goods"),
    # --- India GST ---
    # CGST Act s. 9 + IGST Act s. 8: same state -> intra-state (CGST + SGST).
    case(
        IN_MH,
        Buyer("IN", region="27"),
        line(SERVICES),
        Expected(S, "18", "IN", Rule.IN_INTRA_STATE),
        id="in-intra-services",
    ),
    # IGST Act s. 7: buyer's GSTIN in another state -> inter-state (IGST).
    case(
        IN_MH,
        Buyer("IN", BIZ, GSTIN_KA),
        line(GOODS),
        Expected(S, "18", "IN", Rule.IN_INTER_STATE),
        id="in-inter-goods-gstin",
    ),
    # GST Council (56th): the 40% demerit slab from 2025-09-22.
    case(
        IN_MH,
        Buyer("IN", region="29"),
        line(GOODS, TaxClass.DEMERIT),
        Expected(S, "40", "IN", Rule.IN_INTER_STATE),
        date(2025, 9, 22),
        id="in-demerit-40",
    ),
    # GST rate schedule before 2025-09-22: 28% top slab.
    case(
        IN_MH,
        Buyer("IN", region="29"),
        line(GOODS, TaxClass.DEMERIT),
        Expected(S, "28", "IN", Rule.IN_INTER_STATE),
        date(2025, 9, 21),
        id="in-demerit-28",
    ),
    # IGST Act s. 12(2)(b)(ii): B2C service with no buyer state on record -> supplier's state.
    case(
        IN_MH,
        Buyer("IN"),
        line(SERVICES, TaxClass.REDUCED),
        Expected(S, "5", "IN", Rule.IN_INTRA_STATE),
        id="in-b2c-services-no-state",
    ),
    # IGST Act s. 16: export of services -> zero-rated (G) under LUT.
    case(
        IN_MH,
        Buyer("US", BIZ),
        line(SERVICES),
        Expected(G, "0", "IN", Rule.EXPORT),
        id="in-us-export-services",
    ),
    # IGST Act s. 16: export of goods to an EU consumer -> zero-rated.
    case(IN_MH, Buyer("DE"), line(GOODS), Expected(G, "0", "IN", Rule.EXPORT), id="in-de-goods"),
    # --- Switzerland and Norway ---
    # MWSTG art. 25: CH standard 8.1 from 2024.
    case(CH, Buyer("CH"), line(GOODS), Expected(S, "8.1", "CH", Rule.DOMESTIC), id="ch-goods"),
    # MWSTG art. 25(4): CH special rate for accommodation 3.8 (class reduced_2).
    case(
        CH,
        Buyer("CH"),
        line(SERVICES, TaxClass.REDUCED_2),
        Expected(S, "3.8", "CH", Rule.DOMESTIC),
        id="ch-accommodation",
    ),
    # MWSTG (Liechtenstein shares the Swiss VAT area): CH -> LI goods are domestic.
    case(CH, Buyer("LI"), line(GOODS), Expected(S, "8.1", "CH", Rule.DOMESTIC), id="ch-li-goods"),
    # MWSTG art. 23(2)(1): goods exported from CH -> zero-rated export.
    case(CH, Buyer("DE"), line(GOODS), Expected(G, "0", "CH", Rule.EXPORT), id="ch-de-goods"),
    # Mval. s. 5-2: NO food rate 15 (class reduced_2).
    case(
        NO,
        Buyer("NO"),
        line(GOODS, TaxClass.REDUCED_2),
        Expected(S, "15", "NO", Rule.DOMESTIC),
        id="no-food",
    ),
    # Art. 58 + non-Union OSS: NO digital services to an EU consumer at the destination rate.
    case(
        NO,
        Buyer("FR"),
        line(DIGITAL),
        Expected(S, "20", "FR", Rule.EU_B2C_NON_UNION_OSS),
        id="no-fr-b2c-digital",
    ),
    # Mval. ch. 6: B2B services to a foreign business are supplied where the customer is.
    case(
        NO,
        Buyer("SE", BIZ, "SE556188840401"),
        line(SERVICES),
        Expected(OUTSIDE, "0", "SE", Rule.OUTSIDE_SCOPE),
        id="no-se-b2b-services",
    ),
]


@pytest.mark.parametrize(("seller", "buyer", "supply", "on", "expected"), CASES)
def test_worked_case(
    seller: Seller, buyer: Buyer, supply: SupplyLine, on: date, expected: Expected
) -> None:
    decision = decide(seller, buyer, supply, on)
    got = (decision.category, str(decision.rate), decision.country, decision.rule)
    assert got == (expected.category, expected.rate, expected.country, expected.rule)


def test_there_are_at_least_thirty_worked_cases() -> None:
    assert len(CASES) >= 30


# --- Wording, ids shown and advisories per rule ---


def test_intra_community_supply_carries_art_138_wording_and_both_vat_ids() -> None:
    decision = decide(DE, Buyer("FR", BIZ, FR_ID), line(GOODS), ON)
    assert decision.notes == (NoteCode.IC_SUPPLY,)
    assert decision.tax_ids_shown == (Party.SELLER, Party.BUYER)
    assert decision.buyer_tax_id is not None
    assert decision.buyer_tax_id.number == FR_ID


def test_reverse_charge_carries_art_196_wording_and_both_vat_ids() -> None:
    decision = decide(DE, Buyer("FR", BIZ, FR_ID), line(SERVICES), ON)
    assert decision.notes == (NoteCode.REVERSE_CHARGE,)
    assert decision.tax_ids_shown == (Party.SELLER, Party.BUYER)
    assert "196" in decision.legal_basis


def test_export_carries_art_146_wording_from_the_eu_and_zero_rating_wording_from_the_uk() -> None:
    assert decide(DE, Buyer("US"), line(GOODS), ON).notes == (NoteCode.EXPORT_EU,)
    assert decide(GB, Buyer("US"), line(GOODS), ON).notes == (NoteCode.EXPORT_ZERO_RATED,)


def test_b2b_services_to_the_uk_say_the_customer_accounts_for_the_vat() -> None:
    decision = decide(DE, Buyer("GB", BIZ, GB_ID), line(SERVICES), ON)
    assert decision.notes == (NoteCode.OUTSIDE_SCOPE_EU, NoteCode.CUSTOMER_ACCOUNTS_FOR_VAT)


def test_oss_destination_is_marked_for_the_oss_return() -> None:
    assert decide(DE_OSS, Buyer("FR"), line(DIGITAL), ON).notes == (NoteCode.OSS,)
    assert decide(GB, Buyer("FR"), line(DIGITAL), ON).notes == (NoteCode.NON_UNION_OSS,)


def test_exempt_products_carry_the_exemption_wording() -> None:
    decision = decide(NL, Buyer("NL"), line(SERVICES, TaxClass.EXEMPT), ON)
    assert decision.notes == (NoteCode.EXEMPT,)


def test_domestic_invoices_show_only_the_sellers_id() -> None:
    assert decide(DE, Buyer("DE", BIZ, DE_ID), line(GOODS), ON).tax_ids_shown == (Party.SELLER,)


# --- Invalid ids make the buyer a consumer, and the decision says so ---


def test_an_invalid_vat_id_makes_a_business_buyer_a_consumer_and_says_so() -> None:
    decision = decide(DE_OVER, Buyer("FR", BIZ, "FR41303265045"), line(SERVICES), ON)
    assert decision.buyer_treated_as_consumer
    assert decision.advisories == (NoteCode.BUYER_VAT_ID_INVALID,)
    assert decision.buyer_tax_id is not None
    assert decision.buyer_tax_id.status is TaxIdStatus.INVALID
    assert decision.category is Category.STANDARD
    assert decision.rule is Rule.B2C_SERVICES_AT_SUPPLIER
    assert decision.tax_ids_shown == (Party.SELLER,)


def test_an_eu_business_without_a_vat_id_is_a_consumer_for_tax() -> None:
    decision = decide(DE_OVER, Buyer("FR", BIZ), line(DIGITAL), ON)
    assert decision.buyer_treated_as_consumer
    assert decision.advisories == (NoteCode.BUYER_VAT_ID_MISSING,)
    assert (decision.rule, decision.country) == (Rule.EU_B2C_OSS_DESTINATION, "FR")


def test_a_business_outside_the_eu_without_an_id_keeps_its_declared_kind() -> None:
    decision = decide(DE, Buyer("US", BIZ), line(SERVICES), ON)
    assert not decision.buyer_treated_as_consumer
    assert decision.category is Category.OUTSIDE_SCOPE


def test_an_invalid_gb_vat_id_makes_a_uk_business_a_consumer() -> None:
    decision = decide(DE, Buyer("GB", BIZ, "GB980780685"), line(SERVICES), ON)
    assert decision.buyer_treated_as_consumer
    assert decision.rule is Rule.B2C_SERVICES_AT_SUPPLIER


def test_a_consumer_with_a_vat_id_stays_a_consumer() -> None:
    decision = decide(DE, Buyer("FR", CONSUMER, FR_ID), line(GOODS), ON)
    assert decision.rule is Rule.EU_B2C_DISTANCE_BELOW_THRESHOLD
    assert not decision.buyer_treated_as_consumer


# --- The optional VIES step ---


class FakeVies:
    def __init__(self, answer: ViesStatus) -> None:
        self.answer = answer
        self.asked: list[str] = []

    def check(self, vat_id: str) -> ViesStatus:
        self.asked.append(vat_id)
        return self.answer


def test_vies_is_not_checked_by_default() -> None:
    decision = decide(DE, Buyer("FR", BIZ, FR_ID), line(SERVICES), ON)
    assert decision.buyer_tax_id is not None
    assert decision.buyer_tax_id.vies is ViesStatus.NOT_CHECKED


def test_a_vat_id_vies_refuses_makes_the_buyer_a_consumer() -> None:
    vies = FakeVies(ViesStatus.INVALID)
    decision = decide(DE, Buyer("FR", BIZ, FR_ID), line(SERVICES), ON, vies=vies)
    assert vies.asked == [FR_ID]
    assert decision.buyer_treated_as_consumer
    assert decision.advisories == (NoteCode.BUYER_VAT_ID_INVALID,)


def test_vies_confirmation_is_recorded_and_unavailability_keeps_the_offline_answer() -> None:
    for answer in (ViesStatus.VALID, ViesStatus.UNAVAILABLE):
        decision = decide(DE, Buyer("FR", BIZ, FR_ID), line(SERVICES), ON, vies=FakeVies(answer))
        assert decision.rule is Rule.EU_B2B_SERVICES_REVERSE_CHARGE
        assert decision.buyer_tax_id is not None
        assert decision.buyer_tax_id.vies is answer


def test_vies_is_asked_only_about_valid_eu_ids_of_business_buyers() -> None:
    vies = FakeVies(ViesStatus.VALID)
    decide(DE, Buyer("FR"), line(GOODS), ON, vies=vies)
    decide(DE, Buyer("FR", BIZ, "FR41303265045"), line(GOODS), ON, vies=vies)
    decide(DE, Buyer("GB", BIZ, GB_ID), line(GOODS), ON, vies=vies)
    assert vies.asked == []


# --- India: the GST heads ---


def test_intra_state_supply_splits_gst_into_cgst_and_sgst_halves() -> None:
    decision = decide(IN_MH, Buyer("IN", BIZ, GSTIN_MH), line(GOODS, TaxClass.REDUCED), ON)
    assert decision.gst == (
        GstComponent("CGST", Decimal("2.5")),
        GstComponent("SGST", Decimal("2.5")),
    )
    assert decision.tax_ids_shown == (Party.SELLER, Party.BUYER)


def test_inter_state_supply_is_igst_at_the_full_rate() -> None:
    decision = decide(IN_MH, Buyer("IN", BIZ, GSTIN_KA), line(SERVICES), ON)
    assert decision.gst == (GstComponent("IGST", Decimal("18")),)


def test_a_union_territory_without_legislature_levies_utgst() -> None:
    decision = decide(IN_CH, Buyer("IN", region="04"), line(SERVICES), ON)
    assert decision.gst == (GstComponent("CGST", Decimal("9")), GstComponent("UTGST", Decimal("9")))


def test_the_12_percent_slab_before_the_reform_splits_into_6_and_6() -> None:
    decision = decide(
        IN_MH, Buyer("IN", region="27"), line(GOODS, TaxClass.REDUCED_2), date(2025, 9, 1)
    )
    assert decision.gst == (GstComponent("CGST", Decimal("6")), GstComponent("SGST", Decimal("6")))


def test_the_12_percent_slab_is_gone_after_the_reform() -> None:
    with pytest.raises(RateNotFound):
        decide(IN_MH, Buyer("IN", region="27"), line(GOODS, TaxClass.REDUCED_2), ON)


def test_an_indian_export_is_zero_rated_under_lut_without_gst_heads() -> None:
    decision = decide(IN_MH, Buyer("US", BIZ), line(SERVICES), ON)
    assert decision.notes == (NoteCode.IN_EXPORT_UNDER_LUT,)
    assert decision.gst == ()


def test_a_buyer_with_an_invalid_gstin_is_unregistered() -> None:
    decision = decide(IN_MH, Buyer("IN", BIZ, "29AAPFU0939F1ZS", region="29"), line(GOODS), ON)
    assert decision.buyer_treated_as_consumer
    assert decision.advisories == (NoteCode.BUYER_VAT_ID_INVALID,)
    assert decision.rule is Rule.IN_INTER_STATE
    assert decision.tax_ids_shown == (Party.SELLER,)


def test_the_sellers_state_comes_from_its_gstin_and_must_agree_with_its_region() -> None:
    seller = Seller("IN", vat_id=GSTIN_MH, region="29")
    with pytest.raises(InvalidInput):
        decide(seller, Buyer("IN", region="27"), line(SERVICES), ON)


def test_an_indian_seller_needs_a_state() -> None:
    with pytest.raises(GstStateUnknown) as raised:
        decide(Seller("IN"), Buyer("IN", region="27"), line(SERVICES), ON)
    assert raised.value.code == "gst_state_code_required"


def test_indian_goods_need_the_buyers_state() -> None:
    with pytest.raises(GstStateUnknown):
        decide(IN_MH, Buyer("IN"), line(GOODS), ON)


# --- Explicit rates from the client ---


def test_an_explicit_rate_is_kept_and_recorded_when_the_seller_allows_overrides() -> None:
    seller = Seller("DE", vat_id=DE_ID, allows_rate_override=True)
    supply = SupplyLine(GOODS, tax_rate=Decimal("16.00"))
    decision = decide(seller, Buyer("FR", BIZ, FR_ID), supply, ON)
    assert (decision.category, decision.rate, decision.rule) == (
        Category.STANDARD,
        Decimal("16"),
        Rule.EXPLICIT_OVERRIDE,
    )
    assert str(decision.rate) == "16"


def test_an_explicit_zero_rate_is_category_z() -> None:
    seller = Seller("DE", vat_id=DE_ID, allows_rate_override=True)
    decision = decide(seller, Buyer("DE"), SupplyLine(GOODS, tax_rate=Decimal(0)), ON)
    assert (decision.category, decision.rule) == (Category.ZERO, Rule.EXPLICIT_OVERRIDE)


def test_an_explicit_rate_is_refused_when_the_seller_does_not_allow_overrides() -> None:
    with pytest.raises(RateOverrideRefused) as raised:
        decide(DE, Buyer("DE"), SupplyLine(GOODS, tax_rate=Decimal(19)), ON)
    assert isinstance(raised.value, InvalidInput)
    assert raised.value.code == "tax_rate_override_not_allowed"


@pytest.mark.parametrize("rate", ["-1", "100.01", "NaN", "Infinity"])
def test_an_explicit_rate_must_be_a_percentage(rate: str) -> None:
    seller = Seller("DE", vat_id=DE_ID, allows_rate_override=True)
    with pytest.raises(InvalidTaxRate) as raised:
        decide(seller, Buyer("DE"), SupplyLine(GOODS, tax_rate=Decimal(rate)), ON)
    assert raised.value.code == "tax_rate_invalid"


def test_an_explicit_indian_rate_is_split_into_gst_heads() -> None:
    seller = Seller("IN", vat_id=GSTIN_MH, allows_rate_override=True)
    supply = SupplyLine(GOODS, tax_rate=Decimal(3))
    decision = decide(seller, Buyer("IN", region="27"), supply, ON)
    assert decision.gst == (
        GstComponent("CGST", Decimal("1.5")),
        GstComponent("SGST", Decimal("1.5")),
    )


# --- Refusals ---


def test_a_seller_country_without_rules_is_refused() -> None:
    with pytest.raises(UnsupportedTaxCountry) as raised:
        decide(Seller("US"), Buyer("US"), line(GOODS), ON)
    assert raised.value.code == "tax_country_not_supported"


def test_a_sellers_invalid_vat_id_is_refused() -> None:
    with pytest.raises(SellerTaxIdInvalid) as raised:
        decide(Seller("DE", vat_id="DE136695977"), Buyer("DE"), line(GOODS), ON)
    assert raised.value.code == "seller_tax_id_invalid"


def test_intra_community_supply_needs_the_sellers_vat_id() -> None:
    with pytest.raises(SellerTaxIdRequired):
        decide(Seller("DE"), Buyer("FR", BIZ, FR_ID), line(GOODS), ON)


def test_a_class_the_country_does_not_have_is_refused_with_the_date() -> None:
    with pytest.raises(RateNotFound) as raised:
        decide(Seller("DK"), Buyer("DK"), line(GOODS, TaxClass.REDUCED), ON)
    assert raised.value.code == "tax_rate_not_found"
    assert raised.value.context == {"country": "DK", "tax_class": "reduced", "date": "2026-10-01"}


def test_an_unknown_country_code_is_refused() -> None:
    with pytest.raises(InvalidInput):
        decide(DE, Buyer("EL"), line(GOODS), ON)


def test_decide_lines_decides_each_line() -> None:
    lines = [line(GOODS), line(SERVICES)]
    rules = [d.rule for d in decide_lines(DE, Buyer("FR", BIZ, FR_ID), lines, ON)]
    assert rules == [Rule.EU_B2B_GOODS_IC_SUPPLY, Rule.EU_B2B_SERVICES_REVERSE_CHARGE]
