"""Unknown query parameters are refused.

A misspelt filter (`?teritory_id=...`) would otherwise be ignored and the caller would get the
unfiltered list as if it were the filtered one. Each handler's known names are read once from the
OpenAPI document, which lists every parameter it takes (its own and its dependencies').
"""

from __future__ import annotations

from typing import Any

from litestar import Litestar, Request, Response
from litestar.routes import HTTPRoute

from api.errors import ErrorBody, ErrorDetail, error_response

_KNOWN = "query_names"


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
            for method in handler.http_methods:
                operation = getattr(item, method.lower(), None)
                if operation is None:
                    break
                names |= {p.name for p in operation.parameters or [] if getattr(p, "param_in", "") == "query"}
            else:
                handler.opt[_KNOWN] = frozenset(names)


def check_query(request: Request[Any, Any, Any]) -> Response[ErrorBody] | None:
    known: frozenset[str] | None = request.route_handler.opt.get(_KNOWN)
    if known is None:
        return None
    unknown = sorted(set(request.query_params) - known)
    if not unknown:
        return None
    listed = ", ".join(repr(name) for name in unknown[:5])
    expected = ", ".join(sorted(known)) or "none"
    message = f"unknown query parameter {listed}; this endpoint takes: {expected}"
    return error_response(
        400, message, [ErrorDetail(name, "unknown query parameter", "query") for name in unknown[:5]]
    )
