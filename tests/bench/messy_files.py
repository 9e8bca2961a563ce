"""The messy base's rows, in the import layout's files, and the truth kept beside them."""

from __future__ import annotations

import csv
import random
from collections import Counter
from dataclasses import dataclass, field
from datetime import datetime
from pathlib import Path
from zoneinfo import ZoneInfo

from dispatch.demo_catalogue import AttributeValue, DemoModel
from dispatch.demo_noise import Habit, Noise, PartLine
from dispatch.importing import LAYOUT

TZ = ZoneInfo("America/Denver")


@dataclass
class Asset:
    external_id: str
    model: DemoModel
    truth: dict[str, AttributeValue]
    record: dict[str, AttributeValue]
    recorded_make: str
    installed_at: datetime
    leaves_at: datetime | None  # a car leaves with its owner; its record stays


@dataclass
class Base:
    rng: random.Random
    noise: Noise
    rows: dict[str, list[list[str]]] = field(default_factory=lambda: {name: [] for name in LAYOUT})
    truth_assets: list[list[str]] = field(default_factory=list)
    truth_visits: list[list[str]] = field(default_factory=list)
    habits: list[Habit] = field(default_factory=list)
    facts: Counter[str] = field(default_factory=Counter)

    def add(self, name: str, *values: object) -> None:
        self.rows[name].append([cell(v) for v in values])


def cell(value: object) -> str:
    if value is None:
        return ""
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, datetime):
        return value.astimezone(TZ).isoformat(timespec="seconds")
    return str(value)


def attributes_text(values: dict[str, AttributeValue]) -> str:
    return ";".join(f"{k}={cell(v)}" for k, v in values.items())


def parts_text(lines: list[PartLine]) -> str:
    merged: Counter[str] = Counter()
    for sku, quantity in lines:
        merged[sku] += quantity
    return ";".join(f"{sku}:{q}" for sku, q in merged.items())


def write(base: Base, out: Path) -> None:
    (out / "truth").mkdir(parents=True, exist_ok=True)
    for name, (required, optional) in LAYOUT.items():
        header = _columns(name, required, optional)
        _write_csv(out / name, header, base.rows[name])
    _write_csv(
        out / "truth" / "assets.csv",
        ["external_id", "make", "model", "true_attributes", "recorded_attributes"],
        base.truth_assets,
    )
    _write_csv(
        out / "truth" / "visits.csv",
        [
            "job_external_id",
            "asset_external_id",
            "problem_code",
            "needed",
            "recorded",
            "converted_to_two_springs",
        ],
        base.truth_visits,
    )


# The columns each file is written with, in the order `Base.add` gives the values.
COLUMNS = {
    "parts.csv": ("sku", "name", "unit_cost_cents", "sold_in_multiples_of", "family"),
    "fitments.csv": ("sku", "asset_kind", "make", "model", "conditions", "quantity"),
    "customers.csv": ("external_id", "name", "email", "phone"),
    "sites.csv": (
        "external_id",
        "address_line",
        "city",
        "postal_code",
        "country",
        "latitude",
        "longitude",
        "access_notes",
    ),
    "occupancies.csv": ("site_external_id", "customer_external_id", "started_at", "ended_at"),
    "assets.csv": (
        "external_id",
        "site_external_id",
        "kind",
        "make",
        "model",
        "serial",
        "installed_at",
        "warranty_until",
        "attributes",
    ),
    "asset_events.csv": (
        "external_id",
        "asset_external_id",
        "kind",
        "occurred_at",
        "problem_code",
        "summary",
        "parts",
    ),
    "jobs.csv": (
        "external_id",
        "asset_external_id",
        "problem_code",
        "choice",
        "started_at",
        "finished_at",
        "status",
        "follow_up_of",
        "parts",
        "summary",
    ),
}


def _columns(name: str, required: tuple[str, ...], optional: tuple[str, ...]) -> list[str]:
    columns = list(COLUMNS[name])
    assert set(required) <= set(columns) <= {*required, *optional}, name
    return columns


def _write_csv(path: Path, header: list[str], rows: list[list[str]]) -> None:
    with path.open("w", encoding="utf-8", newline="") as f:
        writer = csv.writer(f)
        writer.writerow(header)
        writer.writerows(rows)
