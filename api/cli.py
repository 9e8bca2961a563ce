"""The `truckroll` command: serve, migrate, demo, create-user, routing, ..."""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import getpass
import itertools
import logging
import os
import signal
import sys
from collections.abc import Callable, Iterator, Sequence
from contextlib import contextmanager
from datetime import UTC, date, datetime, timedelta
from pathlib import Path
from typing import TYPE_CHECKING
from urllib.parse import parse_qs, urlsplit
from uuid import UUID

from api.routing_cli import add_routing_commands
from infra.db import connection, migrate
from infra.errors import ConflictError, DomainError
from infra.local_postgres import LocalPostgres, LocalPostgresError
from infra.settings import Settings, SettingsError, load_settings

if TYPE_CHECKING:
    from assets.parts_backtest import BacktestResult, Score
    from dispatch.demo import DemoLogin
    from notifications.worker import WorkerSettings

LOCAL_DATABASE = "truckroll"
log = logging.getLogger("truckroll")


@contextmanager
def database(settings: Settings) -> Iterator[str]:
    """The DSN to use: DATABASE_URL, or a local cluster started for the duration (and stopped after,
    if this process was the one that started it)."""
    if settings.database_url:
        yield settings.database_url
        return
    pg = LocalPostgres(settings.data_dir)
    started_here = not pg.is_running()
    if started_here:
        # Notices go to stderr: stdout carries only the command's results, so they can be piped.
        print(
            f"Starting local PostgreSQL in {pg.pgdata} (set DATABASE_URL to use your own server)",
            file=sys.stderr,
            flush=True,
        )
    pg.start()
    try:
        # The superuser only sets up; the app works as a role that owns its schema and no more.
        yield asyncio.run(pg.prepare_app_database(LOCAL_DATABASE))
    finally:
        if started_here:
            print("Stopping local PostgreSQL", file=sys.stderr, flush=True)
            pg.stop()


async def _migrate(dsn: str) -> list[str]:
    async with connection(dsn) as conn:
        return await migrate(conn)


async def _seed(dsn: str, seed: int, *, only_if_empty: bool) -> bool:
    from dispatch.demo import seed_demo  # only the demo commands pay for importing the generator

    async with connection(dsn) as conn:
        try:
            summary = await seed_demo(conn, seed=seed)
        except ConflictError:
            if only_if_empty:
                return False
            raise
    print(f"Demo data (seed {seed}):")
    for table, count in summary.counts.items():
        print(f"  {table:<32} {count:>6}")
    _print_logins(summary.logins)
    return True


def _print_logins(logins: Sequence[DemoLogin], valid: Sequence[bool] | None = None) -> None:
    print("Logins (email / password / role):")
    for i, login in enumerate(logins):
        who = f"  ({login.technician_name})" if login.technician_name else ""
        changed = "  [no longer signs in here]" if valid is not None and not valid[i] else ""
        print(f"  {login.email:<40} {login.password:<18} {login.role}{who}{changed}")


async def _demo_logins(dsn: str, seed: int) -> int:
    from dispatch.demo import demo_logins, still_valid

    logins = demo_logins(seed)
    async with connection(dsn) as conn:
        valid = await still_valid(conn, logins)
    print(f"Demo logins (seed {seed}):")
    _print_logins(logins, valid)
    if not any(valid):
        print(
            f"None of them signs in to this database: was it seeded with another --seed than {seed}?",
            file=sys.stderr,
        )
        return 1
    return 0


def cmd_migrate(settings: Settings, _: argparse.Namespace) -> int:
    with database(settings) as dsn:
        applied = asyncio.run(_migrate(dsn))
    print("Applied: " + ", ".join(applied) if applied else "The schema is up to date.")
    return 0


