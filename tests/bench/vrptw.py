"""The day optimizer on public VRPTW benchmarks, through our own domain model.

Each instance becomes a day: one technician per vehicle, starting and ending at the depot, with
the depot's hours as the shift and the vehicle's capacity as van stock; each customer a job
whose window is its time window, whose duration is its service time and whose demand is a
certain need of that many units. Distances follow the DIMACS convention (each arc truncated to
one decimal), in tenths, as travel seconds. The plan is checked by dispatch.planning.plan_check and its
distance compared with the best-known one (`dist_only_dimacs` rows of bks.csv).

    python -m tests.bench.vrptw [FILES...] [--time-limit 5 30] [--seed 1] [--repeat 3]

With no files: every instance in ../shared/data/vrptw beside this repository.
"""

from __future__ import annotations

import argparse
import csv
import time
from pathlib import Path

import numpy as np
import vrplib

from dispatch.planning import optimizer
from dispatch.planning.day_plan import DayProblem, JobToPlan, TechnicianDay
from dispatch.planning.plan_check import check

ITERATIONS = 2000  # for the same-seed check: a search cut by iterations, not by the clock
DATA = Path(__file__).resolve().parents[3] / "shared" / "data" / "vrptw"


def day_of(path: Path) -> DayProblem:
    inst = vrplib.read_instance(str(path))
    coords = np.asarray(inst["node_coord"], dtype=float)
    exact = np.sqrt(((coords[:, None, :] - coords[None, :, :]) ** 2).sum(-1))
    tenths = np.floor(exact * 10).astype(np.int64)  # DIMACS: truncated to one decimal
    windows = np.asarray(inst["time_window"]) * 10
    service = np.broadcast_to(np.asarray(inst["service_time"]) * 10, (len(coords),))
    demand = np.asarray(inst["demand"])
    depot = int(inst["depot"][0])
    shift = (int(windows[depot][0]), int(windows[depot][1]))
    technicians = [
        TechnicianDay(f"vehicle {v + 1}", depot, depot, *shift, van={"load": int(inst["capacity"])})
        for v in range(int(inst["vehicles"]))
    ]
    jobs = [
        JobToPlan(
            f"customer {c}",
            c,
            int(windows[c][0]),
            int(windows[c][1]),
            int(service[c]),
            parts={"load": float(demand[c])},
        )
        for c in range(len(coords))
        if c != depot
    ]
    return DayProblem(technicians, jobs, tenths, tenths)


def best_known() -> dict[str, tuple[int, float]]:
    with (DATA / "bks.csv").open() as f:
        return {
            r["instance"]: (int(r["vehicles"]), float(r["distance"]))
            for r in csv.DictReader(f)
            if r["source"].startswith("dist_only_dimacs")
        }


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("files", nargs="*", type=Path)
    parser.add_argument("--time-limit", type=float, nargs="+", default=[5.0, 30.0])
    parser.add_argument("--seed", type=int, default=1)
    parser.add_argument(
        "--repeat", type=int, default=3, help="solve this many instances again with the same seed and compare"
    )
    args = parser.parse_args()
    files = args.files or sorted(DATA.glob("*/*.vrp"))
    bks = best_known()
    for limit in args.time_limit:
        gaps = []
        print(f"--- {limit:g} s per instance, one thread, seed {args.seed}")
        print(
            f"{'instance':<10} {'distance':>9} {'best':>9} {'gap %':>7} {'vehicles':>8}"
            f" {'feasible':>8} {'s':>5}"
        )
        for path in files:
            problem = day_of(path)
            began = time.perf_counter()
            plan = optimizer.solve(problem, time_limit_s=limit, seed=args.seed)
            elapsed = time.perf_counter() - began
            distance = sum(r.distance_m for r in plan.routes) / 10
            feasible = not check(problem, plan) and not plan.unplanned
            _, best = bks[path.stem]
            gap = 100 * (distance - best) / best
            gaps.append(gap)
            print(
                f"{path.stem:<10} {distance:>9.1f} {best:>9.1f} {gap:>7.2f} {len(plan.routes):>8}"
                f" {'yes' if feasible else 'NO':>8} {elapsed:>5.1f}"
            )
        same = same_bounded = 0
        for path in files[: args.repeat]:
            problem = day_of(path)
            first, again = (optimizer.solve(problem, time_limit_s=limit, seed=args.seed) for _ in range(2))
            same += first == again
            bounded = [
                optimizer.solve(problem, time_limit_s=600, seed=args.seed, iterations=ITERATIONS)
                for _ in range(2)
            ]
            same_bounded += bounded[0] == bounded[1]
        if args.repeat:
            n = min(args.repeat, len(files))
            print(
                f"same seed, same plan: {same} of {n} instances solved twice in {limit:g} s;"
                f" {same_bounded} of {n} solved twice in {ITERATIONS} iterations"
            )
        print(f"mean gap: {np.mean(gaps):.2f}% ({len(gaps)} instances, {limit:g} s)")


if __name__ == "__main__":
    main()
