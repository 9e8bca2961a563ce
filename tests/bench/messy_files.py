"""The messy base's rows, in the import layout's files, and the truth kept beside them."""

from __future__ import annotations

import csv
import random
from collections import Counter
from dataclasses import dataclass, field
from datetime import datetime
from pathlib import Path
from typing import Protocol
from zoneinfo import ZoneInfo

from dispatch.demo.catalogue import AttributeValue, DemoModel
from dispatch.demo.noise import Habit, Noise, PartLine
from dispatch.importing.runs import LAYOUT

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
    side: random.Random  # the asset's own generator, for noise added after the rest (dispatch.demo.noise)
    rack_changed: bool = False  # its filter rack became a media cabinet at a visit


@dataclass
class Base:
    rng: random.Random
    noise: Noise
    seed: int = 0
    rows: dict[str, list[dict[str, str]]] = field(default_factory=lambda: {name: [] for name in LAYOUT})
    truth_assets: list[list[str]] = field(default_factory=list)
    truth_visits: list[list[str]] = field(default_factory=list)
    habits: list[Habit] = field(default_factory=list)
    facts: Counter[str] = field(default_factory=Counter)

    def add(self, file: str, /, **values: object) -> None:
        self.rows[file].append({column: cell(v) for column, v in values.items()})


class RowSink(Protocol):
    """Anything that takes rows of the import layout by file and column."""

    def add(self, file: str, /, **values: object) -> None: ...


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
        # Every documented column, required first; a value for any other column is an error here.
        with (out / name).open("w", encoding="utf-8", newline="") as f:
            writer = csv.DictWriter(f, [*required, *optional], restval="")
            writer.writeheader()
            writer.writerows(base.rows[name])
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


def _write_csv(path: Path, header: list[str], rows: list[list[str]]) -> None:
    with path.open("w", encoding="utf-8", newline="") as f:
        writer = csv.writer(f)
        writer.writerow(header)
        writer.writerows(rows)
