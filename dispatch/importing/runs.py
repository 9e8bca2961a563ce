"""`truckroll import DIR`: an existing installed base, from one CSV file per table.

A file that cannot be read as the documented layout (missing columns, not CSV) stops the whole
import with nothing written, even when files before it were already staged and written. A row
that breaks a rule is rejected with its file, line and reason, and rows that depend on it (the
assets of a rejected site) are rejected too; the rest is written in one transaction. Rows are
keyed by external ids (parts by SKU), so running the same import again changes nothing.

This module holds what one file can tell about itself (values, a key given twice, follow-ups);
`import_rules_queries` checks rows against the database and each other, set-wise.
"""

from __future__ import annotations

import csv
import io
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from pathlib import Path

from assets.addresses import address_key
from dispatch.importing.import_values import (
    SKU_CHARS,
    attributes,
    code,
    day,
    moment,
    number,
    parts_used,
    text,
    whole,
)

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
# The column other files name a row by; a rejected row's key lets its dependants say why.
KEYS = {"parts.csv": "sku", **{name: "external_id" for name in LAYOUT if "external_id" in LAYOUT[name][0]}}
SEPARATORS = {";": "semicolon", "\t": "tab", "|": "pipe"}
EVENT_KINDS = ("install", "repair", "replace", "inspection", "maintenance", "removal")

Row = dict[str, object]


class MalformedFileError(ValueError):
    """A file is not in the documented layout; nothing is imported."""


@dataclass(frozen=True)
class Rejection:
    file: str
    line: int
    reason: str
    key: str | None = None  # the row's key as written, so rows that name it can point here

    def __str__(self) -> str:
        return f"{self.file}:{self.line}: {self.reason}"


@dataclass
class Parsed:
    """The rows of every file, each with its line number, as plain dicts of checked values."""

    rows: dict[str, list[tuple[int, Row]]] = field(default_factory=dict)
    rejected: list[Rejection] = field(default_factory=list)


def _separator_hint(header_line: str) -> str:
    for separator, word in SEPARATORS.items():
        if header_line.count(separator) > header_line.count(","):
            return f": the file looks {word}-separated; the layout is comma-separated"
    return ""


def read_rows(path: Path) -> Iterator[tuple[int, dict[str, str]]]:
    name = path.name
    required, optional = LAYOUT[name]
    try:
        content = path.read_text(encoding="utf-8-sig")
    except UnicodeDecodeError as exc:
        raise MalformedFileError(f"{name}: not UTF-8 text ({exc.reason})") from None
    reader = csv.reader(io.StringIO(content, newline=""), strict=True)
    try:
        header = [c.strip() for c in next(reader, [])]
        missing = [c for c in required if c not in header]
        if missing:
            hint = _separator_hint(content.partition("\n")[0])
            raise MalformedFileError(f"{name}: missing column(s) {', '.join(missing)}{hint}")
        unknown = [c for c in header if c not in required and c not in optional]
        if unknown:
            raise MalformedFileError(f"{name}: unknown column(s) {', '.join(unknown)}")
        rows: list[tuple[int, list[str]]] = []
        ended = reader.line_num
        for values in reader:
            rows.append((ended + 1, values))  # a quoted value may span lines: the record's first
            ended = reader.line_num
    except csv.Error as exc:
        raise MalformedFileError(f"{name}:{reader.line_num}: not valid CSV ({exc})") from None
    width = len(header)
    for line, values in rows:
        if len(values) > width:
            raise MalformedFileError(f"{name}:{line}: more values than columns")
        if not values:
            continue  # a blank line
        row = dict(zip(header, map(str.strip, values), strict=False))
        for column in header[len(values) :]:
            row[column] = ""
        yield line, row


def _part(r: dict[str, str]) -> Row:
    sku = text(r["sku"], "sku", max_length=64)
    assert sku is not None
    if not (set(sku) <= SKU_CHARS and sku[0].isalnum()):
        raise ValueError(f"sku: {sku!r} has characters a SKU cannot hold (letters, digits, . _ / -)")
    return {
        "sku": sku,
        "name": text(r["name"], "name"),
        "unit_cost_cents": whole(r.get("unit_cost_cents", ""), "unit_cost_cents", 0, 10_000_000, default=0),
        "sold_in_multiples_of": whole(
            r.get("sold_in_multiples_of", ""), "sold_in_multiples_of", 1, 100, default=1
        ),
        "family": code(r.get("family", ""), "family", required=False),
    }


def _fitment(r: dict[str, str]) -> Row:
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


def _customer(r: dict[str, str]) -> Row:
    email = text(r.get("email", ""), "email", max_length=320, required=False)
    if email and "@" not in email:
        raise ValueError(f"email: {email!r} is not an email address")
    return {
        "external_id": text(r["external_id"], "external_id"),
        "name": text(r["name"], "name"),
        "email": email,
        "phone": text(r.get("phone", ""), "phone", max_length=50, required=False),
    }


