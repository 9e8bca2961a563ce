"""Checking one CSV value of an import: each parser raises ValueError with a message for the row."""

from __future__ import annotations

from datetime import date, datetime

AttributeValue = str | int | float | bool

SKU_CHARS = frozenset("ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789._/-")


def text(value: str, column: str, *, max_length: int = 200, required: bool = True) -> str | None:
    if not value:
        if required:
            raise ValueError(f"{column}: required")
        return None
    if len(value) > max_length:
        raise ValueError(f"{column}: at most {max_length} characters")
    return value


def number(value: str, column: str, low: float, high: float) -> float:
    try:
        parsed = float(value)
    except ValueError:
        raise ValueError(f"{column}: not a number: {value!r}") from None
    if not low <= parsed <= high:
        raise ValueError(f"{column}: must be between {low:g} and {high:g}")
    return parsed


def whole(value: str, column: str, low: int, high: int, default: int | None = None) -> int:
    if not value and default is not None:
        return default
    try:
        parsed = int(value)
    except ValueError:
        raise ValueError(f"{column}: not a whole number: {value!r}") from None
    if not low <= parsed <= high:
        raise ValueError(f"{column}: must be between {low} and {high}")
    return parsed


def moment(value: str, column: str, *, required: bool = True) -> datetime | None:
    if not value:
        if required:
            raise ValueError(f"{column}: required")
        return None
    try:
        parsed = datetime.fromisoformat(value)
    except ValueError:
        raise ValueError(f"{column}: not an ISO 8601 time: {value!r}") from None
    if parsed.tzinfo is None:
        raise ValueError(f"{column}: give the offset, e.g. 2019-11-04T09:45:00-06:00")
    return parsed


def day(value: str, column: str) -> date | None:
    if not value:
        return None
    try:
        return date.fromisoformat(value)
    except ValueError:
        raise ValueError(f"{column}: not a date (YYYY-MM-DD): {value!r}") from None


def scalar(raw: str) -> AttributeValue:
    lowered = raw.lower()
    if lowered in ("true", "false"):
        return lowered == "true"
    for kind in (int, float):
        try:
            return kind(raw)
        except ValueError:
            pass
    return raw


def attributes(value: str, column: str) -> dict[str, AttributeValue]:
    """`spring_size=218;springs=2;insulated=true`: numbers and booleans become themselves."""
    found: dict[str, AttributeValue] = {}
    if not value:
        return found
    for item in filter(None, (p.strip() for p in value.split(";"))):
        key, sep, raw = item.partition("=")
        key = key.strip()
        if not sep or not key.replace("_", "").isalnum() or not key[0].isalpha() or key != key.lower():
            raise ValueError(f"{column}: {item!r} is not key=value with a lower_snake_case key")
        found[key] = scalar(raw.strip())
    return found


def part_list(value: str, column: str) -> list[tuple[str, int]]:
    """`SPR-218:2;CAB-7:1`"""
    parts: list[tuple[str, int]] = []
    if not value:
        return parts
    for item in value.split(";"):
        sku, sep, quantity = item.strip().partition(":")
        if not sep:
            if not sku:
                continue  # `A:1;;B:2` or a trailing `;`
            raise ValueError(f"{column}: {sku!r} is not SKU:quantity")
        parts.append((sku.strip(), whole(quantity.strip(), column, 1, 100)))
    return parts


def parts_used(value: str, column: str) -> dict[str, int]:
    """A SKU named twice is one line of the record: its quantities add up (to at most 100)."""
    merged: dict[str, int] = {}
    for sku, quantity in part_list(value, column):
        merged[sku] = merged.get(sku, 0) + quantity
        if merged[sku] > 100:
            raise ValueError(f"{column}: {sku} adds up to more than 100")
    return merged


def code(value: str, column: str, *, required: bool = True) -> str | None:
    if not value:
        if required:
            raise ValueError(f"{column}: required")
        return None
    if not (
        2 <= len(value) <= 64
        and value.isascii()
        and value[0].isalpha()
        and value.replace("_", "").isalnum()
        and value == value.lower()
    ):
        raise ValueError(f"{column}: {value!r} is not a lower_snake_case code")
    return value
