from __future__ import annotations

from infra.errors import NotFoundError


class CustomerNotFoundError(NotFoundError):
    def __init__(self) -> None:
        super().__init__("no customer with this id")
