"""Turning an HTTP request into a command: Idempotency-Key, If-Match, ETag, JSON out."""

from __future__ import annotations

import hashlib
from collections.abc import Callable
from dataclasses import dataclass, replace
from typing import Annotated, Any, TypeVar

import orjson
from fastapi import Depends, Header, Request
from starlette.responses import Response

from api.auth import Caller, ledger_of
from ledger.application import Ledger, Replayed
from ledger.context import CommandContext, IdempotencyClaim
from ledger.errors import InvalidInput

T = TypeVar("T")
Body = dict[str, Any]


def json_response(status: int, body: Body, headers: dict[str, str] | None = None) -> Response:
    headers = dict(headers or {})
    if isinstance(body.get("version"), int):
        headers["ETag"] = f'"{body["version"]}"'
    return Response(orjson.dumps(body), status, headers, media_type="application/json")


class MalformedHeader(InvalidInput):
    """Raised when Idempotency-Key or If-Match cannot be understood."""

    code = "malformed_header"


def parse_if_match(value: str | None) -> int | None:
    if value is None or value.strip() == "*":
        return None
    text = value.strip().removeprefix("W/").strip('"')
    if not text.isdigit() or len(text) > 9:
        raise MalformedHeader('If-Match must be an ETag this API returned, like "3"')
    return int(text)


@dataclass(frozen=True)
class Commands:
    """Runs commands for one request."""

    ledger: Ledger
    correlation_id: str
    idempotency_key: str | None
    fingerprint: str
    if_match: int | None

    def context(self, caller: Caller | None) -> CommandContext:
        """The context of a read, or the base of a command's."""
        return CommandContext(
            tenant_id=caller.tenant_id if caller else None,
            actor=str(caller.key_id) if caller else "admin",
            correlation_id=self.correlation_id,
        )

    def run(
        self,
        caller: Caller | None,
        command: Callable[[CommandContext], T],
        render: Callable[[T], Body],
        status: int = 200,
        redact: Callable[[Body], Body] | None = None,
    ) -> Response:
        """Run the command, answer with `render(result)`; replay the first answer of a
        repeated Idempotency-Key. `redact` removes secrets from the body that is stored."""
        claim = None
        if self.idempotency_key is not None:
            stored = (lambda result: redact(render(result))) if redact else render
            claim = IdempotencyClaim(self.idempotency_key, self.fingerprint, status, stored)
        ctx = replace(self.context(caller), if_match=self.if_match, idempotency=claim)
        try:
            result = command(ctx)
        except Replayed as replay:
            return json_response(replay.status, replay.body, {"Idempotent-Replayed": "true"})
        return json_response(status, render(result))


async def commands(
    request: Request,
    idempotency_key: Annotated[
        str | None,
        Header(
            alias="Idempotency-Key",
            max_length=255,
            description="Makes a POST safe to retry: a repeat returns the first response.",
        ),
    ] = None,
    if_match: Annotated[
        str | None,
        Header(alias="If-Match", description="Refuse the change unless this ETag is current."),
    ] = None,
) -> Commands:
    if idempotency_key is not None and not (
        idempotency_key.strip() and idempotency_key.isprintable()
    ):
        raise MalformedHeader("Idempotency-Key must be 1 to 255 printable characters")
    fingerprint = ""  # what a repeated Idempotency-Key is compared by; no key, no need
    if idempotency_key is not None:
        body = await request.body()
        fingerprint = hashlib.sha256(
            b"\n".join([request.method.encode(), request.url.path.encode(), body])
        ).hexdigest()
    return Commands(
        ledger=ledger_of(request),
        correlation_id=request.state.correlation_id,
        idempotency_key=idempotency_key,
        fingerprint=fingerprint,
        if_match=parse_if_match(if_match),
    )


Command = Annotated[Commands, Depends(commands)]
