from __future__ import annotations

from infra.errors import NotFoundError


class JobNotFoundError(NotFoundError):
    def __init__(self) -> None:
        super().__init__("no job with this id")
