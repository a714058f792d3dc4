"""The optional online VIES check of EU VAT ids: a pluggable step, off by default."""

from __future__ import annotations

from enum import StrEnum
from typing import Protocol


class ViesStatus(StrEnum):
    NOT_CHECKED = "not_checked"
    VALID = "valid"
    INVALID = "invalid"
    UNAVAILABLE = "unavailable"


class ViesCheck(Protocol):
    """Looks an EU VAT id (compact, with prefix: "DE136695976") up in VIES.

    Implementations that call the network live outside the engine (the application
    wires one in and caches it); the engine only asks and records the answer.
    """

    def check(self, vat_id: str) -> ViesStatus: ...


class NoViesCheck:
    """The default: nothing is looked up, and the decision records "not_checked"."""

    def check(self, vat_id: str) -> ViesStatus:
        return ViesStatus.NOT_CHECKED


NO_VIES_CHECK = NoViesCheck()
