"""Strict JSON bodies.

Litestar converts bodies leniently ("3" is accepted for an integer). Before a handler runs, its
body is decoded once more with msgspec in strict mode against the handler's own `data` type, so a
wrong type is a 400 that names the field, never a silent coercion.
"""

from __future__ import annotations

from typing import Any

import msgspec
import numpy as np
from litestar import Request, Response

from api.errors import ErrorBody, decode_error_response
from api.strict_query import check_query

_decoders: dict[Any, msgspec.json.Decoder[Any]] = {}


def _decoder_for(annotation: Any) -> msgspec.json.Decoder[Any] | None:
    if annotation not in _decoders:
        try:
            _decoders[annotation] = msgspec.json.Decoder(annotation, strict=True)
        except TypeError:
            return None
    return _decoders[annotation]


async def check_request_strictly(request: Request[Any, Any, Any]) -> Response[ErrorBody] | None:
    """Unknown query parameters, then the body, before the handler runs."""
    return check_query(request) or await check_body_strictly(request)


async def check_body_strictly(request: Request[Any, Any, Any]) -> Response[ErrorBody] | None:
    if request.method not in ("POST", "PUT", "PATCH"):
        return None
    field = request.route_handler.parsed_fn_signature.parameters.get("data")
    if field is None:
        return None
    decoder = _decoder_for(field.annotation)
    if decoder is None:
        return None
    body = await request.body()
    try:
        decoder.decode(body)
    except msgspec.ValidationError as exc:
        return decode_error_response(str(exc))
    except msgspec.DecodeError as exc:
        return decode_error_response(f"Malformed JSON: {exc}" if body else "A JSON body is required.")
    return None


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
