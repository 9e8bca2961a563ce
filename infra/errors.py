"""Domain exceptions shared by every package; `api/errors.py` maps them to HTTP in one place."""

from __future__ import annotations


class DomainError(Exception):
    """Base of every error a user can cause; the message is written for that user."""

    def __init__(
        self, message: str, *, field: str | None = None, candidates: list[dict[str, object]] | None = None
    ) -> None:
        super().__init__(message)
        self.message = message
        self.field = field
        # What the caller may choose from when the answer is "which one?" (e.g. two doors at a site).
        self.candidates = candidates or []


class NotFoundError(DomainError):
    """The thing addressed does not exist, or is not the caller's to see."""


class InvalidError(DomainError):
    """The request is well-formed but its content cannot be accepted (names the field)."""


class ConflictError(DomainError):
    """The request clashes with the current state (a duplicate, a stale version, a taken slot)."""


class PreconditionFailedError(DomainError):
    """The client's If-Match version is stale."""


class PreconditionRequiredError(DomainError):
    """The change needs the client's If-Match version and none was sent."""


class DatabaseUnavailableError(Exception):
    """PostgreSQL cannot be reached (down, restarting, or every connection busy for too long)."""
