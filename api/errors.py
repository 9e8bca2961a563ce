"""Every error leaves the API as {"status_code", "detail", "extra": [{"key", "message", "source"}]}.

Domain exceptions and database constraint violations are mapped here, in one place, so a handler
never builds an HTTP error itself and no input produces a 500.
"""

from __future__ import annotations

import logging
import re
from typing import Any

import asyncpg
import msgspec
from litestar import MediaType, Request, Response
from litestar.exceptions import HTTPException, NotAuthorizedException, ValidationException
from litestar.status_codes import (
    HTTP_400_BAD_REQUEST,
    HTTP_404_NOT_FOUND,
    HTTP_409_CONFLICT,
    HTTP_412_PRECONDITION_FAILED,
    HTTP_422_UNPROCESSABLE_ENTITY,
    HTTP_428_PRECONDITION_REQUIRED,
    HTTP_500_INTERNAL_SERVER_ERROR,
    HTTP_503_SERVICE_UNAVAILABLE,
)

from infra.errors import (
    ConflictError,
    DatabaseUnavailableError,
    DomainError,
    InvalidError,
    NotFoundError,
    PreconditionFailedError,
    PreconditionRequiredError,
)

log = logging.getLogger("truckroll.api")


class ErrorDetail(msgspec.Struct, frozen=True):
    key: str
    message: str
    source: str = "body"


class ErrorBody(msgspec.Struct, frozen=True):
    status_code: int
    detail: str
    extra: list[ErrorDetail] = []
    # Only when the answer is "which one?": the records to choose from.
    candidates: list[dict[str, object]] = []


def error_response(
    status: int,
    detail: str,
    extra: list[ErrorDetail] | None = None,
    candidates: list[dict[str, object]] | None = None,
) -> Response[ErrorBody]:
    body = ErrorBody(status, detail, extra or [], candidates or [])
    return Response(body, status_code=status, media_type=MediaType.JSON)


_PATH_IN_MESSAGE = re.compile(r"at `\$((?:\.[A-Za-z_][A-Za-z0-9_]*|\[\d+\]|\[[^\]]*\])*)`")
_FIELD_IN_MESSAGE = re.compile(r"(?:required|unknown) field `([^`]+)`")


def field_of_decode_error(message: str) -> str:
    """The dotted field a msgspec error message is about, e.g. "window.start_at" or "skills[2]"."""
    path = ""
    found = _PATH_IN_MESSAGE.search(message)
    if found:
        path = found.group(1).lstrip(".")
    named = _FIELD_IN_MESSAGE.search(message)
    if named:
        path = f"{path}.{named.group(1)}" if path else named.group(1)
    return path or "body"


def decode_error_response(message: str) -> Response[ErrorBody]:
    field = field_of_decode_error(message)
    detail = message.replace("`$.", "`").replace("`$`", "the body")
    return error_response(
        HTTP_400_BAD_REQUEST,
        f"{field}: {detail}" if field != "body" else detail,
        [ErrorDetail(field, detail, "body")],
    )


def handle_validation(_: Request[Any, Any, Any], exc: ValidationException) -> Response[ErrorBody]:
    extra: list[ErrorDetail] = []
    if isinstance(exc.extra, list):
        for item in exc.extra:
            if not isinstance(item, dict):
                continue
            message = str(item.get("message", ""))
            key = str(item.get("key", ""))
            source = str(item.get("source", "body"))
            if key in ("", "data"):
                key = field_of_decode_error(message)
            extra.append(ErrorDetail(key, message, source))
    if extra:
        detail = "; ".join(f"{e.key}: {e.message}" for e in extra)
    else:
        detail = exc.detail or "The request is not valid."
    return error_response(HTTP_400_BAD_REQUEST, detail, extra)


_DOMAIN_STATUS: tuple[tuple[type[DomainError], int], ...] = (
    (NotFoundError, HTTP_404_NOT_FOUND),
    (InvalidError, HTTP_422_UNPROCESSABLE_ENTITY),
    (ConflictError, HTTP_409_CONFLICT),
    (PreconditionFailedError, HTTP_412_PRECONDITION_FAILED),
    (PreconditionRequiredError, HTTP_428_PRECONDITION_REQUIRED),
)


def handle_domain(_: Request[Any, Any, Any], exc: DomainError) -> Response[ErrorBody]:
    status = next((code for cls, code in _DOMAIN_STATUS if isinstance(exc, cls)), HTTP_400_BAD_REQUEST)
    extra = [ErrorDetail(exc.field, exc.message)] if exc.field else []
    return error_response(status, exc.message, extra, exc.candidates)


_KEY_IN_DETAIL = re.compile(r"Key \(([^)]+)\)=\((.*)\)")