def cmd_demo(settings: Settings, args: argparse.Namespace) -> int:
    with database(settings) as dsn:
        asyncio.run(_migrate(dsn))
        if args.logins:
            return asyncio.run(_demo_logins(dsn, args.seed))
        asyncio.run(_seed(dsn, args.seed, only_if_empty=False))
    return 0


def cmd_serve(settings: Settings, args: argparse.Namespace) -> int:
    import uvicorn

    from api.app import create_app
    from api.shutdown import DrainingServer

    with database(settings) as dsn:
        applied = [] if args.skip_migrations else asyncio.run(_migrate(dsn))
        if applied:
            print("Applied migrations: " + ", ".join(applied), flush=True)
        if args.demo and not asyncio.run(_seed(dsn, args.seed, only_if_empty=True)):
            print("The database already has data; demo data not added.", flush=True)
        print(f"Truckroll on http://{args.host}:{args.port}  (API docs: /schema/swagger)", flush=True)
        # uvicorn handles Ctrl-C/SIGTERM itself and returns here; the local cluster stops after it.
        # After its graceful shutdown uvicorn raises the signal again for the previous handler:
        # for SIGTERM that would kill the process before the local cluster is stopped, so the
        # previous handler is one that lets this function return (exit status 0).
        signal.signal(signal.SIGTERM, lambda *_: None)
        if args.workers > 1:
            # Each worker process builds its own app from the environment, the local cluster's too.
            os.environ["DATABASE_URL"] = dsn
            uvicorn.run(
                "api.app:app_from_environment",
                factory=True,
                workers=args.workers,
                host=args.host,
                port=args.port,
                log_level=settings.log_level.lower(),
                timeout_graceful_shutdown=10,
            )
        else:
            config = uvicorn.Config(
                create_app(settings, dsn=dsn),
                host=args.host,
                port=args.port,
                log_level=settings.log_level.lower(),
                timeout_graceful_shutdown=10,
            )
            server = DrainingServer(config)
            with contextlib.suppress(KeyboardInterrupt):  # Ctrl-C, raised again once shut down
                server.run()
            if not server.started:
                return 3  # as uvicorn.run: the app or the port failed at start-up (it said why)
    return 0


def _read_password() -> str:
    if sys.stdin.isatty():
        first = getpass.getpass("Password: ")
        if getpass.getpass("Repeat password: ") != first:
            raise SystemExit("The passwords differ.")
        return first
    return sys.stdin.readline().rstrip("\n")


async def _create_user(dsn: str, args: argparse.Namespace, password: str, min_password_length: int) -> str:
    from dispatch.access.accounts import Role, create_user

    async with connection(dsn) as conn:
        user = await create_user(
            conn,
            email=args.email,
            password=password,
            role=Role(args.role),
            technician_id=args.technician_id,
            territory_id=args.territory_id,
            min_password_length=min_password_length,
        )
    return f"Created {user.role} {user.email} ({user.id})"


def cmd_create_user(settings: Settings, args: argparse.Namespace) -> int:
    password = _read_password()
    with database(settings) as dsn:
        asyncio.run(_migrate(dsn))
        print(asyncio.run(_create_user(dsn, args, password, settings.password_min_length)))
    return 0


# The curve: coverage against extra parts from carrying almost everything to almost nothing.
CURVE_THRESHOLDS = tuple(round(0.05 * i, 2) for i in range(1, 20))
DEFAULT_THRESHOLDS = (0.2, 0.3, 0.5)
_BACKTEST_HEADER = "threshold  coverage  extra parts/visit   baseline coverage  baseline extra/visit"


def _backtest_row(threshold: float, model: Score, baseline: Score) -> str:
    return (
        f"{threshold:>9.2f}  {model.coverage:>8.1%}  {model.extra_per_visit:>17.2f}"
        f"   {baseline.coverage:>17.1%}  {baseline.extra_per_visit:>20.2f}"
    )


