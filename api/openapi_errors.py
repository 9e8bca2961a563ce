"""The error answers of every operation, written into the OpenAPI document.

Errors leave the API from one place (api/errors.py), so what an operation can answer follows from
what it takes: a token (401, 403), records named in its path or body (404), a body that changes
state (409, 422), an If-Match header (412, 428), the database (503). A handler whose errors do not
follow that pattern lists them in `opt={"errors": [...]}`, or adds to them with
`opt={"more_errors": [...]}`. Writing this here keeps the document
honest for every route without each handler repeating it, and a client generated from
the document knows the error body's shape.
"""

from __future__ import annotations

import inspect
import re
from typing import Any

import msgspec.inspect as mi
from litestar import HttpMethod, Litestar
from litestar.openapi.datastructures import ResponseSpec
from litestar.openapi.spec import OpenAPI, Schema
from litestar.openapi.spec.enums import OpenAPIType
from litestar.routes import HTTPRoute

from api.auth import ADMIN, ANY_USER, PUBLIC_PATHS, STAFF, TECHNICIAN
from api.errors import ErrorBody

ERRORS = {
    400: "The request is malformed: a parameter or a body field is missing, of the wrong type or out"
    " of range. `extra` names the field.",
    401: "No valid bearer token.",
    403: "This role, or this user, may not do this.",
    404: "A record named in the path or the body does not exist, or is not yours to see.",
    409: "The request conflicts with the state of a record: it changed meanwhile, or the step is"
    " not allowed from where it is now, or an Idempotency-Key was reused for another request.",
    412: "If-Match names an older version of the record: read it again.",
    422: "The values are well-formed but break a rule of the domain. `extra` names the field.",
    428: "This change needs an If-Match header with the record's version.",
    429: "Too many requests of this kind lately (failed sign-ins for an account or from an address, a"
    " customer's changes to a job): try again after Retry-After seconds.",
    503: "The database is unavailable; try again after Retry-After seconds.",
}
# What handlers are given rather than sent: none of it can be malformed by a client.
_INJECTED = {"self", "state", "request", "conn", "principal", "scope"}
_WRITES = {HttpMethod.POST, HttpMethod.PUT, HttpMethod.PATCH, HttpMethod.DELETE}


def document_errors(app: Litestar) -> None:
    """Add the error answers to each route handler; call before the document is first built."""
    for route in app.routes:
        if not isinstance(route, HTTPRoute):
            continue
        for handler in route.route_handlers:
            if not handler.include_in_schema:
                continue
            parameters = set(handler.parsed_fn_signature.parameters)
            public = bool(handler.opt.get("public")) or any(re.match(p, route.path) for p in PUBLIC_PATHS)
            declared = handler.opt.get("errors")
            statuses = (
                declared
                if declared is not None
                else _statuses(
                    public=public,
                    writes=bool(set(handler.http_methods) & _WRITES),
                    takes_input=bool(route.path_parameters) or bool(parameters - _INJECTED),
                    takes_query=bool(parameters - _INJECTED - set(route.path_parameters) - {"data"}),
                    names_records=bool(route.path_parameters) or "data" in parameters,
                    if_match="if_match" in parameters,
                    if_match_required=bool(handler.opt.get("if_match_required")),
                    uses_database="conn" in parameters or not public,
                )
            )
            if public:
                handler.security = [{}]  # no token needed, whatever the document's default
            responses = dict(handler.responses or {})
            for status in [*statuses, *handler.opt.get("more_errors", [])]:
                responses.setdefault(status, _error(status))
            handler.responses = responses
            _describe(
                handler,
                public=public,
                statuses=sorted(set(statuses) | set(handler.opt.get("more_errors", []))),
            )


# Who may call an operation, by its guard: the README's endpoint table in words.
_CALLERS = (
    (ADMIN, "admins only."),
    (STAFF, "admins and dispatchers; a dispatcher bound to a territory reaches its records only."),
    (ANY_USER, "any signed-in user; a technician reaches only their own jobs and records."),
    (TECHNICIAN, "a technician, about their own day."),
)
# What each error means here, in a few words (the responses carry the full text).
_SHORT = {
    400: "malformed input, `extra` names the field",
    401: "no valid token",
    403: "not your role",
    404: "no such record, or not yours to see",
    409: "conflicts with the record's state or a reused Idempotency-Key",
    412: "If-Match names an older version",
    422: "breaks a rule of the domain, `extra` names the field",
    428: "If-Match is required",
    429: "too many requests, see Retry-After",
    503: "the database is unavailable, retry after Retry-After",
}


