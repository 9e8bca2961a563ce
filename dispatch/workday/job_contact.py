"""The customer's number for the technician with their job in hand, the windshield technician who
calls ahead: offered only while on the way or on site, never for the rest of the day (the app is
carried into strangers' driveways, and a day's list of numbers is not the technician's to keep)."""

from __future__ import annotations

from uuid import UUID

import msgspec

from assets.customers import customer
from dispatch.access.accounts import Principal, Role
from dispatch.jobs import records as jobs
from dispatch.models import JobStatus
from infra.db import Connection

IN_HAND = frozenset({JobStatus.EN_ROUTE, JobStatus.ON_SITE})


class CustomerContact(msgspec.Struct, frozen=True, kw_only=True):
    first_name: str | None
    phone: str | None  # for a technician, only while the job is in hand
    in_hand: bool


async def contact_for_job(conn: Connection, principal: Principal, job_id: UUID) -> CustomerContact:
    """Staff see the customer's number (they see the customer); a technician only for their own
    job while it is in hand. Another's job is 404, as everywhere."""
    job = await jobs.get_job(conn, principal, job_id)
    in_hand = job.status in IN_HAND
    if job.customer_id is None:
        return CustomerContact(first_name=None, phone=None, in_hand=in_hand)
    who = await customer(conn, job.customer_id)
    first_name = who.name.split(" ", 1)[0] or None
    shown = principal.role != Role.TECHNICIAN or in_hand
    return CustomerContact(first_name=first_name, phone=who.phone if shown else None, in_hand=in_hand)
