from __future__ import annotations

from dispatch.models import JobStatus
from infra.errors import ConflictError, InvalidError, NotFoundError, PreconditionFailedError


class JobNotFoundError(NotFoundError):
    def __init__(self) -> None:
        super().__init__("no job with this id")


class TerritoryNotFoundError(NotFoundError):
    def __init__(self) -> None:
        super().__init__("no territory with this id")


class TechnicianNotFoundError(NotFoundError):
    def __init__(self) -> None:
        super().__init__("no technician with this id")


class ShiftNotFoundError(NotFoundError):
    def __init__(self) -> None:
        super().__init__("no shift with this id")


class DepotNotFoundError(NotFoundError):
    def __init__(self) -> None:
        super().__init__("no depot with this id")


class TransitionRefused(ConflictError):
    """A move the job's lifecycle does not allow from where it is."""

    def __init__(self, current: JobStatus, wanted: JobStatus, message: str | None = None) -> None:
        super().__init__(message or f"a {current.value} job cannot become {wanted.value}", field="status")
        self.current = current
        self.wanted = wanted


class StaleVersion(PreconditionFailedError):
    """The caller read an older version of the job than the one stored."""

    def __init__(self, stored: int, sent: int) -> None:
        super().__init__(
            f"the job changed since you read it: it is at version {stored}, you sent {sent}", field="If-Match"
        )
        self.stored = stored
        self.sent = sent


class NoTechnicianCanTake(ConflictError):
    """Nobody can take the job now, and why (one line per reason)."""


class VanShort(ConflictError):
    """A van holds fewer of a part than asked of it."""


class AskBackError(InvalidError):
    """The request is fine but one answer is missing; `candidates` lists what to choose from."""
