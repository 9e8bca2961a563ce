"""What someone must be told, one Struct per kind: a kind that is not here cannot be built, stored
or worded (notifications/payloads.py words each, and mypy checks that it words them all).

The kind is the Struct's tag, and the outbox keeps it in its own column as well as in the payload.
Field names are those the payloads had before they were typed, so a row queued by an older
version still reads (`from_row` puts the column's kind into the payload). Every field a row of
that time might lack has a default.
"""

from __future__ import annotations

from datetime import datetime
from typing import Literal, get_args
from uuid import UUID

import msgspec


class Candidate(msgspec.Struct, frozen=True, kw_only=True):
    """A technician who could take a job over, as a dispatcher reads them."""

    technician_id: UUID
    name: str
    score: float
    reason: str


class Offer(msgspec.Struct, frozen=True, kw_only=True):
    job_id: UUID
    candidates: list[Candidate] = []


class _Notice(msgspec.Struct, frozen=True, kw_only=True, tag_field="kind"):
    pass


# To the customer.
class Assigned(_Notice, frozen=True, kw_only=True, tag="assigned"):
    technician: str | None = None  # first name only
    arrival_window: tuple[datetime, datetime] | None = None


class OnTheWay(_Notice, frozen=True, kw_only=True, tag="on_the_way"):
    technician: str | None = None
    eta_at: datetime | None = None


class EtaChanged(_Notice, frozen=True, kw_only=True, tag="eta_changed"):
    technician: str | None = None
    eta_at: datetime | None = None


class Nearby(_Notice, frozen=True, kw_only=True, tag="nearby"):
    technician: str | None = None
    eta_at: datetime | None = None


class Arrived(_Notice, frozen=True, kw_only=True, tag="arrived"):
    technician: str | None = None


class Completed(_Notice, frozen=True, kw_only=True, tag="completed"):
    technician: str | None = None
    ask_rating: bool = True  # the tracking page asks for the rating once the visit is over


class Delayed(_Notice, frozen=True, kw_only=True, tag="delayed"):
    eta_at: datetime | None = None


class FollowUpBooked(_Notice, frozen=True, kw_only=True, tag="follow_up_booked"):
    follow_up_job_id: UUID | None = None


class AssignmentChanged(_Notice, frozen=True, kw_only=True, tag="assignment_changed"):
    window: tuple[datetime, datetime] | None = None


class WindowChanged(_Notice, frozen=True, kw_only=True, tag="window_changed"):
    """To the customer with the new window; to the technician with the dispatcher's reason."""

    window: tuple[datetime, datetime] | None = None
    reason: str | None = None
    # To the technician when the change re-placed the job in their day: the phone re-orders it.
    planned_start_at: datetime | None = None
    replanned: list[UUID] = []


class VisitTimeSet(_Notice, frozen=True, kw_only=True, tag="visit_time_set"):
    start_at: datetime | None = None


class Cancelled(_Notice, frozen=True, kw_only=True, tag="cancelled"):
    by: Literal["customer", "us"] = "us"


# To the technician.
class JobAdded(_Notice, frozen=True, kw_only=True, tag="job_added"):
    planned_start_at: datetime | None = None
    replanned: list[UUID] = []  # the technician's other jobs that moved to make room


class JobRemoved(_Notice, frozen=True, kw_only=True, tag="job_removed"):
    reason: str | None = None  # the dispatcher's or the canceller's own words
    rescheduled_by_customer: bool = False


class JobDispatched(_Notice, frozen=True, kw_only=True, tag="job_dispatched"):
    planned_start_at: datetime | None = None


class JobPinned(_Notice, frozen=True, kw_only=True, tag="job_pinned"):
    start_at: datetime | None = None  # none: pinned to the technician, not to a time


class JobUnpinned(_Notice, frozen=True, kw_only=True, tag="job_unpinned"):
    pass


# To the dispatchers.
class JobAtRisk(_Notice, frozen=True, kw_only=True, tag="job_at_risk"):
    risk: str  # dispatch.tracking.board.Risk's value
    candidates: list[Candidate] = []


class _TechnicianAtRisk(_Notice, frozen=True, kw_only=True):
    last_fix_at: datetime | None = None
    candidates: list[Candidate] = []


class TechnicianSilent(_TechnicianAtRisk, frozen=True, kw_only=True, tag="technician_silent"):
    pass


class TechnicianStuck(_TechnicianAtRisk, frozen=True, kw_only=True, tag="technician_stuck"):
    pass


class TechnicianRunningLate(_Notice, frozen=True, kw_only=True, tag="technician_running_late"):
    minutes: int | None = None
    reason: str | None = None
    jobs: list[UUID] = []


class TechnicianSick(_Notice, frozen=True, kw_only=True, tag="technician_sick"):
    reason: str | None = None
    jobs: list[Offer] = []


class FollowUpNeeded(_Notice, frozen=True, kw_only=True, tag="follow_up_needed"):
    follow_up_job_id: UUID | None = None
    reason: str | None = None


Notice = (
    Assigned
    | OnTheWay
    | EtaChanged
    | Nearby
    | Arrived
    | Completed
    | Delayed
    | FollowUpBooked
    | AssignmentChanged
    | WindowChanged
    | VisitTimeSet
    | Cancelled
    | JobAdded
    | JobRemoved
    | JobDispatched
    | JobPinned
    | JobUnpinned
    | JobAtRisk
    | TechnicianSilent
    | TechnicianStuck
    | TechnicianRunningLate
    | TechnicianSick
    | FollowUpNeeded
)

NOTICE_TYPES: tuple[type[Notice], ...] = get_args(Notice)


def kind_of(notice: Notice) -> str:
    tag = notice.__struct_config__.tag
    assert isinstance(tag, str)
    return tag


def from_row(kind: str, payload: object) -> Notice:
    """The notice an outbox row holds; msgspec.ValidationError for a kind or a payload that is not
    one of ours (the worker fails that row loudly rather than sending something generic)."""
    fields = dict(payload) if isinstance(payload, dict) else payload
    if isinstance(fields, dict):
        fields["kind"] = kind  # the column is the truth, as it is what queries select by
    notice: Notice = msgspec.convert(fields, Notice)
    return notice
