"""`truckroll import DIR`: an existing installed base, from one CSV file per table.

Every file is read and checked before anything is written: a file that cannot be read as the
documented layout (missing columns, not CSV) stops the whole import with nothing written. A row
that breaks a rule is rejected with its file, line and reason, and rows that depend on it (the
assets of a rejected site) are rejected too; the rest is written in one transaction. Rows are
keyed by external ids (parts by SKU), so running the same import again changes nothing.
"""

from __future__ import annotations

import csv
import io
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from datetime import date, datetime
from pathlib import Path

AttributeValue = str | int | float | bool

# Files in the order they are loaded; each later file may refer to rows of the earlier ones.
LAYOUT: dict[str, tuple[tuple[str, ...], tuple[str, ...]]] = {
    # file: (required columns, optional columns)
    "parts.csv": (("sku", "name"), ("unit_cost_cents", "sold_in_multiples_of", "family")),
    "fitments.csv": (("sku", "asset_kind", "quantity"), ("make", "model", "conditions")),
    "customers.csv": (("external_id", "name"), ("email", "phone")),
    "sites.csv": (
        ("external_id", "address_line", "latitude", "longitude"),
        ("city", "postal_code", "country", "access_notes"),
    ),
    "occupancies.csv": (("site_external_id", "customer_external_id", "started_at"), ("ended_at",)),
    "assets.csv": (
        ("external_id", "site_external_id", "kind"),
        ("make", "model", "serial", "installed_at", "warranty_until", "attributes"),
    ),
    "asset_events.csv": (
        ("external_id", "asset_external_id", "kind", "occurred_at"),
        ("problem_code", "summary", "parts"),
    ),
    "jobs.csv": (
        ("external_id", "asset_external_id", "problem_code", "started_at", "finished_at"),
        ("choice", "status", "follow_up_of", "parts", "summary"),
    ),
}


class MalformedFileError(ValueError):
    """A file is not in the documented layout; nothing is imported."""


@dataclass(frozen=True)
class Rejection:
    file: str
    line: int
    reason: str

    def __str__(self) -> str:
        return f"{self.file}:{self.line}: {self.reason}"


@dataclass
class Parsed:
    """The rows of every file, each with its line number, as plain dicts of checked values."""

    rows: dict[str, list[tuple[int, dict[str, object]]]] = field(default_factory=dict)
    rejected: list[Rejection] = field(default_factory=list)


def read_rows(path: Path) -> Iterator[tuple[int, dict[str, str]]]:
    name = path.name
    required, optional = LAYOUT[name]
    try:
        text = path.read_text(encoding="utf-8-sig")
    except UnicodeDecodeError as exc:
        raise MalformedFileError(f"{name}: not UTF-8 text ({exc.reason})") from None
    reader = csv.DictReader(io.StringIO(text, newline=""), strict=True)
    try:
        header = reader.fieldnames or []
        missing = [c for c in required if c not in header]
        if missing:
            raise MalformedFileError(f"{name}: missing column(s) {', '.join(missing)}")
        unknown = [c for c in header if c not in required and c not in optional]
        if unknown:
            raise MalformedFileError(f"{name}: unknown column(s) {', '.join(unknown)}")
        rows = list(reader)
    except csv.Error as exc:
        raise MalformedFileError(f"{name}:{reader.line_num}: not valid CSV ({exc})") from None
    for index, row in enumerate(rows):
        if None in row:
            raise MalformedFileError(f"{name}:{index + 2}: more values than columns")
        yield index + 2, {k: (v or "").strip() for k, v in row.items()}


# -- value parsers: each raises ValueError with a message for the caller ------------------------


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
    for item in filter(None, (p.strip() for p in value.split(";"))):
        sku, sep, quantity = item.partition(":")
        if not sep:
            raise ValueError(f"{column}: {item!r} is not SKU:quantity")
        parts.append((sku.strip(), whole(quantity.strip(), column, 1, 100)))
    return parts


RowChecker = Callable[[dict[str, str]], dict[str, object]]


SKU_CHARS = set("ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789._/-")
EVENT_KINDS = ("install", "repair", "replace", "inspection", "maintenance", "removal")


def code(value: str, column: str, *, required: bool = True) -> str | None:
    if not value:
        if required:
            raise ValueError(f"{column}: required")
        return None
    if not (
        2 <= len(value) <= 64
        and value[0].isalpha()
        and value.replace("_", "").isalnum()
        and value == value.lower()
    ):
        raise ValueError(f"{column}: {value!r} is not a lower_snake_case code")
    return value


def _part(r: dict[str, str]) -> dict[str, object]:
    sku = text(r["sku"], "sku", max_length=64)
    assert sku is not None
    if not set(sku) <= SKU_CHARS:
        raise ValueError(f"sku: {sku!r} has characters a SKU cannot hold")
    return {
        "sku": sku,
        "name": text(r["name"], "name"),
        "unit_cost_cents": whole(r.get("unit_cost_cents", ""), "unit_cost_cents", 0, 10_000_000, default=0),
        "sold_in_multiples_of": whole(
            r.get("sold_in_multiples_of", ""), "sold_in_multiples_of", 1, 100, default=1
        ),
        "family": code(r.get("family", ""), "family", required=False),
    }


def _fitment(r: dict[str, str]) -> dict[str, object]:
    make = text(r.get("make", ""), "make", max_length=100, required=False)
    model = text(r.get("model", ""), "model", max_length=100, required=False)
    if model and not make:
        raise ValueError("make: a fitment for a model names its make")
    return {
        "sku": text(r["sku"], "sku", max_length=64),
        "asset_kind": code(r["asset_kind"], "asset_kind"),
        "quantity": whole(r["quantity"], "quantity", 1, 100),
        "make": make,
        "model": model,
        "conditions": attributes(r.get("conditions", ""), "conditions"),
    }