def _site(r: dict[str, str]) -> Row:
    country = r.get("country", "") or "US"
    if len(country) != 2 or not (country.isascii() and country.isalpha()):
        raise ValueError(f"country: {country!r} is not a two-letter country code")
    address_line = text(r["address_line"], "address_line", max_length=300) or ""
    city = r.get("city", "")[:200]
    postal_code = text(r.get("postal_code", ""), "postal_code", max_length=20, required=False) or ""
    return {
        "external_id": text(r["external_id"], "external_id"),
        "address_line": address_line,
        "city": city,
        "postal_code": postal_code,
        "country": country.upper(),
        "address_key": address_key(address_line, city, postal_code),
        "latitude": number(r["latitude"], "latitude", -90, 90),
        "longitude": number(r["longitude"], "longitude", -180, 180),
        "access_notes": text(r.get("access_notes", ""), "access_notes", max_length=2000, required=False)
        or "",
    }


def _occupancy(r: dict[str, str]) -> Row:
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


def _asset(r: dict[str, str]) -> Row:
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


def _asset_event(r: dict[str, str]) -> Row:
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
        "parts": parts_used(r.get("parts", ""), "parts"),
    }


def _job(r: dict[str, str]) -> Row:
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
        "parts": parts_used(r.get("parts", ""), "parts"),
        "summary": text(r.get("summary", ""), "summary", max_length=2000, required=False) or "",
    }


CHECKERS: dict[str, Callable[[dict[str, str]], Row]] = {
    "parts.csv": _part,
    "fitments.csv": _fitment,
    "customers.csv": _customer,
    "sites.csv": _site,
    "occupancies.csv": _occupancy,
    "assets.csv": _asset,
    "asset_events.csv": _asset_event,
    "jobs.csv": _job,
}


def _same_row(name: str, row: Row) -> object:
    """What makes two lines of a file the same record."""
    if name in KEYS:
        return row[KEYS[name]]
    if name == "fitments.csv":
        conditions = row["conditions"]
        assert isinstance(conditions, dict)
        return (row["sku"], row["asset_kind"], row["make"], row["model"], tuple(sorted(conditions.items())))
    return (row["site_external_id"], row["customer_external_id"], row["started_at"])


def _same_row_label(name: str, row: Row) -> str:
    """How a rejection names the record a line repeats."""
    if name in KEYS:
        return f"{KEYS[name]} {row[KEYS[name]]}"
    return "the same fitment" if name == "fitments.csv" else "the same occupancy"


def _nul_column(raw: dict[str, str]) -> str | None:
    # PostgreSQL text cannot hold a NUL byte; csv reads it, so the row says where it is.
    return next((column for column, value in raw.items() if "\x00" in value), None)


def check_file(directory: Path, name: str) -> Parsed:
    """Read and check one file; raises MalformedFileError if it is not in the layout."""
    path = directory / name
    parsed = Parsed()
    rows: list[tuple[int, Row]] = []
    first_line: dict[object, int] = {}
    key_column = KEYS.get(name)
    has_nul = b"\x00" in path.read_bytes()
    check = CHECKERS[name]
    for line, raw in read_rows(path):
        key = raw.get(key_column) if key_column else None
        try:
            column = _nul_column(raw) if has_nul else None
            if column is not None:
                raise ValueError(f"{column}: contains a NUL byte (\\x00), which a text field cannot hold")
            row = check(raw)
            same = _same_row(name, row)
            if same in first_line:
                earlier = first_line[same]
                raise ValueError(f"{_same_row_label(name, row)}: already on line {earlier} of this file")
        except ValueError as exc:
            # A duplicate's key names the accepted first line, so it is no parent to point at.
            parsed.rejected.append(Rejection(name, line, str(exc), key if key not in first_line else None))
            continue
        first_line[same] = line
        rows.append((line, row))
    parsed.rows[name] = _resolve_follow_ups(rows, parsed.rejected) if name == "jobs.csv" else rows
    return parsed


def _resolve_follow_ups(jobs: list[tuple[int, Row]], rejected: list[Rejection]) -> list[tuple[int, Row]]:
    """A follow-up belongs to the first visit: `root_of` names it, however long the chain of
    follow-ups in the file is, so line order does not matter. A loop has no first visit."""
    parent = {row["external_id"]: row["follow_up_of"] for _, row in jobs}
    kept: list[tuple[int, Row]] = []
    for line, row in jobs:
        chain = [row["external_id"]]
        current = row["follow_up_of"]
        while current is not None and parent.get(current) is not None and current not in chain:
            chain.append(current)
            current = parent[current]
        if current == row["external_id"]:
            loop = " → ".join(str(c) for c in [*chain, current])
            reason = f"follow_up_of: {loop} is a loop; one of them must be the first visit"
            rejected.append(Rejection("jobs.csv", line, reason, str(row["external_id"])))
            continue
        # A chain that runs into a loop ends at a rejected job: the database check rejects this one.
        row["root_of"] = row["follow_up_of"] if current in chain else current
        kept.append((line, row))
    return kept


def present_files(directory: Path) -> list[str]:
    """The files of the layout that `directory` holds, in the order they are loaded."""
    if not directory.is_dir():
        raise MalformedFileError(f"{directory}: not a directory")
    present = [name for name in LAYOUT if (directory / name).exists()]
    if not present:
        raise MalformedFileError(f"{directory}: none of {', '.join(LAYOUT)} is there")
    return present


def parse_directory(directory: Path) -> Parsed:
    """Read and check every file present; raises MalformedFileError before anything is written."""
    parsed = Parsed()
    for name in present_files(directory):
        checked = check_file(directory, name)
        parsed.rows.update(checked.rows)
        parsed.rejected.extend(checked.rejected)
    return parsed
