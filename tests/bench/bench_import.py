"""`truckroll import` on a generated installed base, measured end to end (read, check, write).

The base is in the import layout: sites, customers, occupancies with owner changes, assets with
their installs and some removals, jobs with follow-ups (some listed before their first visit),
all built from the demo catalogue's problems and parts so that every row is valid. The same
directory is then imported a second time, which must add nothing.

    python -m tests.bench.bench_import [--rows 250000] [--seed 7] [--dir DIR] [--keep DIR] [--onto DIR]

`--dir` imports an existing directory instead of generating one; `--onto` imports another first
(untimed), so the import meets a database that already holds a base (use another `--seed`).
"""

from __future__ import annotations

import argparse
import asyncio
import csv
import os
import random
import tempfile
import time
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from pathlib import Path

from dispatch.demo.catalogue import (
    DOOR_MODELS,
    HVAC_MODELS,
    LAT_RANGE,
    LON_RANGE,
    OPENER_MODELS,
    PARTS,
    PROBLEMS,
    TERRITORIES,
    VEHICLE_MODELS,
    DemoModel,
    DemoProblem,
)
from dispatch.importing.load import ImportReport, import_directory
from dispatch.importing.runs import LAYOUT
from infra.db import connect
from tests.bench.common import scratch_database
from tests.bench.messy_world import catalogue

ROWS_PER_SITE = 14  # about: 1.3 customers and occupancies, 2 assets and installs, 6.5 jobs
MODELS: dict[str, tuple[DemoModel, ...]] = {
    "garage_door": DOOR_MODELS,
    "garage_door_opener": OPENER_MODELS,
    "vehicle_glass": VEHICLE_MODELS,
    "hvac_unit": HVAC_MODELS,
}
START = datetime(2012, 1, 1, tzinfo=UTC)
DAYS = 14 * 365


class Base:
    """The rows of every file, as lists of CSV values in the layout's column order."""

    def __init__(self) -> None:
        self.rows: dict[str, list[list[str]]] = {name: [] for name in LAYOUT}

    def add(self, file: str, /, **values: object) -> None:
        required, optional = LAYOUT[file]
        self.rows[file].append([_csv_value(values.get(c)) for c in (*required, *optional)])

    def write(self, directory: Path) -> int:
        for name, rows in self.rows.items():
            required, optional = LAYOUT[name]
            with (directory / name).open("w", newline="", encoding="utf-8") as f:
                out = csv.writer(f)
                out.writerow([*required, *optional])
                out.writerows(rows)
        return sum(len(rows) for rows in self.rows.values())


def _csv_value(value: object) -> str:
    if value is None:
        return ""
    if isinstance(value, datetime):
        return value.isoformat()
    if isinstance(value, dict):
        return ";".join(f"{k}={str(v).lower() if isinstance(v, bool) else v}" for k, v in value.items())
    return str(value)


def _moment(rng: random.Random, after: datetime, before: datetime) -> datetime:
    span = max(3600, int((before - after).total_seconds()))
    return (after + timedelta(seconds=rng.randrange(span))).replace(microsecond=0)


def _parts_for(
    rng: random.Random, problem: DemoProblem, choice: str | None, attributes: dict[str, object]
) -> str:
    """The parts a fix used, each as often as the catalogue says: fixed SKUs as listed, a fitting
    part as the door's spring size or its family's first SKU."""
    used: list[str] = []
    for use in problem.variants[choice].parts:
        if rng.random() >= use.probability:
            continue
        if use.part.startswith("fitment:"):
            prefix = use.part.removeprefix("fitment:")
            size = attributes.get("spring_size")
            sku = (
                f"SPR-{size}"
                if prefix == "SPR-" and size
                else next(p.sku for p in PARTS if p.sku.startswith(prefix))
            )
        else:
            sku = use.part
        used.append(f"{sku}:{2 if sku.startswith('SPR-') else 1}")
    return ";".join(used)


