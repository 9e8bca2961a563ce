"""The backtest: on the demo's synthetic history, as messy as real records, it beats the baseline;
on two hand-built doors, each rule of an honest replay."""

from __future__ import annotations

import asyncio
import re
from datetime import UTC, datetime, timedelta
from pathlib import Path
from uuid import UUID

import pytest

from api.cli import database, main
from assets import attribute_history, attribute_queries, prediction_queries
from assets.models import AssetId
from infra.db import Connection, connect
from infra.settings import Settings
from tests.factories_assets import insert_asset, insert_fitment, insert_site
from tests.integration.api.test_cli import empty_dsn  # noqa: F401  # the fixture, shared


def test_predicted_parts_cover_most_visits_with_few_extra_parts_and_beat_the_baseline(
    empty_dsn: str,  # noqa: F811
    capsys: pytest.CaptureFixture[str],
) -> None:
    assert main(["demo"]) == 0
    capsys.readouterr()

    assert main(["backtest-parts", "--threshold", "0.2"]) == 0

    out = capsys.readouterr().out
    row = re.search(r"^\s+0\.20\s+([\d.]+)%\s+([\d.]+)\s+([\d.]+)%\s+([\d.]+)$", out, re.MULTILINE)
    assert row, out
    coverage, extra, base_coverage, base_extra = (float(g) for g in row.groups())
    # Measured at 0.2 over the visits that used a part, on seeds 3, 5 and 7 (December 2026):
    # 84.3-86.1% covered with 0.40-0.48 extra parts each, against the baseline's 37.7-43.1% with
    # 0.68-0.73. Spring sizes missing or mistyped on record, glass that depends on a rain sensor
    # nobody noted, faults with several causes and furnace filters of seven sizes, nearly half of
    # them not on record (dispatch/demo/noise.py), keep it from the 95% the clean history gave;
    # the margins leave room for the day the demo is built on.
    assert coverage >= 82.0
    assert extra <= 0.55
    assert coverage >= base_coverage + 35
    assert extra <= base_extra
    # What the van carries at the product's cost of a line, against the baseline at as many extra
    # parts: on seeds 3, 5 and 7 (December 2026) 89.2-89.6% with 0.59-0.65 extra parts, the
    # baseline 36.0-41.1% there.
    carried = re.search(r"^\s+0\.20\s+([\d.]+)%\s+([\d.]+)\s+([\d.]+)%$", out, re.MULTILINE)
    assert carried, out
    coverage, extra, base_same = (float(g) for g in carried.groups())
    assert coverage >= 86.0
    assert extra <= 0.75
    assert coverage >= base_same + 40


# Two two-spring doors, installed in 2019, each with a spring visit in 2020; door B's record had its
# spring size from the start, door A's was typed in by staff in 2026, after its visit. Door B also
# had a visit in April that used no part.
MARCH = datetime(2020, 3, 1, 15, tzinfo=UTC)


async def _visit(
    conn: Connection, site: UUID, door: UUID, finished_at: datetime, parts: dict[UUID, int]
) -> None:
    job_id = await conn.fetchval(
        """
        INSERT INTO jobs (site_id, asset_id, problem_code, duration_s, window_start_at, window_end_at,
                          status, started_at, finished_at)
        VALUES ($1, $2, 'broken_spring', 3600, $3, $4, 'completed', $3, $4) RETURNING id
        """,
        site,
        door,
        finished_at - timedelta(hours=2),
        finished_at,
    )
    event = await conn.fetchval(
        """
        INSERT INTO asset_events (asset_id, job_id, kind, problem_code, occurred_at)
        VALUES ($1, $2, 'replace', 'broken_spring', $3) RETURNING id
        """,
        door,
        job_id,
        finished_at,
    )
    for part, quantity in parts.items():
        await conn.execute("INSERT INTO asset_event_parts VALUES ($1, $2, $3)", event, part, quantity)


async def _two_doors(dsn: str) -> None:
    conn = await connect(dsn)
    try:
        site = await insert_site(conn)
        spring: UUID = await conn.fetchval(
            """INSERT INTO parts (sku, name, attributes) VALUES ('SPR-218', 'Torsion spring .218',
               '{"family": "torsion_spring"}') RETURNING id"""
        )
        await insert_fitment(conn, spring, conditions={"spring_size": "218", "springs": 2}, quantity=2)
        door_a = await insert_asset(conn, site, attributes={"springs": 2})
        door_b = await insert_asset(conn, site, attributes={"springs": 2, "spring_size": "218"})
        await conn.execute("UPDATE assets SET installed_at = '2019-01-01T00:00:00Z'")
        await _visit(conn, site, door_a, MARCH, {spring: 2})
        await _visit(conn, site, door_b, MARCH + timedelta(days=1), {spring: 2})
        await _visit(conn, site, door_b, MARCH + timedelta(days=31), {})
        async with conn.transaction():
            await attribute_history.update_asset(
                conn, AssetId(door_a), {"attributes": {"springs": 2, "spring_size": "218"}}
            )
    finally:
        await conn.close()


def _backtest(dsn: str, capsys: pytest.CaptureFixture[str], *args: str) -> str:
    assert main(["migrate"]) == 0
    asyncio.run(_two_doors(dsn))
    capsys.readouterr()
    assert main(["backtest-parts", *args]) == 0
    out: str = capsys.readouterr().out
    return out