def _backtest_lines(results: Sequence[BacktestResult], thresholds: Sequence[float]) -> list[str]:
    by_threshold = {r.threshold: r for r in results}
    first = results[0]
    used, none = first.model_used_parts.visits, first.no_part_visits
    lines = [
        f"Replayed {first.model.visits} first visits in time order, each predicted from the history"
        " before it and its asset's record as it stood then.",
        f"{none} of them used no part; the figures below are over the {used} that used one.",
        "",
        _BACKTEST_HEADER,
    ]
    lines += [
        _backtest_row(t, by_threshold[t].model_used_parts, by_threshold[t].baseline_used_parts)
        for t in thresholds
    ]
    lines += ["", f"Counting the {none} visits that used no part as covered:", _BACKTEST_HEADER]
    lines += [_backtest_row(t, by_threshold[t].model, by_threshold[t].baseline) for t in thresholds]
    for t in thresholds:
        lines += [
            "",
            f"By problem at {t:.2f} (visits that used a part):",
            "problem                   visits  no part  coverage  extra/visit"
            "  baseline coverage  baseline extra/visit",
        ]
        lines += [
            f"{p.problem_code:<24}  {p.model.visits:>6}  {p.no_part_visits:>7}  {p.model.coverage:>8.1%}"
            f"  {p.model.extra_per_visit:>11.2f}  {p.baseline.coverage:>17.1%}"
            f"  {p.baseline.extra_per_visit:>20.2f}"
            for p in by_threshold[t].by_problem
        ]
    lines += ["", "Coverage against extra parts per visit (visits that used a part):", _BACKTEST_HEADER]
    lines += [
        _backtest_row(t, by_threshold[t].model_used_parts, by_threshold[t].baseline_used_parts)
        for t in CURVE_THRESHOLDS
    ]
    return lines


# Costs of an extra line on the van at which the carried set is judged; the product carries at
# CARRY_COST (assets/parts_prediction.py).
CARRY_COSTS = (0.05, 0.1, 0.15, 0.2, 0.3, 0.5, 1.0)


def _baseline_at(extra: float, results: Sequence[BacktestResult]) -> float | None:
    """The baseline's coverage at this many extra parts per visit, read off its curve; None past
    its ends, where reading it would flatter one side."""
    curve = sorted((r.baseline_used_parts.extra_per_visit, r.baseline_used_parts.coverage) for r in results)
    for (x0, y0), (x1, y1) in itertools.pairwise(curve):
        if x0 <= extra <= x1:
            return y0 if x1 == x0 else y0 + (y1 - y0) * (extra - x0) / (x1 - x0)
    return None


def _carry_lines(carried: Sequence[BacktestResult], results: Sequence[BacktestResult]) -> list[str]:
    from assets.parts_prediction import CARRY_COST

    lines = [
        "",
        f"What the van carries, by the cost of an extra line (the product carries at {CARRY_COST:.2f};"
        " visits that used a part):",
        "     cost  coverage  extra parts/visit   baseline coverage at the same extra parts",
    ]
    for r in carried:
        score = r.model_used_parts
        baseline = _baseline_at(score.extra_per_visit, results)
        shown = "n/a" if baseline is None else f"{baseline:.1%}"
        lines.append(
            f"{r.threshold:>9.2f}  {score.coverage:>8.1%}  {score.extra_per_visit:>17.2f}   {shown:>41}"
        )
    return lines


def _progress(total: int) -> Callable[[int], None]:
    def report(done: int) -> None:
        if done and done % 20_000 == 0:
            print(f"replayed {done} of {total} visits", file=sys.stderr, flush=True)

    return report


