"""The HTTP fast path: drafting and finalizing an invoice without FastAPI's routing."""

from __future__ import annotations

import re
from collections import Counter, deque
from collections.abc import Callable
from typing import Any

from fastapi.routing import APIRoute
from starlette.concurrency import run_in_threadpool
from starlette.datastructures import URL
from starlette.middleware.body_limit import MAX_BODY_SIZE_SCOPE_KEY
from starlette.requests import Request
from starlette.responses import Response
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from api import problems
from api.auth import Caller, Permission, require
from api.commands import Commands, MalformedHeader, commands
from api.fast_routes import ROUTES, Arguments, Route, route_of
from ledger.errors import AccessDenied

# Past this, no common case (a draft of a thousand long lines): FastAPI reads the rest.
MAX_BODY = 1 << 20
_HEADERS = {b"authorization", b"idempotency-key", b"if-match", b"content-type"}


class FastPath:
    """Pure ASGI layer between RequestContext and FastAPI: answers the well-formed requests
    of the invoicing load (POST /v1/invoices, POST /v1/invoices/{id}/finalize) by calling
    the routes' own functions, and hands every other request to FastAPI as it came."""

    def __init__(self, app: ASGIApp) -> None:
        self.app = app
        self.served: Counter[str] = Counter()  # requests answered here, by endpoint name
        self._routes: dict[Route, APIRoute | None] | None = None

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        found = self._route_for(scope)
        headers = _headers(scope) if found else None
        caller = _caller(scope, headers) if headers is not None else None
        if found is None or headers is None or caller is None:
            await self.app(scope, receive, send)
            return
        served, route, match = found
        messages, body = await _read(receive)
        is_json = _is_json(headers.get(b"content-type"))
        arguments = None if body is None else served.arguments(match, body, is_json)
        cmd = None if arguments is None else await _commands(scope, messages, receive, headers)
        if arguments is None or cmd is None:
            await self.app(scope, _replay(messages, receive), send)
            return
        # What authenticate and FastAPI's router leave in the scope for the layers outside:
        # the access log's actor, the per-tenant request counts, the metrics' route label.
        scope["state"]["actor"] = str(caller.key_id)
        scope["state"]["tenant_id"] = caller.tenant_id
        scope["route"] = route
        scope["endpoint"] = served.endpoint
        scope["path_params"] = match.groupdict()
        response = await _answer(scope, served.endpoint, arguments, caller, cmd)
        self.served[served.endpoint.__name__] += 1
        await response(scope, receive, send)

    def _route_for(self, scope: Scope) -> tuple[Route, APIRoute, re.Match[str]] | None:
        if scope["type"] != "http" or scope["method"] != "POST" or not _plain(scope):
            return None
        for served in ROUTES:
            match = served.pattern.fullmatch(scope["path"])
            if match:
                if self._routes is None:
                    self._routes = {r: route_of(scope["app"], r) for r in ROUTES}
                route = self._routes[served]
                return None if route is None else (served, route, match)
        return None


def _plain(scope: Scope) -> bool:
    # A mount point, a body size limit, FastAPI's telemetry or overridden dependencies
    # change what FastAPI does with a request, and without RequestContext outside there is
    # no correlation id for the command: then FastAPI alone does it.
    return (
        not scope.get("root_path")
        and MAX_BODY_SIZE_SCOPE_KEY not in scope
        and "fastapi.telemetry" not in scope
        and "correlation_id" in scope.get("state", {})
        and not scope["app"].dependency_overrides
    )


def _headers(scope: Scope) -> dict[bytes, str] | None:
    """The headers the fast path decides by, found as Starlette finds them (the name as sent,
    lower case in ASGI; the value in Latin-1); None when one is repeated, or when the
    Idempotency-Key is longer than the `commands` dependency's Header(max_length=255),
    which FastAPI checks before calling it (`commands` itself checks the rest, below)."""
    found: dict[bytes, str] = {}
    for name, value in scope["headers"]:
        if name in _HEADERS:
            if name in found:
                return None
            found[name] = value.decode("latin-1")
    return None if len(found.get(b"idempotency-key", "")) > 255 else found


def _caller(scope: Scope, headers: dict[bytes, str]) -> Caller | None:
    """The caller as HTTPBearer, `authenticate` and the Writer check find it, when its key
    was seen lately and may write; a key to look up in the store is FastAPI's to do."""
    scheme, _, credentials = headers.get(b"authorization", "").partition(" ")
    token = credentials.strip()
    ledger = getattr(scope["app"].state, "ledger", None)
    if scheme.lower() != "bearer" or not token or ledger is None:
        return None
    key = ledger.remembered_key(token)
    if key is None:
        return None
    caller = Caller(tenant_id=key.tenant_id, key_id=key.id, role=key.role)
    try:
        require(caller, Permission.WRITE)
    except AccessDenied:
        return None
    return caller


def _is_json(content_type: str | None) -> bool:
    # FastAPI reads a body as JSON for application/json and application/*+json, whatever
    # the parameters; this takes the usual spelling only, with or without a charset.
    if content_type is None or not (content_type.isascii() and content_type.isprintable()):
        return False
    return content_type.partition(";")[0].strip().lower() == "application/json"


async def _read(receive: Receive) -> tuple[list[Message], bytes | None]:
    """The messages received up to the end of the body, and the body; no body when the
    client left first or it is larger than MAX_BODY."""
    messages: list[Message] = []
    chunks: list[bytes] = []
    size = 0
    while True:
        message = await receive()
        messages.append(message)
        if message["type"] != "http.request":
            return messages, None
        chunks.append(message.get("body", b""))
        size += len(chunks[-1])
        if size > MAX_BODY:
            return messages, None
        if not message.get("more_body", False):
            return messages, b"".join(chunks)


def _replay(messages: list[Message], receive: Receive) -> Receive:
    """`receive` as if nothing had been read: the messages read, then what comes next."""
    pending = deque(messages)

    async def replayed() -> Message:
        return pending.popleft() if pending else await receive()

    return replayed


async def _commands(
    scope: Scope, messages: list[Message], receive: Receive, headers: dict[bytes, str]
) -> Commands | None:
    """The `commands` dependency's own answer (fingerprint, If-Match); None when it refuses
    the headers, which FastAPI then answers."""
    request = Request(scope, _replay(messages, receive))
    try:
        return await commands(request, headers.get(b"idempotency-key"), headers.get(b"if-match"))
    except MalformedHeader:
        return None


async def _answer(
    scope: Scope,
    endpoint: Callable[..., Any],
    arguments: Arguments,
    caller: Caller,
    cmd: Commands,
) -> Response:
    """The endpoint's response, run in the thread pool as FastAPI runs a sync endpoint; its
    errors answered by the handlers FastAPI would use. An error without an answer of its
    own propagates, to be the 500 that ServerErrorMiddleware sends and logs, as it is now."""
    try:
        response = await run_in_threadpool(endpoint, **arguments, caller=caller, cmd=cmd)
    except problems.ANSWERED as exc:
        return problems.response_for(exc, URL(scope=scope).path)
    if not isinstance(response, Response):
        raise TypeError(f"{endpoint.__name__} must return a Response for the fast path")
    return response
