"""India GST: intra-state CGST + SGST/UTGST halves, inter-state IGST, zero-rated exports."""

from __future__ import annotations

from dataclasses import replace

from ledger.errors import InvalidInput
from ledger.money import plain
from ledger.tax.errors import GstStateUnknown
from ledger.tax.model import Category, GstComponent, NoteCode, Rule, SupplyKind, TaxDecision
from ledger.tax.situation import ZERO, Situation, charge, decided
from ledger.tax.tax_ids import gstin_state
from ledger.tax.territories import GST_STATES, GST_UNION_TERRITORIES

INDIA = "IN"


def decide_india(s: Situation) -> TaxDecision:
    seller_state = seller_gst_state(s)
    if place_of_supply_country(s) != INDIA:
        return decided(
            s,
            Category.EXPORT,
            ZERO,
            INDIA,
            Rule.EXPORT,
            "IGST Act 2017 s. 16: exports are zero-rated (under LUT, without payment of IGST)",
            (NoteCode.IN_EXPORT_UNDER_LUT,),
        )
    place = place_of_supply_state(s, seller_state)
    if place == seller_state:
        basis = "CGST Act 2017 s. 9 with SGST/UTGST; IGST Act 2017 s. 8: intra-state supply"
        decision = charge(s, INDIA, Rule.IN_INTRA_STATE, basis)
    else:
        basis = "IGST Act 2017 s. 5 and 7: inter-state supply"
        decision = charge(s, INDIA, Rule.IN_INTER_STATE, basis)
    return with_gst(decision, seller_state, place)


def with_gst(decision: TaxDecision, seller_state: str, place: str) -> TaxDecision:
    """The decision with its GST heads: CGST + SGST (UTGST in a union territory without a
    legislature) at half the rate each within a state, IGST at the full rate across states."""
    if decision.category is not Category.STANDARD:
        return decision
    rate = decision.rate
    if place != seller_state:
        return replace(decision, gst=(GstComponent("IGST", rate),))
    local = "UTGST" if place in GST_UNION_TERRITORIES else "SGST"
    half = plain(rate / 2)
    return replace(decision, gst=(GstComponent("CGST", half), GstComponent(local, half)))


def place_of_supply_country(s: Situation) -> str:
    return s.destination if s.line.kind is SupplyKind.GOODS else s.buyer.country


def seller_gst_state(s: Situation) -> str:
    """The seller's state: its region, which must agree with its GSTIN's first two digits."""
    from_id = gstin_state(s.seller_id.number or "") if s.seller_id.is_valid else None
    region = _state(s.seller.region, "seller.region") if s.seller.region else None
    if region and from_id and region != from_id:
        raise InvalidInput(
            f"seller region {region} does not match its GSTIN's state {from_id}",
            field="seller.region",
        )
    state = region or from_id
    if state is None:
        raise GstStateUnknown("an Indian seller needs a GST state code or a GSTIN")
    return state


def place_of_supply_state(s: Situation, seller_state: str) -> str:
    """The buyer's state (region, else its GSTIN's), else for services with no recipient
    address on record the seller's (IGST Act s. 12(2)(b)(ii))."""
    if s.buyer.region:
        return _state(s.buyer.region, "buyer.region")
    if s.buyer_id_country == INDIA and s.buyer_id.number:
        return gstin_state(s.buyer_id.number)
    if s.line.kind is not SupplyKind.GOODS:
        return seller_state
    raise GstStateUnknown("goods delivered in India need the buyer's GST state code")


def _state(code: str, field: str) -> str:
    state = code.strip().zfill(2)
    if state not in GST_STATES:
        raise InvalidInput(f"unknown GST state code {code!r}", field=field)
    return state