async def _backtest(dsn: str, thresholds: Sequence[float]) -> list[str]:
    from assets.parts_backtest import backtest
    from assets.visit_history import visit_history

    async with connection(dsn) as conn:
        history = await visit_history(conn)
    visits, found, usual, neighbours = history.visits, history.fittings, history.usual, history.neighbours
    if not visits:
        return ["No finished first visits to replay."]
    every = sorted({*thresholds, *CURVE_THRESHOLDS})
    results = backtest(
        visits,
        lambda v: found.get((v.asset_id, v.judged_at), ()),
        usual,
        every,
        progress=_progress(len(visits)),
        neighbours=neighbours,
    )
    carried = backtest(
        visits,
        lambda v: found.get((v.asset_id, v.judged_at), ()),
        usual,
        CARRY_COSTS,
        carry=True,
        neighbours=neighbours,
    )
    return _backtest_lines(results, thresholds) + _carry_lines(carried, results)


def cmd_backtest_parts(settings: Settings, args: argparse.Namespace) -> int:
    thresholds = list(dict.fromkeys(args.threshold or DEFAULT_THRESHOLDS))
    with database(settings) as dsn:
        asyncio.run(_migrate(dsn))
        for line in asyncio.run(_backtest(dsn, thresholds)):
            print(line)
    return 0


async def _import(dsn: str, directory: Path) -> int:
    from dispatch.importing.load import import_directory

    # A malformed file raises out of the transaction, which rolls back whatever was written.
    async with connection(dsn) as conn, conn.transaction():
        report = await import_directory(conn, directory)
    for name, counts in report.files.items():
        print(f"{name:<18} {counts.added:>6} added  {counts.present:>6} already there")
    for rejection in report.rejected:
        print(f"rejected {rejection}", file=sys.stderr)
    if report.rejected:
        print(f"{len(report.rejected)} row(s) rejected; everything else was imported", file=sys.stderr)
    return 1 if report.rejected else 0


def cmd_import(settings: Settings, args: argparse.Namespace) -> int:
    from dispatch.importing.runs import MalformedFileError

    with database(settings) as dsn:
        asyncio.run(_migrate(dsn))
        try:
            return asyncio.run(_import(dsn, Path(args.directory)))
        except MalformedFileError as exc:
            print(f"error: {exc}; nothing was imported", file=sys.stderr)
            return 2


async def _report(dsn: str, args: argparse.Namespace) -> list[str]:
    from dispatch.reporting.metrics import service_metrics

    end = args.to or datetime.now(UTC)
    start = args.since or end - timedelta(days=30)
    async with connection(dsn) as conn:
        figures = await service_metrics(
            conn, start, end, territory_id=args.territory_id, technician_id=args.technician_id
        )
    lines = [f"Service from {start.isoformat()} to {end.isoformat()}"]
    for name in figures.__struct_fields__:
        if name in ("period_start", "period_end"):
            continue
        value = getattr(figures, name)
        shown = (
            "-"
            if value is None
            else (f"{value:.1%}" if name.endswith("rate") or name == "utilisation" else str(value))
        )
        lines.append(f"  {name.replace('_', ' '):<34} {shown}")
    return lines


def cmd_report(settings: Settings, args: argparse.Namespace) -> int:
    with database(settings) as dsn:
        asyncio.run(_migrate(dsn))
        for line in asyncio.run(_report(dsn, args)):
            print(line)
    return 0


def cmd_vapid_keys(_: Settings | None, __: argparse.Namespace) -> int:
    from notifications.webpush import generate_vapid_keys

    keys = generate_vapid_keys()
    print(f"TRUCKROLL_VAPID_PRIVATE_KEY={keys.private_key}")
    print(f"TRUCKROLL_VAPID_PUBLIC_KEY={keys.public_key}")
    return 0


