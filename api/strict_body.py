"""Strict JSON bodies.

Litestar converts bodies leniently ("3" is accepted for an integer). Before a handler runs, its
body is decoded once more with msgspec in strict mode against the handler's own `data` type, so a
wrong type is a 400 that names the field, never a silent coercion.
"""

from __future__ import annotations

from typing import Any

import msgspec
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
