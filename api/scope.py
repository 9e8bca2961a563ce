"""The territory guard: a record named in the path is checked against a bound dispatcher's
territory before any handler runs, so no handler can forget to; another territory's record
answers 404 as if it did not exist (dispatch/access/scope.py holds the rules).

A path parameter the guard does not know refuses such a dispatcher (403) until it is listed
below: a new kind of record is scoped on purpose, never by luck. The authorization matrix
(tests/integration/access/test_authorization_matrix.py) holds every route to it.
"""

from __future__ import annotations

from typing import Any
from uuid import UUID

from litestar.connection import ASGIConnection
from litestar.exceptions import PermissionDeniedException
from litestar.handlers.base import BaseRouteHandler

from dispatch.access import scope
from dispatch.access.accounts import Principal
from dispatch.access.scope import Record
from infra.db import acquire

PATH_RECORDS: dict[str, Record] = {
    "site_id": Record.SITE,
    "job_id": Record.JOB,
    "asset_id": Record.ASSET,
    "technician_id": Record.TECHNICIAN,
    "shift_id": Record.SHIFT,
    "customer_id": Record.CUSTOMER,
    "location_id": Record.STOCK_LOCATION,
    "depot_id": Record.DEPOT,
    "territory_id": Record.TERRITORY,
    "plan_id": Record.PLAN,
}
# No territory: the company's catalogue, the caller's own push subscriptions (their handler
# checks the owner), the customer's tracking link, and a calendar date.
SHARED = frozenset({"part_id", "fitment_id", "code", "subscription_id", "token", "date"})


async def within_territory(connection: ASGIConnection[Any, Any, Any, Any], _: BaseRouteHandler) -> None:
    principal = connection.scope.get("user")
    if not isinstance(principal, Principal):
        return
    own = scope.territory_of(principal)
    if own is None:
        return
    named = [(name, value) for name, value in connection.path_params.items() if name not in SHARED]
    if not named:
        return
    unknown = sorted(name for name, _ in named if name not in PATH_RECORDS)
    if unknown:
        raise PermissionDeniedException(
            f"{unknown[0]}: not open to a dispatcher bound to a territory (the record's territory is unknown)"
        )
    async with acquire(connection.app.state.pool) as conn:
        for name, value in named:
            record = PATH_RECORDS[name]
            if not isinstance(value, UUID):
                raise PermissionDeniedException(f"{name}: a record's id is a UUID")
            if await scope.in_territory(conn, own, record, value) is False:
                raise scope.not_found(record)


def refuse_move(what: str) -> PermissionDeniedException:
    return PermissionDeniedException(f"territory_id: moving {what} to another territory is an admin's act")