async def _work(dsn: str, settings: Settings, once: bool, lease_s: float) -> None:
    from infra.db import create_pool
    from notifications.webpush import Sender
    from notifications.worker import WorkerSettings, run, run_once

    if not settings.vapid_private_key:
        raise SystemExit(
            "TRUCKROLL_VAPID_PRIVATE_KEY is not set: make a key pair with `truckroll vapid-keys`"
        )
    pool = await create_pool(dsn, min_size=1, max_size=3)
    try:
        async with Sender(
            settings.vapid_private_key,
            settings.vapid_subject,
            timeout_s=settings.push_timeout_s,
            response_max_bytes=settings.push_response_max_bytes,
        ) as sender:
            worker = WorkerSettings(
                lease_s=lease_s,
                max_delay_s=settings.push_max_delay_s,
                allow_insecure=settings.push_allow_insecure,
            )
            if once:
                tally = await run_once(pool, sender, worker)
                print(
                    f"sent {tally.sent}, retrying {tally.retried}, gone {tally.gone}, failed {tally.failed}"
                )
            else:
                print(_worker_banner(dsn, settings, worker), flush=True)
                # SIGTERM (a deploy, a scale-down) or Ctrl-C: each lane finishes the batch it
                # holds, records the outcomes, and the worker exits with nothing left leased.
                stop = asyncio.Event()
                loop = asyncio.get_running_loop()
                for sig in (signal.SIGTERM, signal.SIGINT):
                    loop.add_signal_handler(sig, stop.set)
                await run(pool, sender, worker, stop=stop, dsn=dsn)
                print("worker stopped: batches in hand were finished", flush=True)
    finally:
        await pool.close()


def _worker_banner(dsn: str, settings: Settings, worker: WorkerSettings) -> str:
    """What the worker serves and how, so an operator sees it started; never a secret (the
    database's password, the VAPID private key)."""
    parts = urlsplit(dsn)
    host = parts.hostname or parse_qs(parts.query).get("host", ["the local socket"])[0]
    return (
        f"Truckroll push worker: sending the outbox of database {parts.path.lstrip('/') or '?'} on"
        f" {host} by Web Push; {worker.lanes} lanes of up to {worker.batch} messages, lease"
        f" {worker.lease_s:g} s, push timeout {settings.push_timeout_s:g} s, longest retry wait"
        f" {worker.max_delay_s:g} s, http push endpoints {'allowed' if worker.allow_insecure else 'refused'},"
        f" VAPID subject {settings.vapid_subject}. Ctrl-C or SIGTERM stops it after the batches in hand."
    )


def cmd_worker(settings: Settings, args: argparse.Namespace) -> int:
    from notifications.worker import shortest_lease_s

    shortest = shortest_lease_s(settings.push_timeout_s)
    if not shortest <= args.lease_s <= 86400:  # a day at most: a dead worker's batch waits that long
        raise SettingsError(
            f"--lease-s {args.lease_s:g} must be from {shortest:g} to 86400: TRUCKROLL_PUSH_TIMEOUT_S"
            f" is {settings.push_timeout_s:g} s, a batch may take that long to send (and a second"
            " more to record), and a lease that runs out first lets another worker send it again"
        )
    with database(settings) as dsn:
        if not args.skip_migrations:
            asyncio.run(_migrate(dsn))
        with contextlib.suppress(KeyboardInterrupt):
            asyncio.run(_work(dsn, settings, args.once, args.lease_s))
    return 0


