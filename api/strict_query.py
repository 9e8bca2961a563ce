"""Unknown query parameters are refused, and so is a number where a time is expected.

A misspelt filter (`?teritory_id=...`) would otherwise be ignored and the caller would get the
unfiltered list as if it were the filtered one. Each handler's known names are read once from the
OpenAPI document, which lists every parameter it takes (its own and its dependencies').

Query values are decoded laxly, so `?from=0.0` was read as a Unix time (1970) and answered 200;
the document says a date-time string, and a number is refused as such. A time is read by the same
rule as one in a body, `AwareDatetime`: a time without an offset is refused too (it was a 500 on
one route, a 200 read in the server's zone on another, a 422 on a third).
"""

from __future__ import annotations

import re
from typing import Any

import msgspec
from litestar import Litestar, Request, Response
from litestar.openapi.spec import Schema
from litestar.openapi.spec.enums import OpenAPIFormat
from litestar.routes import HTTPRoute

from api.errors import ErrorBody, ErrorDetail, error_response
from assets.models import AwareDatetime

_KNOWN = "query_names"
_TIMES = "query_times"
_NUMBER = re.compile(r"^\s*[+-]?(\d+\.?\d*|\.\d+)([eE][+-]?\d+)?\s*$")


def _is_time(schema: Any) -> bool:
    if not isinstance(schema, Schema):
        return False
    return schema.format == OpenAPIFormat.DATE_TIME or any(
        _is_time(s) for s in [*(schema.one_of or []), *(schema.any_of or [])]
    )


def learn_query_names(app: Litestar) -> None:
    document = app.openapi_schema
    for route in app.routes:
        if not isinstance(route, HTTPRoute) or document.paths is None:
            continue
        item = document.paths.get(route.path_format)
        if item is None:
            continue
        for handler in route.route_handlers:
            names: set[str] = set()
            times: set[str] = set()
            for method in handler.http_methods:
                operation = getattr(item, method.lower(), None)
                if operation is None:
                    break
                query = [p for p in operation.parameters or [] if getattr(p, "param_in", "") == "query"]
                names |= {p.name for p in query}
                times |= {p.name for p in query if _is_time(getattr(p, "schema", None))}
            else:
                handler.opt[_KNOWN] = frozenset(names)
                handler.opt[_TIMES] = frozenset(times)


def check_query(request: Request[Any, Any, Any]) -> Response[ErrorBody] | None:
    known: frozenset[str] | None = request.route_handler.opt.get(_KNOWN)
    if known is None:
        return None
    unknown = sorted(set(request.query_params) - known)
    if not unknown:
        return _check_times(request)
    listed = ", ".join(repr(name) for name in unknown[:5])
    expected = ", ".join(sorted(known)) or "none"
    message = f"unknown query parameter {listed}; this endpoint takes: {expected}"
    return error_response(
        400, message, [ErrorDetail(name, "unknown query parameter", "query") for name in unknown[:5]]
    )


_EXAMPLE = "ISO 8601 with its offset, e.g. 2026-03-02T09:00:00+00:00"


def time_problem(value: str) -> str | None:
    """Why a query or path value is not a time the API accepts, or None when it is one."""
    if _NUMBER.match(value):
        return f"give a date and time ({_EXAMPLE}), not a number"
    try:
        msgspec.convert(value, AwareDatetime)
    except msgspec.ValidationError as exc:
        if "timezone" in str(exc):
            return f"give the time with its offset ({_EXAMPLE})"
        return f"give a date and time ({_EXAMPLE})"
    return None


def _check_times(request: Request[Any, Any, Any]) -> Response[ErrorBody] | None:
    problems: dict[tuple[str, str], None] = {}
    for name in sorted(request.route_handler.opt.get(_TIMES, ())):
        for value in request.query_params.getall(name, []):
            problem = time_problem(value)
            if problem is not None:
                problems[name, problem] = None
    if not problems:
        return None
    return error_response(
        400,
        "; ".join(f"{name}: {problem}" for name, problem in problems),
        [ErrorDetail(name, problem, "query") for name, problem in problems],
    )
