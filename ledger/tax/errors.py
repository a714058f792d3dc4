"""Errors the tax engine raises; each has a stable machine `code`."""

from __future__ import annotations

from ledger.errors import InvalidInput


class TaxError(InvalidInput):
    """Base of the tax engine's refusals: the inputs do not allow a tax decision."""

    code = "tax_error"


class RateOverrideRefused(TaxError):
    """Raised when a line carries an explicit tax_rate but the seller does not allow overrides."""

    code = "tax_rate_override_not_allowed"


class InvalidTaxRate(TaxError):
    """Raised when an explicit tax_rate is not a finite percentage from 0 to 100."""

    code = "tax_rate_invalid"


class RateNotFound(TaxError):
    """Raised when the rate files hold no rate for the country and class on the supply date."""

    code = "tax_rate_not_found"


class UnsupportedTaxCountry(TaxError):
    """Raised when the seller's country has no tax rules or rate data in the engine."""

    code = "tax_country_not_supported"


class SellerTaxIdInvalid(TaxError):
    """Raised when the seller's own VAT id or GSTIN fails validation (format or check digit)."""

    code = "seller_tax_id_invalid"


class SellerTaxIdRequired(TaxError):
    """Raised when a rule needs the seller's VAT id on the invoice (K, AE) and it has none."""

    code = "seller_tax_id_required"


class GstStateUnknown(TaxError):
    """Raised when an Indian supply's state (seller's, or the place of supply) is unknown."""

    code = "gst_state_code_required"


class UnsupportedLanguage(TaxError):
    """Raised when invoice wording is asked for in a language the engine does not carry."""

    code = "language_not_supported"