async def _calibrate(dsn: str, routing_url: str | None) -> list[str]:
    from dispatch.travel.calibration import calibrate
    from dispatch.travel.sources import OsrmTravel

    routing = OsrmTravel(routing_url) if routing_url else None
    try:
        async with connection(dsn) as conn, conn.transaction():
            learned = await calibrate(conn, routing)
    finally:
        if routing is not None:
            await routing.close()
    against = f"the road router at {routing_url}" if routing_url else "the straight-line model"
    if not learned.fitted:
        return ["No completed trips with a position at departure yet: nothing to learn from."]
    lines = [f"Trips against {against} (actual time / its time; 1.00 = as it says):"]
    for fitted in learned.fitted:
        f = fitted.factors
        lines.append(f"{fitted.territory_id}  all hours x{f.factor:.2f} from {f.trips} trips")
        for hour, trips in enumerate(fitted.hour_trips):
            if trips:
                lines.append(f"  {hour:02d}:00  x{f.hour_factors[hour]:.2f} from {trips} trips")
        bands = ", ".join(f"{name} x{b:.2f}" for name, b in zip(band_names(), f.band_factors, strict=True))
        lines.append(f"  by distance: {bands}")
        if f.speed_factors:
            speeds = ", ".join(
                f"{name} x{v:.2f}" for name, v in zip(speed_band_names(), f.speed_factors, strict=True)
            )
            lines.append(f"  by the source's straight-line speed: {speeds}")
        if f.class_factors:
            lines.append(f"  routed legs by road class, all hours: {road_class_line(f.class_factors)}")
    if learned.paces:
        paces = [p.factor for p in learned.paces]
        lines.append(
            f"{len(paces)} technicians with a pace of their own (x1.00 = as the fleet drives),"
            f" from x{min(paces):.2f} to x{max(paces):.2f}"
        )
    return lines


def band_names() -> list[str]:
    from dispatch.travel.learning import BAND_EDGES_M

    edges = [f"{e / 1000:g}" for e in BAND_EDGES_M]
    return [f"<{edges[0]} km", *(f"{a}-{b} km" for a, b in itertools.pairwise(edges)), f">{edges[-1]} km"]


def road_class_line(class_factors: Sequence[float]) -> str:
    from dispatch.travel.road_classes import JUNCTIONS, SPEED_CLASS_EDGES_KMH, from_flat

    values = from_flat(class_factors).at_hour(None)
    edges = [f"{e:g}" for e in SPEED_CLASS_EDGES_KMH]
    names = [f"<{edges[0]} km/h", *(f"{a}-{b}" for a, b in itertools.pairwise(edges)), f">{edges[-1]}"]
    classes = ", ".join(f"{name} x{v:.2f}" for name, v in zip(names, values, strict=False))
    return f"{classes}; +{values[JUNCTIONS]:.0f} s a junction"


def speed_band_names() -> list[str]:
    from dispatch.travel.learning import SPEED_EDGES_KMH

    edges = [f"{e:g}" for e in SPEED_EDGES_KMH]
    return [f"<{edges[0]} km/h", *(f"{a}-{b}" for a, b in itertools.pairwise(edges)), f">{edges[-1]}"]


def cmd_calibrate(settings: Settings, _: argparse.Namespace) -> int:
    with database(settings) as dsn:
        asyncio.run(_migrate(dsn))
        for line in asyncio.run(_calibrate(dsn, settings.routing_url)):
            print(line)
    return 0


async def _eta_report(dsn: str, routing_url: str | None) -> list[str]:
    from dispatch.tracking.eta_report import HorizonFigures, report
    from dispatch.travel.sources import OsrmTravel

    routing = OsrmTravel(routing_url) if routing_url else None
    try:
        async with connection(dsn) as conn:
            found = await report(conn, routing)
    finally:
        if routing is not None:
            await routing.close()
    if found is None:
        return [
            "Too few completed trips with positions to judge ETAs on yet (at least 20 are needed)."
            " For figures on a simulated city, see tests/bench/bench_eta_roads.py."
        ]
    against = f"the road router at {routing_url}" if routing_url else "the straight-line model"
    lines = [
        f"Published ETAs replayed on the fleet's {found.judged} newest completed trips, timed by {against};"
        f" factors learned from the {found.learned_from} before them.",
        "Error in minutes, published minus actual (MAE / p90 / bias; a negative bias is optimistic):",
        f"  {'':<28}" + "".join(f"{f'T-{h} min':>24}" for h in (30, 20, 10, 5)),
    ]

    def cells(figures: list[HorizonFigures]) -> str:
        return "".join(
            f"{f'{f.mae_min:.1f} / {f.p90_min:.1f} / {f.bias_min:+.1f} ({f.trips})':>24}"
            if f.trips
            else f"{'-':>24}"
            for f in figures
        )

    lines.append(f"  {'as configured':<28}" + cells(found.as_configured))
    lines.append(f"  {'with the learned factors':<28}" + cells(found.learned))
    return lines


