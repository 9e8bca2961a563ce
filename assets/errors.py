from __future__ import annotations

from collections.abc import Iterable

from infra.errors import InvalidError, NotFoundError


class CustomerNotFoundError(NotFoundError):
    def __init__(self) -> None:
        super().__init__("no customer with this id")


class SiteNotFoundError(NotFoundError):
    def __init__(self) -> None:
        super().__init__("no site with this id")


class AssetNotFoundError(NotFoundError):
    def __init__(self) -> None:
        super().__init__("no asset with this id")


class PartNotFoundError(NotFoundError):
    def __init__(self) -> None:
        super().__init__("no part with this id")


class FitmentNotFoundError(NotFoundError):
    def __init__(self) -> None:
        super().__init__("no fitment with this id")


class UnknownAssetKindError(InvalidError):
    def __init__(self, kind: str, valid: Iterable[str], *, field: str) -> None:
        super().__init__(f"{field}: no asset kind {kind!r}; valid kinds: {', '.join(valid)}", field=field)
