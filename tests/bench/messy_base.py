"""A big installed base as messy as a real company's records, in the layout `truckroll import` reads.

    python -m tests.bench.messy_base OUT_DIR [--sites 20000] [--seed 7]

A Denver garage-door, HVAC and glass company over twelve years: sites changing owners, garage
doors, openers, furnaces, air conditioners and the customers' cars, and every visit made to
them, follow-ups for parts not carried included. Each asset has a hidden true state the visits
act on; the CSV files show it through the noise model the demo shares (`dispatch.demo.noise`).
What is really installed and what each visit really needed go to OUT_DIR/truth/, which the
import does not read. The same seed gives the same files. A summary (sizes, rows per file, noise
actually injected) is printed for the benchmark notes.
"""

from __future__ import annotations

import argparse
import time
from collections import Counter
from pathlib import Path

from tests.bench.messy_files import Base, write
from tests.bench.messy_world import HISTORY_FROM, HISTORY_TO, generate


def summary(base: Base, seconds: float) -> list[str]:
    kinds = Counter(row["kind"] for row in base.rows["assets.csv"])
    jobs = base.rows["jobs.csv"]
    lines = [
        f"generated in {seconds:.1f} s",
        f"sites {len(base.rows['sites.csv']):,}, assets {len(base.rows['assets.csv']):,} "
        f"({', '.join(f'{k} {n:,}' for k, n in kinds.most_common())})",
        f"jobs {len(jobs):,} ({base.facts['visits']:,} visits, {base.facts['follow_ups']:,} with a "
        f"follow-up), {HISTORY_FROM.year}-{HISTORY_TO.year}; "
        f"asset events {len(base.rows['asset_events.csv']):,}",
        "rows per file: " + ", ".join(f"{name} {len(rows):,}" for name, rows in base.rows.items()),
        "noise injected (times / chances):",
    ]
    lines += [
        f"  {kind:<38} {hit:>8,} / {chances:<8,} {hit / chances:6.1%}"
        for kind, hit, chances in base.noise.summary()
    ]
    lost, total = base.facts["visits_parts_lost"], base.facts["visits"]
    lines.append(
        f"  visits whose parts are not on record: {lost:,} of {total:,} ({lost / max(1, total):.1%})"
    )
    facts, doors = base.facts, base.facts["assets:garage_door"]
    lines.append("the records against the truth, after the history:")
    for what in ("door size missing", "door size wrong", "door spring count wrong"):
        lines.append(f"  {what:<38} {facts[what]:>8,} / {doors:<8,} {facts[what] / max(1, doors):6.1%}")
    units = base.facts["assets:hvac_unit"]
    for what in ("filter size missing", "filter size wrong", "filter rack changed"):
        lines.append(f"  {what:<38} {facts[what]:>8,} / {units:<8,} {facts[what] / max(1, units):6.1%}")
    for prefix, part in (("SPR-", "spring"), ("GLS-", "glass"), ("CAP-", "capacitor"), ("FLT-", "filter")):
        misses, cases = facts[f"fitment misses:{prefix}"], facts[f"fitment cases:{prefix}"]
        what = f"{part} by fitment not the true one"
        lines.append(f"  {what:<38} {misses:>8,} / {cases:<8,} {misses / max(1, cases):6.1%}")
    return lines


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0] if __doc__ else None)
    parser.add_argument("out", type=Path)
    parser.add_argument("--sites", type=int, default=20_000)
    parser.add_argument("--seed", type=int, default=7)
    args = parser.parse_args()
    began = time.perf_counter()
    base = generate(args.sites, args.seed)
    write(base, args.out)
    for line in summary(base, time.perf_counter() - began):
        print(line)


if __name__ == "__main__":
    main()