def cmd_eta_report(settings: Settings, _: argparse.Namespace) -> int:
    with database(settings) as dsn:
        asyncio.run(_migrate(dsn))
        for line in asyncio.run(_eta_report(dsn, settings.routing_url)):
            print(line)
    return 0


async def _optimize(dsn: str, args: argparse.Namespace) -> tuple[list[str], int]:
    from dispatch.planning import day_planning, plan_runs

    async with connection(dsn) as conn:
        loaded = await day_planning.load_day(conn, args.territory, args.date, now=datetime.now(UTC))
        plan, violations = await asyncio.to_thread(
            day_planning.solve_and_check, loaded, args.time_limit, args.seed
        )
        result = day_planning.summary(loaded, plan, violations)
        k = result["kpis"]
        lines = [
            f"{len(loaded.problem.jobs)} jobs to plan and {len(loaded.problem.technicians)} technicians"
            " on shift",
            f"travel {k['travel_s'] / 3600:.1f} h, {k['distance_km']} km; {k['jobs_planned']} jobs planned,"
            f" {k['jobs_unplanned']} not; {k['promises_kept']} promises kept;"
            f" overtime {k['overtime_s'] // 60} min",
            *(f"  not planned: {u['job_id']}: {u['reason']}" for u in result["unplanned"]),
            f"{len(result['changes'])} job(s) change technician",
            *(f"  breaks a rule: {v}" for v in result["violations"]),
        ]
        if not args.apply:
            return lines, 0
        if violations:
            return [*lines, "Not applied: the plan breaks rules of the day."], 1
        async with conn.transaction():
            plan_id = await plan_runs.record_solved_plan(
                conn,
                loaded,
                territory_id=args.territory,
                day=args.date,
                time_limit_s=args.time_limit,
                seed=args.seed,
                result=result,
            )
            done = await day_planning.apply(conn, None, plan_id, now=datetime.now(UTC))
        return [*lines, f"Applied plan {plan_id}: {len(done['jobs_changed'])} job(s) changed."], 0


def cmd_optimize(settings: Settings, args: argparse.Namespace) -> int:
    with database(settings) as dsn:
        asyncio.run(_migrate(dsn))
        lines, code = asyncio.run(_optimize(dsn, args))
    print("\n".join(lines))
    return code


def _moment(text: str) -> datetime:
    value = datetime.fromisoformat(text)
    return value if value.tzinfo else value.replace(tzinfo=UTC)


