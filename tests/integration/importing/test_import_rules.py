"""`truckroll import DIR`: the rules checked set-wise against the database and the other rows."""

from __future__ import annotations

import asyncio
from pathlib import Path

import pytest

from api.cli import main
from infra.db import connect
from tests.integration.api.test_cli import empty_dsn  # noqa: F401  # the fixture, shared
from tests.integration.importing.test_import import copy_example

HVAC = "A-9004,S-501,hvac_unit,Carrier,24ACC636,,2018-05-01T09:00:00-05:00,,type=air_conditioner\n"


def job(
    external_id: str,
    *,
    asset: str = "A-9001",
    problem: str = "broken_spring",
    choice: str = "",
    day: int = 4,
    follow_up_of: str = "",
) -> str:
    return (
        f"{external_id},{asset},{problem},{choice},2020-03-{day:02d}T08:00:00-06:00,"
        f"2020-03-{day:02d}T09:00:00-06:00,completed,{follow_up_of},,\n"
    )


def import_example_with(tmp_path: Path, capsys: pytest.CaptureFixture[str], **lines: str) -> tuple[int, str]:
    """Import the example with lines added at the end of some files (`jobs="..."`); the exit
    code and what was said on stderr."""
    records = copy_example(tmp_path)
    for name, text in lines.items():
        with (records / f"{name}.csv").open("a", encoding="utf-8") as f:
            f.write(text)
    code = main(["import", str(records)])
    return code, capsys.readouterr().err


async def _fetch(dsn: str, query: str) -> list[tuple[object, ...]]:
    conn = await connect(dsn)
    try:
        return [tuple(r) for r in await conn.fetch(query)]
    finally:
        await conn.close()


def fetch(dsn: str, query: str) -> list[tuple[object, ...]]:
    return asyncio.run(_fetch(dsn, query))


def test_an_external_id_given_twice_in_a_file_rejects_the_later_line_naming_the_first(
    empty_dsn: str,  # noqa: F811
    tmp_path: Path,
    capsys: pytest.CaptureFixture[str],
) -> None:
    code, err = import_example_with(
        tmp_path, capsys, jobs=job("W-3", day=4) + job("W-4", day=5) + job("W-3", day=6)
    )

    assert code == 1

    # The header is line 1 and W-3001 line 2: W-3 is on line 3, its second copy on line 5.
    assert "rejected jobs.csv:5: external_id W-3: already on line 3 of this file" in err
    started = fetch(empty_dsn, "SELECT started_at::date::text FROM jobs WHERE external_id = 'W-3'")
    assert started == [("2020-03-04",)]


def test_a_follow_up_may_come_before_its_first_visit_and_a_second_follow_up_points_at_the_first_visit(
    empty_dsn: str,  # noqa: F811
    tmp_path: Path,
    capsys: pytest.CaptureFixture[str],
) -> None:
    code, _ = import_example_with(
        tmp_path,
        capsys,
        jobs=job("W-7", day=9, follow_up_of="W-6")
        + job("W-6", day=8, follow_up_of="W-5")
        + job("W-5", day=7),
    )

    assert code == 0

    parents = fetch(
        empty_dsn,
        "SELECT j.external_id, p.external_id FROM jobs j LEFT JOIN jobs p ON p.id = j.parent_job_id"
        " WHERE j.external_id IN ('W-5', 'W-6', 'W-7') ORDER BY 1",
    )
    assert parents == [("W-5", None), ("W-6", "W-5"), ("W-7", "W-5")]


def test_follow_ups_of_each_other_are_rejected_as_a_loop(
    empty_dsn: str,  # noqa: F811
    tmp_path: Path,
    capsys: pytest.CaptureFixture[str],
) -> None:
    code, err = import_example_with(
        tmp_path, capsys, jobs=job("W-5", follow_up_of="W-6") + job("W-6", follow_up_of="W-5")
    )

    assert code == 1

    assert "rejected jobs.csv:3: follow_up_of: W-5 → W-6 → W-5 is a loop" in err
    assert "rejected jobs.csv:4: follow_up_of: W-6 → W-5 → W-6 is a loop" in err


def test_a_follow_up_of_a_rejected_job_says_which_line_rejected_it(
    empty_dsn: str,  # noqa: F811
    tmp_path: Path,
    capsys: pytest.CaptureFixture[str],
) -> None:
    code, err = import_example_with(
        tmp_path, capsys, jobs=job("W-6", day=8, follow_up_of="W-5") + job("W-5", problem="door_fell_off")
    )

    assert code == 1

    assert "rejected jobs.csv:3: job W-6: follows up job W-5, which was rejected (jobs.csv:4)" in err


def test_a_follow_up_of_an_id_rejected_on_one_line_and_accepted_on_another_follows_the_accepted_one(
    empty_dsn: str,  # noqa: F811
    tmp_path: Path,
    capsys: pytest.CaptureFixture[str],
) -> None:
    broken = job("W-5").replace("-06:00", "", 1)
    code, err = import_example_with(
        tmp_path, capsys, jobs=broken + job("W-6", day=8, follow_up_of="W-5") + job("W-5")
    )

    assert code == 1
    assert err.count("rejected ") == 1
    assert "rejected jobs.csv:3: started_at: give the offset" in err
    parents = fetch(empty_dsn, "SELECT p.external_id FROM jobs j JOIN jobs p ON p.id = j.parent_job_id")
    assert parents == [("W-5",)]


