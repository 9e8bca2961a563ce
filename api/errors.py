"""Every error leaves the API as {"status_code", "detail", "extra": [{"key", "message", "source"}]}.

Domain exceptions and database constraint violations are mapped here, in one place, so a handler
never builds an HTTP error itself and no input produces a 500.
"""

from __future__ import annotations

import logging
import re
from enum import Enum
from typing import Any

import asyncpg
import msgspec
from litestar import MediaType, Request, Response
from litestar.di import Provide
from litestar.exceptions import HTTPException, NotAuthorizedException, ValidationException
from litestar.params import ParameterKwarg
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

from api.http_edge import redact_tokens
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


def name_sent(request: Request[Any, Any, Any], key: str) -> str:
    """The name a client sent a parameter under (`date`), where Litestar's error names the
    handler's or a dependency's argument (`day`)."""
    handler = request.route_handler
    signatures = [handler.parsed_fn_signature] + [
        p.parsed_fn_signature
        for p in handler.resolve_dependencies().values()
        if isinstance(p, Provide) and hasattr(p, "parsed_fn_signature")
    ]
    for signature in signatures:
        field = signature.parameters.get(key)
        kwarg = None if field is None else field.kwarg_definition
        if isinstance(kwarg, ParameterKwarg) and kwarg.name:
            return kwarg.name
    return key


def handle_validation(request: Request[Any, Any, Any], exc: ValidationException) -> Response[ErrorBody]:
    extra: list[ErrorDetail] = []
    if isinstance(exc.extra, list):
        for item in exc.extra:
            if not isinstance(item, dict):
                continue
            message = str(item.get("message", ""))
            key = str(item.get("key", ""))
            # Litestar gives a parameter's source as an enum, whose str() is "ParamType.QUERY".
            raw_source = item.get("source", "body")
            source = str(raw_source.value if isinstance(raw_source, Enum) else raw_source)
            if key in ("", "data"):
                key = field_of_decode_error(message)
            elif source != "body":
                key = name_sent(request, key)
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


def handle_domain(request: Request[Any, Any, Any], exc: DomainError) -> Response[ErrorBody]:
    status = next((code for cls, code in _DOMAIN_STATUS if isinstance(exc, cls)), HTTP_400_BAD_REQUEST)
    extra = [ErrorDetail(exc.field, exc.message, _sent_in(request, exc.field))] if exc.field else []
    return error_response(status, exc.message, extra, exc.candidates)


def _sent_in(request: Request[Any, Any, Any], field: str) -> str:
    """Where the client sent the field a domain rule names: the domain knows the field's name
    (as sent), not which part of the request carried it."""
    if field in request.query_params:
        return "query"
    if field in request.path_params:
        return "path"
    # Headers are named as HTTP spells them (If-Match, Last-Event-ID); body fields in snake_case.
    if field[:1].isupper() and field in request.headers:
        return "header"
    return "body"


_KEY_IN_DETAIL = re.compile(r"Key \(([^)]+)\)=\((.*)\)")
_CHECK_SUFFIX = re.compile(r"_check\d*$")
_PARTITION = re.compile(r"_(?:\d{8}|default)$")

# Rules over several fields, in the API's words (field, message). A rule over one field is named
# by PostgreSQL after its table and column (`jobs_priority_check`) and told from that name.
_RULES: dict[str, tuple[tuple[str, ...], str]] = {
    "asset_attribute_changes_check": (("asset_event_id",), "a change from a visit names the visit"),
    "assets_check": (("removed_at",), "must not be before installed_at"),
    "fitments_check": (("make",), "a fitment for a model names its make"),
    "jobs_check": (("window_end_at",), "must be after window_start_at"),
    "jobs_check1": (("technician_id",), "a scheduled or started job has a technician"),
    "jobs_check2": (("technician_id",), "a pinned job has a technician"),
    "jobs_check3": (("pinned_start_at",), "only a pinned job has a pinned start"),
    "push_deliveries_pending_has_recipient": (("recipient_id",), "a delivery still to send has a recipient"),
    "push_subscriptions_check": (("job_id", "user_id"), "a subscription is for a job or for a user"),
    "shift_breaks_check": (
        ("latest_end_at",),
        "the break must fit between earliest_start_at and latest_end_at",
    ),
    "shifts_check": (("ends_at",), "must be after starts_at"),
    "shifts_check1": (("ends_at",), "a shift lasts at most 24 hours"),
    "site_occupancies_check": (("ended_at",), "must be after started_at"),
    "stock_locations_check": (("technician_id",), "a van belongs to a technician, a depot to nobody"),
    "stock_locations_check1": (
        ("latitude", "longitude", "territory_id"),
        "a depot has a place and a territory",
    ),
    "tracking_tokens_check": (("expires_at",), "must be after the link is made"),
    "users_check": (("technician_id",), "a technician login is linked to a technician record, and only it"),
}


def constraint_words(constraint: str, table: str) -> tuple[tuple[str, ...], str]:
    """The fields a CHECK constraint is about and what it says, without the constraint's name:
    the name is the schema's, not the API's."""
    rule = _RULES.get(constraint)
    if rule is not None:
        return rule
    table = _PARTITION.sub("", table)  # a daily partition carries its parent's constraints
    column = _CHECK_SUFFIX.sub("", constraint).removeprefix(f"{table}_")
    if column and column != _CHECK_SUFFIX.sub("", constraint):
        return (column,), "the value is outside what this field accepts"
    return (), "the values break a rule of this record"


