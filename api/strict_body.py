"""Strict JSON bodies.

Litestar converts bodies leniently ("3" is accepted for an integer). Before a handler runs, its
body is decoded once more with msgspec in strict mode against the handler's own `data` type, so a
wrong type is a 400 that names the field, never a silent coercion. Free-form objects (asset and
part attributes, fitment conditions) are the only values that may nest: how deep is limited
(TRUCKROLL_JSON_DEPTH_MAX), since decoding recursed once per level and ran out of stack past
about a thousand, a 500.
"""

from __future__ import annotations

import re
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from typing import Any

import msgspec
import msgspec.inspect as mi
import numpy as np
from litestar import Request, Response

from api.errors import ErrorBody, ErrorDetail, decode_error_response, error_response
from api.strict_query import check_query

BeforeRequest = Callable[[Request[Any, Any, Any]], Awaitable[Response[ErrorBody] | None]]


@dataclass(frozen=True)
class _Body:
    decoder: msgspec.json.Decoder[Any]
    free_form: tuple[str, ...]  # the fields holding free-form values, e.g. ("attributes",)


_bodies: dict[Any, _Body | None] = {}


def _body_for(annotation: Any) -> _Body | None:
    if annotation not in _bodies:
        try:
            decoder = msgspec.json.Decoder(annotation, strict=True)
        except TypeError:
            _bodies[annotation] = None
        else:
            _bodies[annotation] = _Body(
                decoder, tuple(dict.fromkeys(_free_form_fields(mi.type_info(annotation))))
            )
    return _bodies[annotation]


def _free_form_fields(node: mi.Type, path: str = "", seen: frozenset[type] = frozenset()) -> list[str]:
    """Where a value of this type holds values of any type (`object`, `Any`)."""
    if isinstance(node, mi.AnyType) or (isinstance(node, mi.CustomType) and node.cls is object):
        return [path or "body"]
    if isinstance(node, mi.StructType):
        if node.cls in seen:
            return []
        inner = seen | {node.cls}
        dot = f"{path}." if path else ""
        return [f for field in node.fields for f in _free_form_fields(field.type, dot + field.name, inner)]
    if isinstance(node, mi.Metadata):
        return _free_form_fields(node.type, path, seen)
    if isinstance(node, mi.UnionType):
        return [f for t in node.types for f in _free_form_fields(t, path, seen)]
    if isinstance(node, mi.ListType | mi.SetType | mi.FrozenSetType | mi.VarTupleType):
        return _free_form_fields(node.item_type, f"{path}[]", seen)
    if isinstance(node, mi.TupleType):
        return [f for t in node.item_types for f in _free_form_fields(t, f"{path}[]", seen)]
    if isinstance(node, mi.DictType):
        # The object itself is where it nests: name it, not its keys.
        return [path or "body"] if _free_form_fields(node.value_type, path, seen) else []
    return []


_STRING = re.compile(rb'"[^"\\]*(?:\\.[^"\\]*)*"')
_NOT_BRACKET = bytes(sorted(set(range(256)) - set(b"[]{}")))
_OPEN = (ord("["), ord("{"))


def nesting_depth(body: bytes) -> int:
    """How deep arrays and objects nest in a JSON text (brackets inside strings do not count).
    Runs at C speed, about 12 ms for a megabyte of brackets, with no recursion."""
    brackets = _STRING.sub(b"", body).translate(None, _NOT_BRACKET)
    if not brackets:
        return 0
    codes = np.frombuffer(brackets, dtype=np.uint8)
    steps = np.where((codes == _OPEN[0]) | (codes == _OPEN[1]), 1, -1)
    return int(np.cumsum(steps).max())


def strict_request_check(*, json_depth_max: int) -> BeforeRequest:
    """The app's before-request check: unknown query parameters, then the body."""

    async def check_request_strictly(request: Request[Any, Any, Any]) -> Response[ErrorBody] | None:
        return check_query(request) or await check_body_strictly(request, json_depth_max)

    return check_request_strictly


async def check_body_strictly(
    request: Request[Any, Any, Any], json_depth_max: int
) -> Response[ErrorBody] | None:
    if request.method not in ("POST", "PUT", "PATCH"):
        return None
    field = request.route_handler.parsed_fn_signature.parameters.get("data")
    if field is None:
        return None
    expected = _body_for(field.annotation)
    if expected is None:
        return None
    body = await request.body()
    too_deep = False
    try:
        expected.decoder.decode(body)
    except msgspec.ValidationError as exc:
        return decode_error_response(str(exc))
    except msgspec.DecodeError as exc:
        return decode_error_response(f"Malformed JSON: {exc}" if body else "A JSON body is required.")
    except RecursionError:
        # Only a free-form value can nest this deep: a typed field refuses the first level
        # that is not what it expects.
        too_deep = True
    if expected.free_form and (
        too_deep
        or (body.count(b"[") + body.count(b"{") > json_depth_max and nesting_depth(body) > json_depth_max)
    ):
        return _too_deep(expected.free_form, json_depth_max)
    if too_deep:
        return _too_deep(("body",), json_depth_max)
    return None


def _too_deep(fields: tuple[str, ...], limit: int) -> Response[ErrorBody]:
    message = f"nested deeper than {limit} levels"
    return error_response(
        400,
        "; ".join(f"{f}: {message}" for f in fields),
        [ErrorDetail(f, message, "body") for f in fields],
    )


def real_column(
    *,
    ge: float | None = None,
    gt: float | None = None,
    le: float | None = None,
    lt: float | None = None,
    description: str | None = None,
) -> msgspec.Meta:
    """Bounds for a float stored in a `real` column, checked on the value the column will hold.

    A real keeps a float32: 359.99999999999994 passes `< 360` as a double but is stored as
    360.0, and 1e-46 passes `> 0` but is stored as 0.0, so the column's CHECK refused them
    inside a write shared with other requests. Each bound here is the float32 nearest the
    column's bound on its allowed side; a double within it rounds to a float32 within it too."""
    low = _float32_from(gt, up=True, strictly=True) if gt is not None else None
    if ge is not None:
        low = _float32_from(ge, up=True, strictly=False)
    high = _float32_from(lt, up=False, strictly=True) if lt is not None else None
    if le is not None:
        high = _float32_from(le, up=False, strictly=False)
    return msgspec.Meta(ge=low, le=high, description=description)


def _float32_from(bound: float, *, up: bool, strictly: bool) -> float:
    """The float32 nearest `bound` on the allowed side: at or above it (`up`), or at or below;
    never the bound itself when it is excluded."""
    nearest = np.float32(bound)
    outside = float(nearest) < bound if up else float(nearest) > bound
    if outside or (strictly and float(nearest) == bound):
        nearest = np.nextafter(nearest, np.float32(np.inf if up else -np.inf))
    return float(nearest)
