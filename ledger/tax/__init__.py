"""The tax engine: a pure function from (seller, buyer, line, supply date) to a tax decision.

No database, no HTTP; it reads only its own rate files (`ledger/tax/rates/*.json`).
"""

from ledger.tax.errors import (
    GstStateUnknown,
    InvalidTaxRate,
    RateNotFound,
    RateOverrideRefused,
    SellerTaxIdInvalid,
    SellerTaxIdRequired,
    TaxError,
    UnsupportedLanguage,
    UnsupportedTaxCountry,
)
from ledger.tax.eu import EU_B2C_THRESHOLD_EUR
from ledger.tax.model import (
    Buyer,
    BuyerKind,
    Category,
    GstComponent,
    NoteCode,
    Party,
    Rule,
    Seller,
    SupplyKind,
    SupplyLine,
    TaxClass,
    TaxDecision,
)
from ledger.tax.rate_table import RatePeriod, RateTable, packaged_rates
from ledger.tax.rules import decide, decide_lines
from ledger.tax.tax_ids import TaxIdCheck, TaxIdStatus, check_tax_id
from ledger.tax.vies import NO_VIES_CHECK, NoViesCheck, ViesCheck, ViesStatus
from ledger.tax.wording import Language, invoice_notes, note_text, required_tax_ids

__all__ = [
    "EU_B2C_THRESHOLD_EUR",
    "NO_VIES_CHECK",
    "Buyer",
    "BuyerKind",
    "Category",
    "GstComponent",
    "GstStateUnknown",
    "InvalidTaxRate",
    "Language",
    "NoViesCheck",
    "NoteCode",
    "Party",
    "RateNotFound",
    "RateOverrideRefused",
    "RatePeriod",
    "RateTable",
    "Rule",
    "Seller",
    "SellerTaxIdInvalid",
    "SellerTaxIdRequired",
    "SupplyKind",
    "SupplyLine",
    "TaxClass",
    "TaxDecision",
    "TaxError",
    "TaxIdCheck",
    "TaxIdStatus",
    "UnsupportedLanguage",
    "UnsupportedTaxCountry",
    "ViesCheck",
    "ViesStatus",
    "check_tax_id",
    "decide",
    "decide_lines",
    "invoice_notes",
    "note_text",
    "packaged_rates",
    "required_tax_ids",
]