def _describe(handler: Any, *, public: bool, statuses: list[int]) -> None:
    """A description for every operation (what it does, who may call it, what its errors mean),
    and a summary in words rather than the handler's name run together ("ReportStatus")."""
    what = (
        inspect.cleandoc(handler.fn.__doc__ or "")
        or f"{handler.handler_name.replace('_', ' ').capitalize()}."
    )
    guards = handler.resolve_guards()
    who = (
        "anyone (no token)."
        if public
        else next((words for guard, words in _CALLERS if guard in guards), "any signed-in user.")
    )
    errors = "; ".join(f"{code} {_SHORT[code]}" for code in statuses if code in _SHORT)
    handler.description = handler.description or "\n\n".join(
        [what, f"Who may call it: {who}", *([f"Errors: {errors}."] if errors else [])]
    )
    handler.summary = handler.summary or handler.handler_name.replace("_", " ").capitalize()


def if_match_required(document: OpenAPI) -> None:
    """Where a missing If-Match is answered 428, the document says the header is required."""
    for item in (document.paths or {}).values():
        for method in ("put", "patch", "post", "delete"):
            operation = getattr(item, method, None)
            if operation is None or "428" not in (operation.responses or {}):
                continue
            for parameter in operation.parameters or []:
                if getattr(parameter, "name", "") == "If-Match":
                    parameter.required = True


def _error(status: int) -> ResponseSpec:
    return ResponseSpec(data_container=ErrorBody, description=ERRORS[status], generate_examples=False)


def _statuses(
    *,
    public: bool,
    writes: bool,
    takes_input: bool,
    takes_query: bool,
    names_records: bool,
    if_match: bool,
    if_match_required: bool,
    uses_database: bool,
) -> list[int]:
    found = []
    if takes_input:
        found.append(400)
    if not public:
        found += [401, 403]
    if names_records or writes:
        found.append(404)
    if writes:
        found.append(409)
    if writes or takes_query:
        found.append(422)
    if if_match:
        found.append(412)
    if if_match_required:
        found.append(428)
    if uses_database:
        found.append(503)
    return found


def numbers_any_of(document: OpenAPI) -> None:
    """A union of int and float is a oneOf of integer and number to Litestar, which no integer can
    satisfy (it is both). Such unions become anyOf, which says what the Python union means."""
    seen: set[int] = set()

    def visit(node: Any) -> None:
        if id(node) in seen:
            return
        seen.add(id(node))
        if isinstance(node, Schema):
            types = {s.type for s in node.one_of or [] if isinstance(s, Schema)}
            if OpenAPIType.INTEGER in types and OpenAPIType.NUMBER in types:
                node.any_of, node.one_of = node.one_of, None
            for value in vars(node).values():
                visit(value)
        elif isinstance(node, dict):
            for value in node.values():
                visit(value)
        elif isinstance(node, list | tuple):
            for value in node:
                visit(value)
        elif hasattr(node, "__dataclass_fields__"):
            for name in node.__dataclass_fields__:
                visit(getattr(node, name))

    visit(document)


def closed_bodies(app: Litestar) -> None:
    """Request bodies refuse unknown fields (`forbid_unknown_fields`), which Litestar does not
    show: their schemas say `additionalProperties: false`, so a client knows before it is told."""
    closed: set[str] = set()
    for route in app.routes:
        if not isinstance(route, HTTPRoute):
            continue
        for handler in route.route_handlers:
            body = handler.parsed_fn_signature.parameters.get("data")
            if body is not None:
                closed |= _closed_structs(mi.type_info(body.annotation))
    schemas = app.openapi_schema.components.schemas or {}
    for name in closed:
        schema = schemas.get(name)
        if isinstance(schema, Schema):
            schema.additional_properties = False


def _closed_structs(node: mi.Type, seen: frozenset[type] = frozenset()) -> set[str]:
    if isinstance(node, mi.StructType):
        if node.cls in seen:
            return set()
        inner = {n for f in node.fields for n in _closed_structs(f.type, seen | {node.cls})}
        return inner | ({node.cls.__name__} if node.forbid_unknown_fields else set())
    if isinstance(node, mi.Metadata):
        return _closed_structs(node.type, seen)
    if isinstance(node, mi.UnionType):
        return {n for t in node.types for n in _closed_structs(t, seen)}
    if isinstance(node, mi.ListType | mi.SetType | mi.FrozenSetType | mi.VarTupleType):
        return _closed_structs(node.item_type, seen)
    if isinstance(node, mi.DictType):
        return _closed_structs(node.value_type, seen)
    return set()