def _site(base: Base, rng: random.Random, n: int, counter: dict[str, int]) -> None:
    territory = rng.choice(TERRITORIES)
    site = f"S-{n}"
    base.add(
        "sites.csv",
        external_id=site,
        address_line=f"{rng.randrange(100, 9999)} {rng.choice(territory.streets)}",
        city=territory.city,
        postal_code=rng.choice(territory.postal_codes),
        latitude=round(rng.uniform(*LAT_RANGE), 5),
        longitude=round(rng.uniform(*LON_RANGE), 5),
    )
    moved_at = (
        _moment(rng, START + timedelta(days=365), START + timedelta(days=DAYS))
        if rng.random() < 0.3
        else None
    )
    owners = [(f"C-{n}", START - timedelta(days=rng.randrange(3000)), moved_at)]
    if moved_at:
        owners.append((f"C-{n}-2", moved_at, None))
    for customer, since, until in owners:
        base.add("customers.csv", external_id=customer, name=f"Customer {customer}", phone="+1 612 555 0100")
        base.add(
            "occupancies.csv",
            site_external_id=site,
            customer_external_id=customer,
            started_at=since,
            ended_at=until,
        )
    for _ in range(rng.choice((1, 2, 2, 3))):
        _asset(base, rng, site, counter)


def _asset(base: Base, rng: random.Random, site: str, counter: dict[str, int]) -> None:
    counter["asset"] += 1
    asset = f"A-{counter['asset']}"
    kind = rng.choice(tuple(MODELS))
    model = rng.choice(MODELS[kind])
    attributes: dict[str, object] = dict(model.attributes)
    if kind == "garage_door":
        attributes |= {"springs": 2, "spring_size": rng.choice(("207", "218", "225")), "height_ft": 7}
    installed = _moment(rng, START, START + timedelta(days=DAYS // 2))
    base.add(
        "assets.csv",
        external_id=asset,
        site_external_id=site,
        kind=kind,
        make=model.make,
        model=model.model,
        installed_at=installed,
        attributes=attributes,
    )
    base.add(
        "asset_events.csv",
        external_id=f"E-{asset}",
        asset_external_id=asset,
        kind="install",
        occurred_at=installed,
        summary="Installed",
    )
    end = START + timedelta(days=DAYS)
    if rng.random() < 0.03:
        end = _moment(rng, installed + timedelta(days=30), end)
        base.add(
            "asset_events.csv",
            external_id=f"R-{asset}",
            asset_external_id=asset,
            kind="removal",
            occurred_at=end,
            summary="Taken out",
        )
    problems = [p for p in PROBLEMS if p.asset_kind == kind]
    for _ in range(rng.choice((0, 1, 2, 3, 3, 4, 5, 6))):
        _job(base, rng, asset, rng.choice(problems), attributes, installed, end, counter)


def _job(
    base: Base,
    rng: random.Random,
    asset: str,
    problem: DemoProblem,
    attributes: dict[str, object],
    after: datetime,
    before: datetime,
    counter: dict[str, int],
) -> None:
    counter["job"] += 1
    job = f"W-{counter['job']}"
    choice = rng.choice(tuple(problem.variants))
    started = _moment(rng, after, before - timedelta(days=2))
    finished = started + timedelta(minutes=rng.randrange(30, 180))
    row = {
        "external_id": job,
        "asset_external_id": asset,
        "problem_code": problem.code,
        "choice": choice,
        "started_at": started,
        "finished_at": finished,
        "parts": _parts_for(rng, problem, choice, attributes),
    }
    follow_up = None
    if rng.random() < 0.1:
        back = finished + timedelta(days=1, hours=rng.randrange(1, 20))
        follow_up = {
            **row,
            "external_id": f"{job}-F",
            "follow_up_of": job,
            "started_at": back,
            "finished_at": back + timedelta(minutes=45),
            "parts": "",
        }
    # Now and then the follow-up comes first in the file: order within a file must not matter.
    for values in (follow_up, row) if follow_up and rng.random() < 0.3 else (row, follow_up):
        if values:
            base.add("jobs.csv", **values)


def generate(directory: Path, rows: int, seed: int) -> int:
    rng = random.Random(seed)
    base = Base()
    catalogue(base)  # the parts and fitment rules the messy base imports too
    # Each seed numbers its rows from its own block, so bases of different seeds can be imported
    # into one database, one on top of the other.
    first = seed * 10_000_000
    counter = {"asset": first, "job": first}
    for n in range(first + 1, first + rows // ROWS_PER_SITE + 1):
        _site(base, rng, n, counter)
    return base.write(directory)


def _cpu_s(pid: int) -> float:
    """CPU seconds a local process has used so far (Linux), or NaN where /proc cannot tell."""
    try:
        fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    except OSError:
        return float("nan")
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")  # utime + stime


@dataclass(frozen=True)
class Run:
    report: ImportReport
    wall_s: float
    client_cpu_s: float  # this process: reading, checking, copying
    server_cpu_s: float  # the PostgreSQL backend: rules and writes

    def line(self, rows: int) -> str:
        return (
            f"{rows} rows in {self.wall_s:.2f} s ({rows / self.wall_s:,.0f} rows/s); CPU: client"
            f" {self.client_cpu_s:.2f} s, server {self.server_cpu_s:.2f} s"
        )


async def run_import(dsn: str, directory: Path) -> Run:
    """What `truckroll import` does once connected: read, check and write, and commit. On a
    shared machine the wall time says more about the neighbours than the import; the CPU
    seconds say what it costs."""
    conn = await connect(dsn)
    try:
        backend: int = await conn.fetchval("SELECT pg_backend_pid()")
        server, client, began = _cpu_s(backend), time.process_time(), time.perf_counter()
        async with conn.transaction():
            report = await import_directory(conn, directory)
        return Run(
            report,
            time.perf_counter() - began,
            time.process_time() - client,
            _cpu_s(backend) - server,
        )
    finally:
        await conn.close()


def _summary(report: ImportReport) -> Iterable[str]:
    for name, counts in report.files.items():
        yield f"  {name:<18} {counts.added:>8} added  {counts.present:>8} already there"
    for rejection in report.rejected[:10]:
        yield f"  rejected {rejection}"
    if report.rejected:
        yield f"  {len(report.rejected)} row(s) rejected"


async def bench(directory: Path, onto: Path | None) -> None:
    rows = sum(
        max(0, len((directory / n).read_text().splitlines()) - 1) for n in LAYOUT if (directory / n).exists()
    )
    async with scratch_database() as dsn:
        if onto is not None:
            below = await run_import(dsn, onto)
            print(f"the base below: {below.line(sum(c.added for c in below.report.files.values()))}")
        first = await run_import(dsn, directory)
        print(f"first run: {first.line(rows)}")
        print("\n".join(_summary(first.report)))
        again = await run_import(dsn, directory)
        added = sum(c.added for c in again.report.files.values())
        print(f"second run: {again.line(rows)}; {added} added")


def main(argv: Sequence[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0] if __doc__ else None)
    parser.add_argument("--rows", type=int, default=250_000, help="about how many rows to generate")
    parser.add_argument("--seed", type=int, default=7)
    parser.add_argument("--dir", type=Path, help="import this directory instead of generating one")
    parser.add_argument("--keep", type=Path, help="write the generated base here (and keep it)")
    parser.add_argument(
        "--onto", type=Path, help="import this directory first, untimed: a database not empty"
    )
    args = parser.parse_args(argv)
    if args.dir:
        asyncio.run(bench(args.dir, args.onto))
        return
    with tempfile.TemporaryDirectory(prefix="truckroll-import-") as scratch:
        directory = args.keep or Path(scratch)
        directory.mkdir(parents=True, exist_ok=True)
        began = time.perf_counter()
        written = generate(directory, args.rows, args.seed)
        print(f"generated {written} rows in {time.perf_counter() - began:.1f} s")
        asyncio.run(bench(directory, args.onto))


if __name__ == "__main__":
    main()