def _customer(r: dict[str, str]) -> dict[str, object]:
    email = text(r.get("email", ""), "email", max_length=320, required=False)
    if email and "@" not in email:
        raise ValueError(f"email: {email!r} is not an email address")
    return {
        "external_id": text(r["external_id"], "external_id"),
        "name": text(r["name"], "name"),
        "email": email,
        "phone": text(r.get("phone", ""), "phone", max_length=50, required=False),
    }


def _site(r: dict[str, str]) -> dict[str, object]:
    country = r.get("country", "") or "US"
    if len(country) != 2 or not country.isalpha():
        raise ValueError(f"country: {country!r} is not a two-letter country code")
    return {
        "external_id": text(r["external_id"], "external_id"),
        "address_line": text(r["address_line"], "address_line", max_length=300),
        "city": r.get("city", "")[:200],
        "postal_code": text(r.get("postal_code", ""), "postal_code", max_length=20, required=False) or "",
        "country": country.upper(),
        "latitude": number(r["latitude"], "latitude", -90, 90),
        "longitude": number(r["longitude"], "longitude", -180, 180),
        "access_notes": text(r.get("access_notes", ""), "access_notes", max_length=2000, required=False)
        or "",
    }


def _occupancy(r: dict[str, str]) -> dict[str, object]:
    started = moment(r["started_at"], "started_at")
    ended = moment(r.get("ended_at", ""), "ended_at", required=False)
    if started and ended and ended <= started:
        raise ValueError("ended_at: must be after started_at")
    return {
        "site_external_id": text(r["site_external_id"], "site_external_id"),
        "customer_external_id": text(r["customer_external_id"], "customer_external_id"),
        "started_at": started,
        "ended_at": ended,
    }


def _asset(r: dict[str, str]) -> dict[str, object]:
    return {
        "external_id": text(r["external_id"], "external_id"),
        "site_external_id": text(r["site_external_id"], "site_external_id"),
        "kind": code(r["kind"], "kind"),
        "make": text(r.get("make", ""), "make", max_length=100, required=False) or "",
        "model": text(r.get("model", ""), "model", max_length=100, required=False) or "",
        "serial": text(r.get("serial", ""), "serial", max_length=100, required=False),
        "installed_at": moment(r.get("installed_at", ""), "installed_at", required=False),
        "warranty_until": day(r.get("warranty_until", ""), "warranty_until"),
        "attributes": attributes(r.get("attributes", ""), "attributes"),
    }


def _asset_event(r: dict[str, str]) -> dict[str, object]:
    kind = r["kind"]
    if kind not in EVENT_KINDS:
        raise ValueError(f"kind: one of {', '.join(EVENT_KINDS)}")
    return {
        "external_id": text(r["external_id"], "external_id"),
        "asset_external_id": text(r["asset_external_id"], "asset_external_id"),
        "kind": kind,
        "occurred_at": moment(r["occurred_at"], "occurred_at"),
        "problem_code": code(r.get("problem_code", ""), "problem_code", required=False),
        "summary": text(r.get("summary", ""), "summary", max_length=2000, required=False) or "",
        "parts": part_list(r.get("parts", ""), "parts"),
    }


def _job(r: dict[str, str]) -> dict[str, object]:
    started = moment(r["started_at"], "started_at")
    finished = moment(r["finished_at"], "finished_at")
    if started and finished and finished <= started:
        raise ValueError("finished_at: must be after started_at")
    status = r.get("status", "") or "completed"
    if status not in ("completed", "incomplete"):
        raise ValueError("status: completed or incomplete (imported jobs are finished)")
    return {
        "external_id": text(r["external_id"], "external_id"),
        "asset_external_id": text(r["asset_external_id"], "asset_external_id"),
        "problem_code": code(r["problem_code"], "problem_code"),
        "choice": code(r.get("choice", ""), "choice", required=False),
        "started_at": started,
        "finished_at": finished,
        "status": status,
        "follow_up_of": text(r.get("follow_up_of", ""), "follow_up_of", required=False),
        "parts": part_list(r.get("parts", ""), "parts"),
        "summary": text(r.get("summary", ""), "summary", max_length=2000, required=False) or "",
    }


CHECKERS: dict[str, RowChecker] = {
    "parts.csv": _part,
    "fitments.csv": _fitment,
    "customers.csv": _customer,
    "sites.csv": _site,
    "occupancies.csv": _occupancy,
    "assets.csv": _asset,
    "asset_events.csv": _asset_event,
    "jobs.csv": _job,
}


def parse_directory(directory: Path) -> Parsed:
    """Read and check every file present; raises MalformedFileError before anything is written."""
    if not directory.is_dir():
        raise MalformedFileError(f"{directory}: not a directory")
    present = [name for name in LAYOUT if (directory / name).exists()]
    if not present:
        raise MalformedFileError(f"{directory}: none of {', '.join(LAYOUT)} is there")
    parsed = Parsed()
    for name in present:
        rows: list[tuple[int, dict[str, object]]] = []
        for line, raw in read_rows(directory / name):
            try:
                rows.append((line, CHECKERS[name](raw)))
            except ValueError as exc:
                parsed.rejected.append(Rejection(name, line, str(exc)))
        parsed.rows[name] = rows
    return parsed
