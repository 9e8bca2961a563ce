"""What a push message says: service information only, short (a push payload is small), in
the customer's or the technician's words."""

from __future__ import annotations

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


def render(kind: str, payload: dict[str, object], job_id: UUID | None, timezone: str = "UTC") -> PushPayload:
    """The message in words; times on the clock of the job's territory, where the customer is."""

    def _clock(value: object) -> str:
        if isinstance(value, str):
            try:
                return datetime.fromisoformat(value).astimezone(ZoneInfo(timezone)).strftime("%H:%M")
            except ValueError:
                return value
        return ""

    who = payload.get("technician") or "Your technician"
    eta = _clock(payload.get("eta_at"))
    texts = {
        "assigned": ("Your visit is booked", f"{who} will come to you."),
        "on_the_way": (
            "On the way",
            f"{who} is on the way" + (f", arriving about {eta}." if eta else "."),
        ),
        "eta_changed": (
            "New arrival time",
            f"{who} now expects to arrive about {eta}.",
        ),
        "nearby": ("Almost there", f"{who} is about 10 minutes away."),
        "arrived": ("Arrived", f"{who} has arrived."),
        "completed": ("Done", "The job is done. Tell us how it went."),
        "delayed": (
            "Running late",
            str(payload.get("apology") or "We are sorry: your technician is running late."),
        ),
        "follow_up_booked": ("A second visit", "We will come back with the missing part."),
        "assignment_changed": ("Your visit", "We are arranging another technician for your visit."),
        "window_changed": ("New arrival window", "Your arrival window has changed."),
        "visit_time_set": ("Your visit is fixed", f"We will be there at {_clock(payload.get('start_at'))}."),
        "cancelled": ("Visit cancelled", "Your visit has been cancelled."),
        "job_added": ("New job", "A job was added to your day."),
        "job_removed": ("Job removed", "A job was taken off your day."),
        "job_dispatched": ("Dispatched", "A job is ready for you."),
        "job_at_risk": ("Job at risk", f"Risk: {payload.get('risk', '')}"),
        "technician_silent": ("Technician silent", "A technician on shift has not sent a position lately."),
        "technician_stuck": (
            "Technician not moving",
            "A technician on the way to a job has not moved lately.",
        ),
        "technician_running_late": (
            "Running late",
            f"A technician is {payload.get('minutes', '?')} minutes late.",
        ),
        "technician_sick": ("Technician sick", "Jobs need re-matching."),
        "follow_up_needed": ("Follow-up needed", "A visit could not finish."),
    }
    title, body = texts.get(kind, ("Update", "Your visit has an update."))
    return PushPayload(kind=kind, title=title, body=body, job_id=job_id, data=payload)
