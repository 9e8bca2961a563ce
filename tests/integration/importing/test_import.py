"""`truckroll import DIR` on a real database: idempotent, row-level rejections, all-or-nothing files."""

from __future__ import annotations

import asyncio
import shutil
from pathlib import Path

import pytest

from api.cli import main
from infra.db import connect
from tests.integration.api.test_cli import empty_dsn  # noqa: F401  # the fixture, shared

EXAMPLE = Path(__file__).resolve().parents[3] / "infra" / "import-example"
# What the example writes: its asset_events are the install and the spring job's replacement.
EXAMPLE_ROWS = {
    "parts": 3,
    "fitments": 2,
    "customers": 2,
    "sites": 1,
    "site_occupancies": 2,
    "assets": 1,
    "asset_events": 2,
    "jobs": 1,
}
TABLES = ("parts", "fitments", "customers", "sites", "site_occupancies", "assets", "asset_events", "jobs")


async def _counts(dsn: str) -> dict[str, int]:
    conn = await connect(dsn)
    try:
        return {t: int(await conn.fetchval(f"SELECT count(*) FROM {t}")) for t in TABLES}
    finally:
        await conn.close()


def counts(dsn: str) -> dict[str, int]:
    return asyncio.run(_counts(dsn))


def copy_example(tmp_path: Path) -> Path:
    target = tmp_path / "records"
    shutil.copytree(EXAMPLE, target)
    return target


def test_the_example_imports_and_a_second_run_changes_nothing(
    empty_dsn: str,  # noqa: F811
    capsys: pytest.CaptureFixture[str],
) -> None:
    assert main(["import", str(EXAMPLE)]) == 0
    first = counts(empty_dsn)
    assert first == EXAMPLE_ROWS
    capsys.readouterr()

    assert main(["import", str(EXAMPLE)]) == 0

    assert counts(empty_dsn) == first
    assert "0 added" in capsys.readouterr().out
    assert main(["backtest-parts"]) == 0
    assert "Replayed 1 first visits" in capsys.readouterr().out


def test_bad_rows_are_reported_by_file_and_line_and_the_rest_is_imported(
    empty_dsn: str,  # noqa: F811
    tmp_path: Path,
    capsys: pytest.CaptureFixture[str],
) -> None:
    records = copy_example(tmp_path)
    with (records / "sites.csv").open("a") as f:
        f.write("S-502,9 Elm St,Minneapolis,55410,US,north,-93.3,\n")
    with (records / "assets.csv").open("a") as f:
        f.write("A-9002,S-502,garage_door,Amarr,Heritage 3000,,,,\n")
        f.write("A-9003,S-501,time_machine,,,,,,\n")
    with (records / "jobs.csv").open("a") as f:
        f.write("W-3002,A-9001,broken_spring,,2020-01-01T08:00:00,2020-01-01T09:00:00,completed,,,\n")

    assert main(["import", str(records)]) == 1

    err = capsys.readouterr().err
    assert "rejected sites.csv:3: latitude: not a number: 'north'" in err
    assert "rejected assets.csv:3: asset A-9002: its site S-502 was rejected (sites.csv:3)" in err
    assert "rejected assets.csv:4: kind: no asset kind time_machine" in err
    assert "rejected jobs.csv:3: started_at: give the offset" in err
    assert counts(empty_dsn)["sites"] == 1
    assert counts(empty_dsn)["assets"] == 1
    assert counts(empty_dsn)["jobs"] == 1


def test_a_malformed_file_imports_nothing_at_all(
    empty_dsn: str,  # noqa: F811
    tmp_path: Path,
    capsys: pytest.CaptureFixture[str],
) -> None:
    records = copy_example(tmp_path)
    (records / "assets.csv").write_text("external_id,kind\nA-1,garage_door\n")

    assert main(["import", str(records)]) == 2

    assert "assets.csv: missing column(s) site_external_id; nothing was imported" in capsys.readouterr().err
    assert set(counts(empty_dsn).values()) == {0}


def test_an_imported_history_feeds_the_next_intake(
    empty_dsn: str,  # noqa: F811
    capsys: pytest.CaptureFixture[str],
) -> None:
    assert main(["import", str(EXAMPLE)]) == 0

    async def predicted() -> list[tuple[str, int, list[str]]]:
        from assets import asset_queries
        from dispatch.intake.calls import predicted_parts

        conn = await connect(empty_dsn)
        try:
            asset_id = await conn.fetchval("SELECT id FROM assets WHERE external_id = 'A-9001'")
            asset = await asset_queries.get_asset(conn, asset_id)
            parts = await predicted_parts(conn, asset=asset, problem_code="broken_spring", choice="")
            return [(p.part.sku, p.quantity, list(p.reasons)) for p in parts]
        finally:
            await conn.close()

    top = asyncio.run(predicted())[0]
    assert top[:2] == ("SPR-218", 2)
    assert top[2][0] == "replaced 2 × SPR-218 on this asset in 2019-11"