def handle_integrity(
    _: Request[Any, Any, Any], exc: asyncpg.IntegrityConstraintViolationError
) -> Response[ErrorBody]:
    # The domain checks first; these are the races and the rules only the database can see.
    detail_text = getattr(exc, "detail", None) or ""
    found = _KEY_IN_DETAIL.search(detail_text)
    column = found.group(1) if found else (getattr(exc, "column_name", None) or "body")
    column = column.removeprefix("lower(").removesuffix("::text)").removesuffix(")")
    if isinstance(exc, asyncpg.UniqueViolationError):
        message = f"{column}: a record with this value already exists"
        return error_response(HTTP_409_CONFLICT, message, [ErrorDetail(column, message)])
    if isinstance(exc, asyncpg.ForeignKeyViolationError):
        if "is still referenced" in detail_text:
            message = "it is still referenced by other records"
            return error_response(HTTP_409_CONFLICT, message)
        message = f"{column}: no such record"
        return error_response(HTTP_422_UNPROCESSABLE_ENTITY, message, [ErrorDetail(column, message)])
    if isinstance(exc, asyncpg.CheckViolationError):
        constraint = getattr(exc, "constraint_name", "") or ""
        message = f"the values break the rule {constraint or 'of this record'}"
        return error_response(
            HTTP_422_UNPROCESSABLE_ENTITY, message, [ErrorDetail(constraint or "body", message)]
        )
    message = str(exc).splitlines()[0] if str(exc) else "the values break a rule of the data"
    return error_response(HTTP_422_UNPROCESSABLE_ENTITY, message)


def handle_data_error(_: Request[Any, Any, Any], exc: asyncpg.DataError) -> Response[ErrorBody]:
    # Values the Structs let through but PostgreSQL cannot hold (e.g. a date past year 294276).
    message = str(exc).splitlines()[0]
    return error_response(HTTP_400_BAD_REQUEST, message)


def handle_unavailable(_: Request[Any, Any, Any], exc: Exception) -> Response[ErrorBody]:
    log.warning("database unavailable: %s", exc)
    response = error_response(HTTP_503_SERVICE_UNAVAILABLE, "The database is unavailable; try again shortly.")
    response.headers["Retry-After"] = "2"
    return response


def handle_transient(_: Request[Any, Any, Any], exc: Exception) -> Response[ErrorBody]:
    # Two requests locked the same rows in opposite orders, or a serializable read went stale:
    # PostgreSQL rolled this one back whole, so sending it again (same Idempotency-Key) is safe.
    log.warning("transient database conflict: %s", exc)
    response = error_response(
        HTTP_503_SERVICE_UNAVAILABLE,
        "Another change to the same records happened at the same moment; try again.",
    )
    response.headers["Retry-After"] = "1"
    return response


def handle_http(_: Request[Any, Any, Any], exc: HTTPException) -> Response[ErrorBody]:
    detail = exc.detail or "error"
    extra: list[ErrorDetail] = []
    if isinstance(exc, NotAuthorizedException) and detail == "error":
        detail = "Authentication required."
    response = error_response(exc.status_code, detail, extra)
    if exc.headers:
        response.headers.update(exc.headers)
    return response


def handle_group(request: Request[Any, Any, Any], exc: ExceptionGroup[Exception]) -> Response[ErrorBody]:
    """Litestar resolves a handler's dependencies concurrently, so an error from one (the database
    connection, most often) arrives wrapped in a group: answer for the first error inside."""
    first: BaseException = exc
    while isinstance(first, BaseExceptionGroup) and first.exceptions:
        first = first.exceptions[0]
    for cls in type(first).__mro__:
        handler = EXCEPTION_HANDLERS.get(cls)
        if handler is not None and cls is not ExceptionGroup:
            response: Response[ErrorBody] = handler(request, first)
            return response
    return handle_unexpected(request, exc)


def handle_unexpected(request: Request[Any, Any, Any], exc: Exception) -> Response[ErrorBody]:
    log.exception("unhandled error on %s %s", request.method, request.url.path, exc_info=exc)
    return error_response(HTTP_500_INTERNAL_SERVER_ERROR, "Internal error; it has been logged.")


EXCEPTION_HANDLERS: dict[type[Exception] | int, Any] = {
    ValidationException: handle_validation,
    DomainError: handle_domain,
    asyncpg.IntegrityConstraintViolationError: handle_integrity,
    asyncpg.DataError: handle_data_error,
    DatabaseUnavailableError: handle_unavailable,
    asyncpg.DeadlockDetectedError: handle_transient,
    asyncpg.SerializationError: handle_transient,
    asyncpg.OperatorInterventionError: handle_unavailable,  # shutting down, starting up
    # The connection broke under a query in flight (seen when PostgreSQL restarts mid-request).
    asyncpg.InternalClientError: handle_unavailable,
    asyncpg.PostgresConnectionError: handle_unavailable,
    asyncpg.TooManyConnectionsError: handle_unavailable,
    ConnectionRefusedError: handle_unavailable,
    HTTPException: handle_http,
    ExceptionGroup: handle_group,
    HTTP_500_INTERNAL_SERVER_ERROR: handle_unexpected,
}