def _rule_response(status: int, fields: tuple[str, ...], message: str) -> Response[ErrorBody]:
    named = ", ".join(fields)
    return error_response(
        status, f"{named}: {message}" if named else message, [ErrorDetail(f, message) for f in fields]
    )


def handle_integrity(
    _: Request[Any, Any, Any], exc: asyncpg.IntegrityConstraintViolationError
) -> Response[ErrorBody]:
    # The domain checks first; these are the races and the rules only the database can see.
    # Answers name fields, never a constraint, table or index: those are the schema's words.
    detail_text = getattr(exc, "detail", None) or ""
    found = _KEY_IN_DETAIL.search(detail_text)
    column = found.group(1) if found else (getattr(exc, "column_name", None) or "")
    column = column.removeprefix("lower(").removesuffix("::text)").removesuffix(")")
    fields: tuple[str, ...] = (column,) if column else ()
    if isinstance(exc, asyncpg.UniqueViolationError):
        return _rule_response(HTTP_409_CONFLICT, fields, "a record with this value already exists")
    if isinstance(exc, asyncpg.ForeignKeyViolationError):
        if "is still referenced" in detail_text:
            return _rule_response(HTTP_409_CONFLICT, (), "it is still referenced by other records")
        return _rule_response(HTTP_422_UNPROCESSABLE_ENTITY, fields, "no such record")
    if isinstance(exc, asyncpg.NotNullViolationError):
        return _rule_response(HTTP_422_UNPROCESSABLE_ENTITY, fields, "a value is required")
    if isinstance(exc, asyncpg.CheckViolationError):
        constraint = getattr(exc, "constraint_name", None) or ""
        fields, message = constraint_words(constraint, getattr(exc, "table_name", None) or "")
        return _rule_response(HTTP_422_UNPROCESSABLE_ENTITY, fields, message)
    return _rule_response(HTTP_422_UNPROCESSABLE_ENTITY, fields, "the values break a rule of the data")


def handle_data_error(_: Request[Any, Any, Any], exc: asyncpg.DataError) -> Response[ErrorBody]:
    # Values the Structs let through but PostgreSQL cannot hold (e.g. a date past year 294276).
    # The driver names the query's argument by number ($3), which means nothing to a client:
    # only why is kept.
    first_line = str(exc).splitlines()[0] if str(exc) else ""
    argument = _QUERY_ARGUMENT.match(first_line)
    why = argument.group(1) if argument else first_line
    column = getattr(exc, "column_name", None) or ""
    message = "a value is outside what can be stored" + (f" ({why})" if why else "")
    return _rule_response(HTTP_400_BAD_REQUEST, (column,) if column else (), message)


_QUERY_ARGUMENT = re.compile(r"invalid input for query argument \$\d+: .*\(([^()]*)\)\s*$")


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
    """Litestar groups errors in two places: dependencies resolved concurrently, and the cleanup
    of a request that failed, where the connection's rollback can fail too (the database went
    away mid-request) and the group is raised *from* the request's own error. Answer for that
    error when there is one, else for the first error inside."""
    first: BaseException = exc.__cause__ if isinstance(exc.__cause__, Exception) else exc
    while isinstance(first, BaseExceptionGroup) and first.exceptions:
        first = first.exceptions[0]
    for cls in type(first).__mro__:
        handler = EXCEPTION_HANDLERS.get(cls)
        if handler is not None and cls is not ExceptionGroup:
            response: Response[ErrorBody] = handler(request, first)
            return response
    return handle_unexpected(request, exc)


def handle_unexpected(request: Request[Any, Any, Any], exc: Exception) -> Response[ErrorBody]:
    log.exception("unhandled error on %s %s", request.method, redact_tokens(request.url.path), exc_info=exc)
    return error_response(HTTP_500_INTERNAL_SERVER_ERROR, "Internal error; it has been logged.")


EXCEPTION_HANDLERS: dict[type[Exception] | int, Any] = {
    ValidationException: handle_validation,
    DomainError: handle_domain,
    asyncpg.IntegrityConstraintViolationError: handle_integrity,
    asyncpg.DataError: handle_data_error,
    DatabaseUnavailableError: handle_unavailable,
    asyncpg.DeadlockDetectedError: handle_transient,
    asyncpg.SerializationError: handle_transient,
    asyncpg.exceptions.LockNotAvailableError: handle_transient,
    # Every failure of the database itself is a 503, whatever the request was doing.
    asyncpg.OperatorInterventionError: handle_unavailable,  # shutting down, starting up, cancelled
    asyncpg.PostgresConnectionError: handle_unavailable,
    asyncpg.TooManyConnectionsError: handle_unavailable,
    asyncpg.exceptions.InsufficientResourcesError: handle_unavailable,  # disk full, out of memory
    asyncpg.exceptions.PostgresSystemError: handle_unavailable,  # I/O errors
    asyncpg.exceptions.InternalServerError: handle_unavailable,
    # The connection broke under a query in flight (seen when PostgreSQL restarts mid-request):
    # the driver says it is closed, released, or in a state it cannot leave.
    asyncpg.InterfaceError: handle_unavailable,
    asyncpg.InternalClientError: handle_unavailable,
    ConnectionError: handle_unavailable,
    TimeoutError: handle_unavailable,  # a query past the pool's command timeout
    HTTPException: handle_http,
    ExceptionGroup: handle_group,
    HTTP_500_INTERNAL_SERVER_ERROR: handle_unexpected,
}