def _section(out: str, title: str) -> list[str]:
    """The rows of the first table at or after the line starting with `title`, up to a blank line."""
    lines = out.splitlines()
    start = next(i for i, line in enumerate(lines) if line.startswith(title))
    header = next(i for i in range(start, len(lines)) if lines[i].startswith(("threshold", "problem")))
    table = lines[header + 1 :]
    return table[: table.index("")] if "" in table else table


def test_a_spring_size_typed_in_after_a_visit_does_not_help_that_visits_prediction(
    empty_dsn: str,  # noqa: F811
    capsys: pytest.CaptureFixture[str],
) -> None:
    out = _backtest(empty_dsn, capsys, "--threshold", "0.2")
    # Door A's visit: nothing on record named its spring then, and nothing came before it, so no
    # spring is predicted. Door B's: its record named .218 and the rules give 2 × SPR-218 (0.72):
    # 1 of the 2 visits that used a part is covered.
    assert _section(out, "threshold")[0].split()[:2] == ["0.20", "50.0%"]


def test_visits_that_used_no_part_are_counted_apart(
    empty_dsn: str,  # noqa: F811
    capsys: pytest.CaptureFixture[str],
) -> None:
    out = _backtest(empty_dsn, capsys, "--threshold", "0.2")
    assert "1 of them used no part; the figures below are over the 2 that used one." in out
    # Counting it as covered: door B's two visits of three.
    assert _section(out, "Counting the 1 visits that used no part as covered")[0].split()[:2] == [
        "0.20",
        "66.7%",
    ]


def test_several_thresholds_are_operating_points_of_one_run_with_a_curve(
    empty_dsn: str,  # noqa: F811
    capsys: pytest.CaptureFixture[str],
) -> None:
    out = _backtest(empty_dsn, capsys, "--threshold", "0.2", "0.8")
    assert [row.split()[0] for row in _section(out, "threshold")] == ["0.20", "0.80"]
    curve = _section(out, "Coverage against extra parts per visit")
    assert [row.split()[0] for row in curve] == [f"{0.05 * i:.2f}" for i in range(1, 20)]
    # Door B's spring at 0.72: covered up to 0.70, not at 0.75; door A's never.
    assert [row.split()[1] for row in curve][13:15] == ["50.0%", "0.0%"]


def test_each_problem_has_its_own_line_for_the_model_and_the_baseline(
    empty_dsn: str,  # noqa: F811
    capsys: pytest.CaptureFixture[str],
) -> None:
    out = _backtest(empty_dsn, capsys, "--threshold", "0.2")
    [row] = _section(out, "By problem at 0.20")
    # broken_spring: 2 visits with a part, 1 without; model covers door B's, the baseline too
    # (its only past visit used the spring); the baseline carries nothing extra.
    assert row.split() == ["broken_spring", "2", "1", "50.0%", "0.00", "50.0%", "0.00"]


class _StoppedCluster:
    """Stands in for the local cluster: what it would print is the question, not PostgreSQL."""

    pgdata = "/nonexistent/pgdata"

    def __init__(self, data_dir: object) -> None:
        del data_dir

    def is_running(self) -> bool:
        return False

    def start(self) -> None:
        pass

    def stop(self) -> None:
        pass

    async def prepare_app_database(self, database: str) -> str:
        return f"postgresql:///{database}"


def test_notices_about_the_local_database_go_to_stderr_not_among_the_results(
    monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str], tmp_path: Path
) -> None:
    monkeypatch.setattr("api.cli.LocalPostgres", _StoppedCluster)
    with database(Settings(data_dir=tmp_path, jwt_secret="x" * 32)) as dsn:
        print(f"result {dsn}")
    captured = capsys.readouterr()
    assert captured.out == "result postgresql:///truckroll\n"
    assert "Starting local PostgreSQL" in captured.err
    assert "Stopping local PostgreSQL" in captured.err


async def test_a_visit_is_judged_with_the_record_as_it_stood_when_the_technician_arrived(
    conn: Connection,
) -> None:
    # The office typed the door's spring size in while the technician was on site (9:00-11:00).
    site = await insert_site(conn)
    spring: UUID = await conn.fetchval(
        """INSERT INTO parts (sku, name, attributes) VALUES ('SPR-218', 'Torsion spring .218',
           '{"family": "torsion_spring"}') RETURNING id"""
    )
    await insert_fitment(conn, spring, conditions={"spring_size": "218", "springs": 2}, quantity=2)
    door = await insert_asset(conn, site, attributes={"springs": 2, "spring_size": "218"})
    finished = MARCH + timedelta(hours=2)
    await _visit(conn, site, door, finished, {spring: 2})
    await conn.executemany(
        "INSERT INTO asset_attribute_changes (asset_id, key, value, valid_from, source)"
        " VALUES ($1, $2, $3, $4, $5)",
        [
            (door, "springs", 2, datetime(2019, 1, 1, tzinfo=UTC), "import"),
            (door, "spring_size", "218", finished - timedelta(hours=1), "manual"),
        ],
    )

    (visit,) = await prediction_queries.visits(conn)

    assert visit.judged_at == finished - timedelta(hours=2)
    as_judged, at_the_end = await attribute_queries.fittings_before(
        conn, [(door, visit.judged_at), (door, visit.finished_at)]
    )
    assert as_judged == []
    assert [f.part.sku for f in at_the_end] == ["SPR-218"]
