"""The routes the HTTP fast path serves (`api/fast_path.py`): their paths, how a request's
body becomes the endpoint's arguments, and the check that FastAPI still routes them as the
fast path mirrors."""

from __future__ import annotations

import json
import re
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any, get_args
from uuid import UUID

import structlog
from fastapi import FastAPI
from fastapi.exceptions import WebSocketRequestValidationError
from fastapi.routing import APIRoute, RouteContext, iter_route_contexts
from pydantic import BaseModel

from api import problems
from api.auth import Writer
from api.commands import commands
from api.routes.invoices import FinalizeIn, InvoiceIn, draft_invoice, finalize_invoice

log = structlog.get_logger("api")

_WRITER = get_args(Writer)[1].dependency
Arguments = dict[str, Any]


def _json_object(body: bytes) -> dict[str, Any] | None:
    # The parser FastAPI uses, so that the objects validated are the same: orjson reads an
    # integer past 64 bits as a float, and NaN, a lone surrogate or a BOM not at all.
    try:
        data = json.loads(body)
    except Exception:  # FastAPI answers what does not parse
        return None
    return data if isinstance(data, dict) else None


def _valid(model: type[BaseModel], data: dict[str, Any] | None) -> BaseModel | None:
    # The body as FastAPI validates it: the object json.loads made, in python mode.
    if data is None:
        return None
    try:
        return model.model_validate(data)
    except Exception:  # FastAPI answers an invalid body, and anything stranger
        return None


def _draft_arguments(match: re.Match[str], body: bytes, is_json: bool) -> Arguments | None:
    invoice = _valid(InvoiceIn, _json_object(body) if is_json else None)
    return None if invoice is None else {"body": invoice}


def _finalize_arguments(match: re.Match[str], body: bytes, is_json: bool) -> Arguments | None:
    invoice_id = UUID(match["invoice_id"])
    if not body:  # FastAPI looks at no content type when there are no bytes: no body
        return {"invoice_id": invoice_id, "body": None}
    options = _valid(FinalizeIn, _json_object(body) if is_json else None)
    return None if options is None else {"invoice_id": invoice_id, "body": options}


@dataclass(frozen=True)
class Route:
    """A route the fast path serves, and the shape it was written for."""

    path: str  # as FastAPI has it, prefix included
    pattern: re.Pattern[str]  # the paths it takes: canonical ids only
    endpoint: Callable[..., Any]
    body: Any  # the annotation of the endpoint's body
    arguments: Callable[[re.Match[str], bytes, bool], Arguments | None]

    @property
    def probe(self) -> str:
        """One path it takes, to ask FastAPI which route it gives it to."""
        return self.path.format(invoice_id=UUID(int=0))


_UUID = "[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}"
ROUTES = (
    Route("/v1/invoices", re.compile("/v1/invoices"), draft_invoice, InvoiceIn, _draft_arguments),
    Route(
        "/v1/invoices/{invoice_id}/finalize",
        re.compile(f"/v1/invoices/(?P<invoice_id>{_UUID})/finalize"),
        finalize_invoice,
        FinalizeIn | None,
        _finalize_arguments,
    ),
)


def route_of(app: FastAPI, served: Route) -> APIRoute | None:
    """The APIRoute FastAPI gives the route's requests to, if it still has the shape the
    fast path mirrors (parameters, dependencies, no body limit, the problem handlers);
    None, and a warning, turns the fast path off for it."""
    context = _first_match(app, served.probe)
    route = context.original_route if context else None
    if (
        context is None
        or not isinstance(route, APIRoute)
        or context.path != served.path
        or context.endpoint is not served.endpoint
    ):
        log.warning("fast_path_off", path=served.path, reason="another route takes it")
        return None
    dependant = context.dependant
    handlers = {
        cls: handler
        for cls, handler in app.exception_handlers.items()
        if cls is not WebSocketRequestValidationError
    }
    mirrored = (
        [(d.name, d.call) for d in dependant.dependencies]
        == [("caller", _WRITER), ("cmd", commands)]
        and [(f.name, f.field_info.annotation) for f in dependant.body_params]
        == [("body", served.body)]
        and [f.name for f in dependant.path_params] == list(served.pattern.groupindex)
        and not (dependant.query_params or dependant.header_params or dependant.cookie_params)
        and context.max_body_size is None
        and app.max_body_size is None
        and handlers == dict.fromkeys((*problems.ANSWERED, Exception), problems.handle)
    )
    if not mirrored:
        log.warning("fast_path_off", path=served.path, reason="the route changed")
        return None
    return route


def _first_match(app: FastAPI, path: str) -> RouteContext | None:
    """The route FastAPI's router picks for a POST to `path`: the first, in the order it
    tries them, to match both path and method; None when one cannot be judged."""
    for context in iter_route_contexts(app.routes):
        regex = getattr(context, "path_regex", None)
        if regex is None:
            return None
        if regex.match(path) and (not context.methods or "POST" in context.methods):
            return context
    return None
