from __future__ import annotations

import asyncio
import io
from uuid import uuid4

import pytest

from api.cli import main
from infra.db import connect
from tests.conftest import Cluster
from tests.factories_matching import job, north, site, technician, territory


async def _fetchval(dsn: str, sql: str) -> object:
    conn = await connect(dsn)
    try:
        return await conn.fetchval(sql)
    finally:
        await conn.close()


@pytest.fixture
def empty_dsn(cluster: Cluster, monkeypatch: pytest.MonkeyPatch, tmp_path: object) -> str:
    name = f"c_{uuid4().hex[:16]}"
    asyncio.run(_fetchval(cluster.dsn("postgres"), f"CREATE DATABASE {name}"))
    dsn = cluster.dsn(name)
    monkeypatch.setenv("DATABASE_URL", dsn)
    monkeypatch.setenv("TRUCKROLL_DATA_DIR", str(tmp_path))
    return dsn


def test_migrate_brings_an_empty_database_up_to_date(
    empty_dsn: str, capsys: pytest.CaptureFixture[str]
) -> None:
    assert main(["migrate"]) == 0
    assert "Applied: 0001_create_domain.sql" in capsys.readouterr().out
    assert main(["migrate"]) == 0
    assert "up to date" in capsys.readouterr().out


def test_create_user_reads_the_password_from_stdin(empty_dsn: str, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr("sys.stdin", io.StringIO("a long enough password\n"))
    assert main(["create-user", "boss@example.com", "--role", "admin"]) == 0
    assert (
        asyncio.run(_fetchval(empty_dsn, "SELECT role FROM users WHERE email = 'boss@example.com'"))
        == "admin"
    )


def test_create_user_refuses_a_short_password_and_writes_nothing(
    empty_dsn: str, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    monkeypatch.setattr("sys.stdin", io.StringIO("short\n"))
    assert main(["create-user", "boss@example.com", "--role", "admin"]) == 1
    assert "at least 12 characters" in capsys.readouterr().err
    assert asyncio.run(_fetchval(empty_dsn, "SELECT count(*) FROM users")) == 0


def test_create_user_refuses_a_common_password_and_writes_nothing(
    empty_dsn: str, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    # Long enough, but among the first passwords any guesser tries.
    monkeypatch.setattr("sys.stdin", io.StringIO("1qaz2wsx3edc\n"))
    assert main(["create-user", "boss@example.com", "--role", "admin"]) == 1
    assert "common passwords" in capsys.readouterr().err
    assert asyncio.run(_fetchval(empty_dsn, "SELECT count(*) FROM users")) == 0


def test_a_technician_login_needs_a_technician_record(
    empty_dsn: str, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    monkeypatch.setattr("sys.stdin", io.StringIO("a long enough password\n"))
    assert main(["create-user", "tech@example.com", "--role", "technician"]) == 1
    assert "technician" in capsys.readouterr().err


def test_a_bad_setting_is_reported_not_raised(
    empty_dsn: str, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    monkeypatch.setenv("TRUCKROLL_JWT_SECRET", "short")
    assert main(["migrate"]) == 2
    assert "TRUCKROLL_JWT_SECRET" in capsys.readouterr().err


def test_report_prints_the_service_figures_for_a_period(
    empty_dsn: str, capsys: pytest.CaptureFixture[str]
) -> None:
    assert main(["migrate"]) == 0
    capsys.readouterr()
    assert main(["report", "--from", "2026-11-01", "--to", "2026-12-01"]) == 0
    out = capsys.readouterr().out
    assert out.startswith("Service from 2026-11-01T00:00:00+00:00 to 2026-12-01T00:00:00+00:00")
    assert "first time fix rate" in out
    assert "visits closed                      0" in out


def test_optimize_prints_the_kpis_and_applies_a_plan_that_checks(
    empty_dsn: str, capsys: pytest.CaptureFixture[str]
) -> None:
    assert main(["migrate"]) == 0

    async def arrange() -> tuple[str, str]:
        conn = await connect(empty_dsn)
        try:
            metro = await territory(conn)
            ann = await technician(conn, metro, "Ann Springs", north(0))
            await job(conn, await site(conn, metro, north(1)), (8, 12))
            return str(metro), str(ann)
        finally:
            await conn.close()

    metro, ann = asyncio.run(arrange())
    capsys.readouterr()
    args = ["optimize", "--territory", metro, "--date", "2026-12-01", "--time-limit", "0.2"]
    assert main(args) == 0
    out = capsys.readouterr().out
    assert out.startswith("1 jobs to plan and 1 technicians on shift")
    assert "1 jobs planned, 0 not" in out
    assert asyncio.run(_fetchval(empty_dsn, "SELECT count(*) FROM day_plans")) == 0  # only printed
    assert main([*args, "--apply"]) == 0
    assert "Applied plan" in capsys.readouterr().out
    assert str(asyncio.run(_fetchval(empty_dsn, "SELECT technician_id FROM jobs"))) == ann
