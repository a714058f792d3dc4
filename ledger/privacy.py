"""Crypto-shredding of personal data: name, email and address are stored encrypted with a
key per customer, so destroying the key erases them from every event ever written.

The domain keeps plain values; sealing happens in the mapper, between an event's state and
its stored bytes. Which fields are personal, and whose they are, is the table `_RULES`:
a customer's own events, the buyer block frozen into invoices and credit notes (and their
snapshots), and idempotency records holding a response about a customer. Amounts, tax
data, numbers and ids stay in the clear, as the law keeps them.

After erasure a sealed field reads as `ERASED` (a name) or None (email, address), so every
projection built from the events, incrementally or by a rebuild, shows the same thing.
"""

from __future__ import annotations

import base64
import os
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any, Protocol
from uuid import UUID

from cryptography.exceptions import InvalidTag
from cryptography.hazmat.primitives.ciphers.aead import AESGCM
from eventsourcing.domain import DomainEventProtocol
from eventsourcing.persistence import Mapper, StoredEvent, Transcoder
from eventsourcing.utils import get_topic

from ledger.domain.credit_note import CreditNote
from ledger.domain.customer import ERASED, Customer, CustomerErased
from ledger.domain.idempotency import IdempotencyRecord
from ledger.domain.invoice import Invoice

__all__ = ["ERASED", "KeyRing", "MemoryKeyRing", "SealingMapper", "subject_of_result"]

_PREFIX = "sealed:v1:"
_NONCE = 12
# Another process may erase a customer: a key it had read is trusted this long.
KEY_CACHE_SECONDS = 60.0


class KeyRing(Protocol):
    """Where the per-customer keys live. `fetch` returns None for an erased (or unknown)
    subject; `create` makes the key if there is none and returns it, or None when the
    subject was erased; `destroyed` tells the ring its cached copy is gone."""

    def fetch(self, subject: UUID) -> bytes | None: ...

    def create(self, subject: UUID) -> bytes | None: ...

    def destroyed(self, subject: UUID) -> None: ...


class MemoryKeyRing:
    """Keys in this process only: for an application without a database."""

    def __init__(self) -> None:
        self._keys: dict[UUID, bytes | None] = {}

    def fetch(self, subject: UUID) -> bytes | None:
        return self._keys.get(subject)

    def create(self, subject: UUID) -> bytes | None:
        return self._keys.setdefault(subject, AESGCM.generate_key(bit_length=256))

    def destroyed(self, subject: UUID) -> None:
        self._keys[subject] = None


@dataclass(frozen=True)
class _Rule:
    """The personal fields of one kind of stored state and whose they are."""

    subject: Callable[[dict[str, Any], Any], Any]  # (state, originator id) -> subject
    paths: tuple[tuple[str, ...], ...]

    def subject_of(self, state: dict[str, Any], originator_id: Any) -> UUID | None:
        try:
            subject = self.subject(state, originator_id)
        except (KeyError, TypeError, AttributeError):
            return None
        if subject is None:
            return None
        return subject if isinstance(subject, UUID) else UUID(str(subject))


_PROFILE = (("profile", "name"), ("profile", "email"), ("profile", "address"))
_BUYER = (("buyer", "name"), ("buyer", "email"), ("buyer", "address"))


def _own(state: dict[str, Any], originator_id: Any) -> Any:
    return originator_id


def _buyer(state: dict[str, Any], originator_id: Any) -> Any:
    return state["buyer"]["customer_id"]


def _snapshot(state: dict[str, Any], originator_id: Any) -> Any:
    inner = state["state"]
    if state["topic"] == get_topic(Customer):
        return originator_id
    return inner["buyer"]["customer_id"]


def _event_topic(aggregate: type, event_name: str) -> str:
    """The topic of an event class the @event decorator made (mypy cannot see those)."""
    return get_topic(getattr(aggregate, event_name))


_RULES: dict[str, _Rule] = {
    get_topic(Customer.Created): _Rule(_own, _PROFILE),
    _event_topic(Customer, "Updated"): _Rule(
        _own, (("changes", "name"), ("changes", "email"), ("changes", "address"))
    ),
    get_topic(Invoice.Finalized): _Rule(_buyer, _BUYER),
    _event_topic(CreditNote, "Issued"): _Rule(_buyer, _BUYER),
    _event_topic(IdempotencyRecord, "Recorded"): _Rule(
        lambda state, _: state.get("subject_id"), (("body",),)
    ),
}
_SNAPSHOT_TOPIC = "eventsourcing.domain:Snapshot"
_SNAPSHOT_RULE = _Rule(_snapshot, ())  # its paths depend on the aggregate: see below
_SNAPSHOT_RULES: dict[str, tuple[tuple[str, ...], ...]] = {
    get_topic(Customer): tuple(("state", *path) for path in _PROFILE),
    get_topic(Invoice): tuple(("state", *path) for path in _BUYER),
    get_topic(CreditNote): tuple(("state", *path) for path in _BUYER),
}


def _erased_value(path: tuple[str, ...]) -> Any:
    if path[-1] == "name":
        return ERASED
    if path[-1] == "body":
        return {"erased": True}
    return None


def subject_of_result(result: Any) -> UUID | None:
    """Whose personal data a command's result (stored as an idempotent response) holds."""
    if isinstance(result, Customer):
        return result.id
    buyer = getattr(result, "buyer", None)
    if isinstance(buyer, dict) and buyer.get("customer_id"):
        return UUID(str(buyer["customer_id"]))
    return None


