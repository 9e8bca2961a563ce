"""What a push message says: service information only, short (a push payload is small), in
the customer's or the technician's words."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime
from uuid import UUID
from zoneinfo import ZoneInfo

import msgspec


class PushPayload(msgspec.Struct, frozen=True, kw_only=True):
    kind: str
    title: str
    body: str
    job_id: UUID | None
    data: dict[str, object]


@dataclass(frozen=True)
class _Facts:
    payload: dict[str, object]
    timezone: str

    @property
    def who(self) -> str:
        return str(self.payload.get("technician") or "Your technician")

    def clock(self, field: str, index: int | None = None) -> str:
        """A time from the payload on the clock of the job's territory, where the customer is."""
        value = self.payload.get(field)
        if index is not None:
            value = value[index] if isinstance(value, list) and len(value) > index else None
        if not isinstance(value, str):
            return ""
        try:
            return datetime.fromisoformat(value).astimezone(ZoneInfo(self.timezone)).strftime("%H:%M")
        except ValueError:
            return value


def _on_the_way(f: _Facts) -> tuple[str, str]:
    eta = f.clock("eta_at")
    return "On the way", f"{f.who} is on the way" + (f", arriving about {eta}." if eta else ".")


def _window_changed(f: _Facts) -> tuple[str, str]:
    start, end = f.clock("window", 0), f.clock("window", 1)
    if start and end:
        return "New arrival window", f"We will now arrive between {start} and {end}."
    return "New arrival window", "Your arrival window has changed."


def _delayed(f: _Facts) -> tuple[str, str]:
    apology = str(f.payload.get("apology") or "We are sorry: your technician is running late.")
    eta = f.clock("eta_at")
    return "Running late", apology + (f" New arrival about {eta}." if eta else "")


def _job_pinned(f: _Facts) -> tuple[str, str]:
    at = f.clock("start_at")
    return "Visit time fixed", f"A job on your day is fixed at {at}." if at else "A job is fixed to you."


# Only the message being sent is worded: the worker renders one per delivery, at hundreds a second.
_TEXTS: dict[str, Callable[[_Facts], tuple[str, str]]] = {
    "assigned": lambda f: ("Your visit is booked", f"{f.who} will come to you."),
    "on_the_way": _on_the_way,
    "eta_changed": lambda f: (
        "New arrival time",
        f"{f.who} now expects to arrive about {f.clock('eta_at')}.",
    ),
    "nearby": lambda f: ("Almost there", f"{f.who} is about 10 minutes away."),
    "arrived": lambda f: ("Arrived", f"{f.who} has arrived."),
    "completed": lambda f: ("Done", "The job is done. Tell us how it went."),
    "delayed": _delayed,
    "follow_up_booked": lambda f: ("A second visit", "We will come back with the missing part."),
    "assignment_changed": lambda f: ("Your visit", "We are arranging another technician for your visit."),
    "window_changed": _window_changed,
    "visit_time_set": lambda f: ("Your visit is fixed", f"We will be there at {f.clock('start_at')}."),
    "cancelled": lambda f: ("Visit cancelled", "Your visit has been cancelled."),
    "job_added": lambda f: ("New job", "A job was added to your day."),
    "job_removed": lambda f: ("Job removed", "A job was taken off your day."),
    "job_dispatched": lambda f: ("Dispatched", "A job is ready for you."),
    "job_pinned": _job_pinned,
    "job_unpinned": lambda f: ("Visit time freed", "A job on your day may be moved again."),
    "job_at_risk": lambda f: ("Job at risk", f"Risk: {f.payload.get('risk', '')}"),
    "technician_silent": lambda f: (
        "Technician silent",
        "A technician on shift has not sent a position lately.",
    ),
    "technician_stuck": lambda f: (
        "Technician not moving",
        "A technician on the way to a job has not moved lately.",
    ),
    "technician_running_late": lambda f: (
        "Running late",
        f"A technician is {f.payload.get('minutes', '?')} minutes late.",
    ),
    "technician_sick": lambda f: ("Technician sick", "Jobs need re-matching."),
    "follow_up_needed": lambda f: ("Follow-up needed", "A visit could not finish."),
}
# Kinds told to the customer and to staff alike, in staff's words.
_STAFF_TEXTS: dict[str, Callable[[_Facts], tuple[str, str]]] = {
    "window_changed": lambda f: ("Window changed", "A job's arrival window has changed."),
}


def render(
    kind: str,
    payload: dict[str, object],
    job_id: UUID | None,
    timezone: str = "UTC",
    audience: str = "customer",
) -> PushPayload:
    """The message in words; times on the clock of the job's territory."""
    text = (audience != "customer" and _STAFF_TEXTS.get(kind)) or _TEXTS.get(kind)
    title, body = text(_Facts(payload, timezone)) if text else ("Update", "Your visit has an update.")
    return PushPayload(kind=kind, title=title, body=body, job_id=job_id, data=payload)
