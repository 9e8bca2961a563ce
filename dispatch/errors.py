from __future__ import annotations

from infra.errors import NotFoundError


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
