"""Signed checkpoints of the hash chain, for a third party to keep.

A checkpoint names a tenant's chain head (position and hash) at an instant, signed with the
operator's Ed25519 key (`LEDGER_CHECKPOINT_KEY`, the base64 of the 32-byte private key). Its
holder can later prove that the events up to that position are unchanged: the chain must
still pass through that hash. Rewriting history would need a new chain, and so a head that
no checkpoint signed.
"""

from __future__ import annotations

import base64
import binascii
from datetime import datetime
from typing import Any
from uuid import UUID

import orjson
from cryptography.exceptions import InvalidSignature
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey, Ed25519PublicKey
from cryptography.hazmat.primitives.serialization import Encoding, PublicFormat

from ledger.errors import StateConflict

ALGORITHM = "Ed25519"


class CheckpointsDisabled(StateConflict):
    """Raised when a checkpoint is asked for and no signing key is configured."""

    code = "checkpoints_disabled"


def new_key() -> str:
    """A fresh private key, as LEDGER_CHECKPOINT_KEY wants it."""
    raw = Ed25519PrivateKey.generate().private_bytes_raw()
    return base64.b64encode(raw).decode()


def signing_key(configured: str | None) -> Ed25519PrivateKey:
    if not configured:
        raise CheckpointsDisabled("no LEDGER_CHECKPOINT_KEY is configured on this server")
    try:
        raw = base64.b64decode(configured, validate=True)
        return Ed25519PrivateKey.from_private_bytes(raw)
    except (binascii.Error, ValueError) as exc:
        raise CheckpointsDisabled(
            "LEDGER_CHECKPOINT_KEY is not the base64 of a 32-byte Ed25519 private key"
        ) from exc


def public_key_of(key: Ed25519PrivateKey) -> str:
    raw = key.public_key().public_bytes(Encoding.Raw, PublicFormat.Raw)
    return base64.b64encode(raw).decode()


def _signed_bytes(checkpoint: dict[str, Any]) -> bytes:
    payload = {k: v for k, v in checkpoint.items() if k != "signature"}
    return orjson.dumps(payload, option=orjson.OPT_SORT_KEYS)


def sign(
    key: Ed25519PrivateKey, tenant_id: UUID, position: int, digest: bytes, at: datetime
) -> dict[str, Any]:
    checkpoint: dict[str, Any] = {
        "algorithm": ALGORITHM,
        "tenant_id": str(tenant_id),
        "position": position,
        "hash": digest.hex(),
        "signed_at": at.isoformat(),
        "public_key": public_key_of(key),
    }
    signature = key.sign(_signed_bytes(checkpoint))
    return {**checkpoint, "signature": base64.b64encode(signature).decode()}


def signature_holds(checkpoint: dict[str, Any], public_key: str | None = None) -> bool:
    """Whether the checkpoint was signed by the key (default: the one it names; a holder
    should pin the operator's public key instead of trusting the document)."""
    try:
        key = Ed25519PublicKey.from_public_bytes(
            base64.b64decode(public_key or checkpoint["public_key"], validate=True)
        )
        key.verify(
            base64.b64decode(checkpoint["signature"], validate=True), _signed_bytes(checkpoint)
        )
    except (InvalidSignature, KeyError, TypeError, ValueError, binascii.Error):
        return False
    return checkpoint.get("algorithm") == ALGORITHM