def _probability(text: str) -> float:
    value = float(text)
    if not 0 < value <= 1:
        raise argparse.ArgumentTypeError(f"{text} is not a probability above 0 and at most 1")
    return value


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="truckroll", description="Field-service dispatch backend.")
    sub = parser.add_subparsers(dest="command", required=True)

    serve = sub.add_parser("serve", help="migrate, then run the HTTP API")
    serve.add_argument("--host", default="127.0.0.1")
    serve.add_argument("--port", type=int, default=8000)
    serve.add_argument("--demo", action="store_true", help="seed demo data if the database is empty")
    serve.add_argument("--seed", type=int, default=7, help="demo data seed (default 7)")
    serve.add_argument(
        "--workers", type=int, default=1, help="API processes sharing the port (default 1; one per core)"
    )
    serve.add_argument(
        "--skip-migrations", action="store_true", help="do not migrate at start (when a deploy job migrates)"
    )
    serve.set_defaults(handler=cmd_serve)

    sub.add_parser("migrate", help="apply pending schema migrations").set_defaults(handler=cmd_migrate)

    demo = sub.add_parser("demo", help="seed demo data into an empty database")
    demo.add_argument("--seed", type=int, default=7, help="demo data seed (default 7, as serve --demo)")
    demo.add_argument(
        "--logins",
        action="store_true",
        help="print the logins of --seed again (they come from the seed); marks any that no longer sign in",
    )
    demo.set_defaults(handler=cmd_demo)

    backtest = sub.add_parser(
        "backtest-parts", help="replay past visits and report how often the predicted parts covered them"
    )
    backtest.add_argument(
        "--threshold",
        type=_probability,
        nargs="+",
        action="extend",
        metavar="P",
        help="operating points: carry parts at or above each probability (default 0.2 0.3 0.5)",
    )
    backtest.set_defaults(handler=cmd_backtest_parts)

    importer = sub.add_parser("import", help="load an installed base from CSV files (see the README)")
    importer.add_argument("directory")
    importer.set_defaults(handler=cmd_import)

    report = sub.add_parser(
        "report", help="print the service metrics for a period (default: the last 30 days)"
    )
    report.add_argument("--from", dest="since", type=_moment, default=None, help="ISO time or date")
    report.add_argument("--to", type=_moment, default=None, help="ISO time or date")
    report.add_argument("--territory-id", type=UUID, default=None)
    report.add_argument("--technician-id", type=UUID, default=None)
    report.set_defaults(handler=cmd_report)

    sub.add_parser(
        "calibrate",
        help="learn from completed trips how long travel really takes against the configured source",
    ).set_defaults(handler=cmd_calibrate)
    sub.add_parser(
        "eta-report",
        help="the published ETA's error on the fleet's completed trips, as configured and as learned",
    ).set_defaults(handler=cmd_eta_report)
    optimize = sub.add_parser("optimize", help="plan a territory's day with the optimizer; print the KPIs")
    optimize.add_argument("--territory", type=UUID, required=True, help="territory id")
    optimize.add_argument("--date", type=date.fromisoformat, required=True, help="the day, YYYY-MM-DD")
    optimize.add_argument("--time-limit", type=float, default=10.0, help="seconds of search (default 10)")
    optimize.add_argument("--seed", type=int, default=0)
    optimize.add_argument("--apply", action="store_true", help="write the plan into the day if it checks")
    optimize.set_defaults(handler=cmd_optimize)
    sub.add_parser("vapid-keys", help="print a new VAPID key pair for Web Push").set_defaults(
        handler=cmd_vapid_keys
    )
    worker = sub.add_parser("worker", help="deliver the outbox's messages by Web Push (several may run)")
    worker.add_argument("--once", action="store_true", help="one batch, then exit")
    worker.add_argument(
        "--lease-s",
        type=float,
        default=30.0,
        help="how long a claimed delivery is this worker's alone (seconds; default 30, at least"
        " TRUCKROLL_PUSH_TIMEOUT_S + 1)",
    )
    worker.add_argument(
        "--skip-migrations",
        action="store_true",
        help="do not migrate first (deployments migrate once, as a job)",
    )
    worker.set_defaults(handler=cmd_worker)

    user = sub.add_parser("create-user", help="create a login (password from stdin or a prompt)")
    user.add_argument("email")
    user.add_argument("--role", required=True, choices=["admin", "dispatcher", "technician"])
    user.add_argument("--technician-id", type=UUID, default=None, help="required for --role technician")
    user.add_argument("--territory-id", type=UUID, default=None, help="limit a dispatcher to one territory")
    user.set_defaults(handler=cmd_create_user)
    add_routing_commands(sub)
    return parser


def main(argv: Sequence[str] | None = None) -> int:
    args = build_parser().parse_args(argv)
    try:
        settings = load_settings()
        code: int = args.handler(settings, args)
    except (SettingsError, LocalPostgresError) as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 2
    except DomainError as exc:
        print(f"error: {exc.message}", file=sys.stderr)
        return 1
    except KeyboardInterrupt:
        return 130
    return code


if __name__ == "__main__":
    raise SystemExit(main())