def test_a_problem_outside_the_catalogue_is_rejected_with_the_codes_allowed(
    empty_dsn: str,  # noqa: F811
    tmp_path: Path,
    capsys: pytest.CaptureFixture[str],
) -> None:
    code, err = import_example_with(tmp_path, capsys, jobs=job("W-5", problem="door_fell_off"))

    assert code == 1

    assert (
        "rejected jobs.csv:3: problem_code: no problem door_fell_off;"
        " one of annual_maintenance, broken_spring," in err
    )


def test_a_problem_of_another_kind_of_asset_is_rejected_with_the_problems_of_this_kind(
    empty_dsn: str,  # noqa: F811
    tmp_path: Path,
    capsys: pytest.CaptureFixture[str],
) -> None:
    code, err = import_example_with(
        tmp_path, capsys, assets=HVAC, jobs=job("W-5", asset="A-9004", problem="broken_spring")
    )

    assert code == 1

    assert (
        "rejected jobs.csv:3: problem_code: broken_spring is a garage_door problem, but asset A-9004 is a"
        " hvac_unit; for a hvac_unit: annual_maintenance, no_cooling, no_heat"
    ) in err


def test_a_choice_the_problem_does_not_offer_is_rejected_with_the_choices_it_does(
    empty_dsn: str,  # noqa: F811
    tmp_path: Path,
    capsys: pytest.CaptureFixture[str],
) -> None:
    code, err = import_example_with(
        tmp_path,
        capsys,
        assets=HVAC,
        jobs=job("W-5", asset="A-9004", problem="annual_maintenance", choice="replace"),
    )

    assert code == 1

    assert (
        "rejected jobs.csv:3: choice: annual_maintenance does not offer replace;"
        " it offers no choice: leave choice empty"
    ) in err
    assert fetch(empty_dsn, "SELECT count(*) FROM jobs") == [(1,)]


def test_a_part_family_no_problem_names_is_rejected_with_the_families_named(
    empty_dsn: str,  # noqa: F811
    tmp_path: Path,
    capsys: pytest.CaptureFixture[str],
) -> None:
    code, err = import_example_with(tmp_path, capsys, parts="HNG-3,Hinge #3,700,1,hinge\n")

    assert code == 1

    assert "rejected parts.csv:5: family: no problem names hinge; one of air_filter, capacitor," in err


def test_a_nul_byte_in_a_value_rejects_its_row_without_a_traceback(
    empty_dsn: str,  # noqa: F811
    tmp_path: Path,
    capsys: pytest.CaptureFixture[str],
) -> None:
    code, err = import_example_with(tmp_path, capsys, customers="C-1003,Cy\x00rus,,\n")

    assert code == 1

    assert "rejected customers.csv:4: name: contains a NUL byte" in err
    assert "Traceback" not in err
    assert fetch(empty_dsn, "SELECT count(*) FROM customers") == [(2,)]


def test_a_row_of_a_rejected_parent_says_where_the_parent_was_rejected(
    empty_dsn: str,  # noqa: F811
    tmp_path: Path,
    capsys: pytest.CaptureFixture[str],
) -> None:
    code, err = import_example_with(
        tmp_path, capsys, assets="A-9,S-501,time_machine,,,,,,\n", jobs=job("W-5", asset="A-9")
    )

    assert code == 1

    assert "rejected jobs.csv:3: job W-5: its asset A-9 was rejected (assets.csv:3)" in err


def test_an_occupancy_overlapping_another_in_the_file_names_its_line(
    empty_dsn: str,  # noqa: F811
    tmp_path: Path,
    capsys: pytest.CaptureFixture[str],
) -> None:
    code, err = import_example_with(
        tmp_path, capsys, occupancies="S-501,C-1001,2021-01-01T00:00:00-06:00,2021-06-01T00:00:00-05:00\n"
    )

    assert code == 1

    # Lines 2 and 3 are Ada until 2022-05 and Ben since; line 4 starts inside Ada's time.
    assert "rejected occupancies.csv:4: started_at: overlaps the occupancy on line 2 of this file" in err


def test_a_removal_retires_its_asset_and_a_second_run_leaves_it_retired(
    empty_dsn: str,  # noqa: F811
    tmp_path: Path,
    capsys: pytest.CaptureFixture[str],
) -> None:
    removal = "E-2,A-9001,removal,2023-02-01T10:00:00-06:00,,Replaced by a new door,\n"
    assert import_example_with(tmp_path / "first", capsys, asset_events=removal)[0] == 0
    assert import_example_with(tmp_path / "again", capsys, asset_events=removal)[0] == 0

    removed = fetch(
        empty_dsn, "SELECT removed_at = '2023-02-01T10:00:00-06:00' FROM assets WHERE external_id = 'A-9001'"
    )
    assert removed == [(True,)]


def test_a_malformed_last_file_takes_back_the_files_written_before_it(
    empty_dsn: str,  # noqa: F811
    tmp_path: Path,
    capsys: pytest.CaptureFixture[str],
) -> None:
    # Files are written while the next is read: the last one's error must still leave nothing.
    code, err = import_example_with(tmp_path, capsys, jobs='W-5,A-9001,"broken_spring\n')

    assert code == 2
    assert "jobs.csv:3: not valid CSV" in err
    assert fetch(empty_dsn, "SELECT (SELECT count(*) FROM parts) + (SELECT count(*) FROM assets)") == [(0,)]
