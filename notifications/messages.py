"""What someone must be told: a message for the outbox."""

from __future__ import annotations

import enum
from dataclasses import dataclass
from uuid import UUID

from notifications.notices import Notice, kind_of


class Audience(enum.StrEnum):
    CUSTOMER = "customer"
    TECHNICIAN = "technician"
    DISPATCHER = "dispatcher"


@dataclass(frozen=True)
class Message:
    notice: Notice
    audience: Audience
    job_id: UUID | None = None
    technician_id: UUID | None = None
    territory_id: UUID | None = None
    topic: str | None = None  # messages of one topic replace each other on an offline phone
    urgency: str = "normal"
    ttl_s: int = 3600

    @property
    def kind(self) -> str:
        return kind_of(self.notice)


def job_topic(job_id: UUID) -> str:
    """The Web Push Topic of one job's messages: a phone that was offline gets only the latest."""
    return "job-" + job_id.hex[:24]