class SealingMapper(Mapper[UUID]):
    """The library's mapper, sealing personal fields on the way to the store and opening
    them on the way back (a field of an erased subject opens as its erased value)."""

    def __init__(self, transcoder: Transcoder, keys: KeyRing | None = None) -> None:
        super().__init__(transcoder=transcoder)
        self.keys: KeyRing = keys or MemoryKeyRing()
        # Keys read, with when they were read; subjects known erased stay erased.
        self._ciphers: dict[UUID, tuple[float, AESGCM]] = {}
        self._erased: set[UUID] = set()
        self._guard = threading.Lock()

    def to_stored_event(self, domain_event: DomainEventProtocol[UUID]) -> StoredEvent:
        topic = get_topic(type(domain_event))
        paths = self._paths(topic, domain_event.__dict__)
        if not paths:
            return super().to_stored_event(domain_event)
        state = dict(vars(domain_event))
        rule_state = state
        subject = self._subject(topic, state, domain_event.originator_id)
        if subject is None:
            return super().to_stored_event(domain_event)
        cipher = self._cipher(subject, create=True)
        if cipher is None:
            raise CustomerErased(f"customer {subject} was erased; nothing personal is kept")
        for path in paths:
            rule_state = _replace(rule_state, path, lambda v: self._seal(cipher, subject, v))
        sealed = object.__new__(type(domain_event))
        object.__setattr__(sealed, "__dict__", rule_state)
        return super().to_stored_event(sealed)

    def to_domain_event(self, stored_event: StoredEvent) -> DomainEventProtocol[UUID]:
        domain_event = super().to_domain_event(stored_event)
        topic = stored_event.topic
        if topic not in _RULES and topic != _SNAPSHOT_TOPIC:
            return domain_event
        state = domain_event.__dict__
        paths = self._paths(topic, state)
        subject = self._subject(topic, state, domain_event.originator_id) if paths else None
        if subject is None:
            return domain_event
        cipher: AESGCM | None = None
        looked_up = False  # the key is fetched at the first sealed field, if any
        for path in paths:
            value = _get(state, path)
            if not (isinstance(value, str) and value.startswith(_PREFIX)):
                continue  # written before sealing existed: in the clear
            if not looked_up:
                cipher, looked_up = self._cipher(subject, create=False), True
            _set(state, path, self._open(cipher, subject, value, path))
        return domain_event

    def forget(self, subject: UUID) -> None:
        """Drop this process's copy of a destroyed key."""
        with self._guard:
            self._ciphers.pop(subject, None)
            self._erased.add(subject)
        self.keys.destroyed(subject)

    def _paths(self, topic: str, state: dict[str, Any]) -> tuple[tuple[str, ...], ...]:
        if topic == _SNAPSHOT_TOPIC:
            return _SNAPSHOT_RULES.get(state.get("topic", ""), ())
        rule = _RULES.get(topic)
        return rule.paths if rule else ()

    def _subject(self, topic: str, state: dict[str, Any], originator_id: Any) -> UUID | None:
        if topic == _SNAPSHOT_TOPIC:
            return _SNAPSHOT_RULE.subject_of(state, originator_id)
        return _RULES[topic].subject_of(state, originator_id)

    def _cipher(self, subject: UUID, create: bool) -> AESGCM | None:
        if subject in self._erased:
            return None
        now = time.monotonic()
        cached = self._ciphers.get(subject)
        if cached is not None and now - cached[0] < KEY_CACHE_SECONDS:
            return cached[1]
        key = self.keys.create(subject) if create else self.keys.fetch(subject)
        with self._guard:
            if key is None:
                self._erased.add(subject)  # no need to ask again
                self._ciphers.pop(subject, None)
                return None
            if len(self._ciphers) > 100_000:
                self._ciphers.clear()
            cipher = AESGCM(key)
            self._ciphers[subject] = (now, cipher)
        return cipher

    def _seal(self, cipher: AESGCM, subject: UUID, value: Any) -> Any:
        if value is None:
            return None
        nonce = os.urandom(_NONCE)
        sealed = cipher.encrypt(nonce, self.transcoder.encode(value), subject.bytes)
        return _PREFIX + base64.b64encode(nonce + sealed).decode()

    def _open(self, cipher: AESGCM | None, subject: UUID, value: str, path: tuple[str, ...]) -> Any:
        if cipher is None:
            return _erased_value(path)
        raw = base64.b64decode(value[len(_PREFIX) :])
        try:
            return self.transcoder.decode(cipher.decrypt(raw[:_NONCE], raw[_NONCE:], subject.bytes))
        except InvalidTag:
            # Not this subject's ciphertext: treat it as unreadable rather than fail the read.
            return _erased_value(path)


def _get(state: Any, path: tuple[str, ...]) -> Any:
    for name in path:
        if not isinstance(state, dict):
            return None
        state = state.get(name)
    return state


def _set(state: dict[str, Any], path: tuple[str, ...], value: Any) -> None:
    for name in path[:-1]:
        state = state[name]
    state[path[-1]] = value


def _replace(state: dict[str, Any], path: tuple[str, ...], change: Callable[[Any], Any]) -> Any:
    """A copy of `state` with the value at `path` changed, when the path exists; the
    nested dicts on the way are copied, never changed: the aggregate shares them."""
    head, rest = path[0], path[1:]
    if not isinstance(state, dict) or head not in state:
        return state
    copy = dict(state)
    copy[head] = _replace(state[head], rest, change) if rest else change(state[head])
    return copy
