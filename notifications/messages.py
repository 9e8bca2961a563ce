"""What someone must be told: a message for the outbox."""

from __future__ import annotations

import enum
from dataclasses import dataclass, field
from uuid import UUID


class Audience(enum.StrEnum):
    CUSTOMER = "customer"
    TECHNICIAN = "technician"
    DISPATCHER = "dispatcher"


@dataclass(frozen=True)
class Message:
    kind: str  # e.g. "assigned", "on_the_way", "arrived", "job_reassigned"
    audience: Audience
    job_id: UUID | None = None
    technician_id: UUID | None = None
    territory_id: UUID | None = None
    payload: dict[str, object] = field(default_factory=dict)
    topic: str | None = None  # messages of one topic replace each other on an offline phone
    urgency: str = "normal"
    ttl_s: int = 3600


def job_topic(job_id: UUID) -> str:
    """The Web Push Topic of one job's messages: a phone that was offline gets only the latest."""
    return "job-" + job_id.hex[:24]
