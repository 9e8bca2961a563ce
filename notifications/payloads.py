"""What a push message says: service information only, short (a push payload is small), in
the customer's or the technician's words. The only place notices are worded."""

from __future__ import annotations

from datetime import datetime
from typing import assert_never
from uuid import UUID
from zoneinfo import ZoneInfo

import msgspec

from notifications.notices import (
    Arrived,
    Assigned,
    AssignmentChanged,
    Cancelled,
    Completed,
    Delayed,
    EtaChanged,
    FollowUpBooked,
    FollowUpNeeded,
    JobAdded,
    JobAtRisk,
    JobDispatched,
    JobPinned,
    JobRemoved,
    JobUnpinned,
    Nearby,
    Notice,
    OnTheWay,
    TechnicianRunningLate,
    TechnicianSick,
    TechnicianSilent,
    TechnicianStuck,
    VisitTimeSet,
    WindowChanged,
    kind_of,
)

APOLOGY = "We are sorry: your technician is running late."


class PushPayload(msgspec.Struct, frozen=True, kw_only=True):
    kind: str
    title: str
    body: str
    job_id: UUID | None
    data: dict[str, object]


def render(
    notice: Notice, job_id: UUID | None, timezone: str = "UTC", audience: str = "customer"
) -> PushPayload:
    """The message in words; times on the clock of the job's territory."""
    title, body = _words(notice, ZoneInfo(timezone), staff=audience != "customer")
    data = msgspec.to_builtins(notice)
    del data["kind"]
    return PushPayload(kind=kind_of(notice), title=title, body=body, job_id=job_id, data=data)


def _words(notice: Notice, zone: ZoneInfo, *, staff: bool) -> tuple[str, str]:
    def clock(at: datetime | None) -> str:
        """A time on the clock of the job's territory, where the customer is."""
        return "" if at is None else at.astimezone(zone).strftime("%H:%M")

    # Only the message being sent is worded: the worker renders one per delivery, at hundreds a second.
    match notice:
        case Assigned():
            return "Your visit is booked", f"{_who(notice.technician)} will come to you."
        case OnTheWay():
            eta = clock(notice.eta_at)
            who = _who(notice.technician)
            return "On the way", f"{who} is on the way" + (f", arriving about {eta}." if eta else ".")
        case EtaChanged():
            return (
                "New arrival time",
                f"{_who(notice.technician)} now expects to arrive about {clock(notice.eta_at)}.",
            )
        case Nearby():
            return "Almost there", f"{_who(notice.technician)} is about 10 minutes away."
        case Arrived():
            return "Arrived", f"{_who(notice.technician)} has arrived."
        case Completed():
            return "Done", "The job is done. Tell us how it went."
        case Delayed():
            eta = clock(notice.eta_at)
            return "Running late", APOLOGY + (f" New arrival about {eta}." if eta else "")
        case FollowUpBooked():
            return "A second visit", "We will come back with the missing part."
        case AssignmentChanged():
            return "Your visit", "We are arranging another technician for your visit."
        case WindowChanged():
            # Told to the customer and to staff alike, in staff's words for staff.
            if staff:
                return "Window changed", "A job's arrival window has changed."
            if notice.window is not None:
                start, end = (clock(at) for at in notice.window)
                return "New arrival window", f"We will now arrive between {start} and {end}."
            return "New arrival window", "Your arrival window has changed."
        case VisitTimeSet():
            return "Your visit is fixed", f"We will be there at {clock(notice.start_at)}."
        case Cancelled():
            return "Visit cancelled", "Your visit has been cancelled."
        case JobAdded():
            return "New job", "A job was added to your day."
        case JobRemoved():
            return "Job removed", "A job was taken off your day."
        case JobDispatched():
            return "Dispatched", "A job is ready for you."
        case JobPinned():
            at = clock(notice.start_at)
            return (
                "Visit time fixed",
                f"A job on your day is fixed at {at}." if at else "A job is fixed to you.",
            )
        case JobUnpinned():
            return "Visit time freed", "A job on your day may be moved again."
        case JobAtRisk():
            return "Job at risk", f"Risk: {notice.risk}"
        case TechnicianSilent():
            return "Technician silent", "A technician on shift has not sent a position lately."
        case TechnicianStuck():
            return "Technician not moving", "A technician on the way to a job has not moved lately."
        case TechnicianRunningLate():
            minutes = "?" if notice.minutes is None else str(notice.minutes)
            return "Running late", f"A technician is {minutes} minutes late."
        case TechnicianSick():
            return "Technician sick", "Jobs need re-matching."
        case FollowUpNeeded():
            return "Follow-up needed", "A visit could not finish."
        case _:
            assert_never(notice)


def _who(first_name: str | None) -> str:
    return first_name or "Your technician"
