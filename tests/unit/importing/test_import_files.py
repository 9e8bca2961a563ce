"""What one import file can tell about itself, before the database is asked."""

from __future__ import annotations

from pathlib import Path

import pytest

from dispatch.importing.runs import MalformedFileError, parse_directory


def test_a_semicolon_separated_file_is_named_as_such(tmp_path: Path) -> None:
    (tmp_path / "parts.csv").write_text("sku;name;unit_cost_cents\nSPR-218;Spring;4800\n")
    with pytest.raises(
        MalformedFileError,
        match=r"parts\.csv: missing column\(s\) sku, name: the file looks semicolon-separated; the layout is "
        r"comma-separated",
    ):
        parse_directory(tmp_path)


def test_a_tab_separated_file_is_named_as_such(tmp_path: Path) -> None:
    (tmp_path / "customers.csv").write_text("external_id\tname\nC-1\tAda\n")
    with pytest.raises(MalformedFileError, match="looks tab-separated"):
        parse_directory(tmp_path)


def test_a_key_given_twice_rejects_the_later_line_and_keeps_the_first(tmp_path: Path) -> None:
    (tmp_path / "customers.csv").write_text("external_id,name\nC-1,Ada\nC-2,Ben\nC-1,Ada Other\n")

    parsed = parse_directory(tmp_path)

    assert [str(r) for r in parsed.rejected] == [
        "customers.csv:4: external_id C-1: already on line 2 of this file"
    ]
    assert [row["name"] for _, row in parsed.rows["customers.csv"]] == ["Ada", "Ben"]


def test_an_exact_duplicate_line_is_reported_the_same_way(tmp_path: Path) -> None:
    (tmp_path / "parts.csv").write_text("sku,name\nSPR-218,Spring\nSPR-218,Spring\n")

    assert [str(r) for r in parse_directory(tmp_path).rejected] == [
        "parts.csv:3: sku SPR-218: already on line 2 of this file"
    ]


def test_a_nul_byte_rejects_the_row_and_names_the_column(tmp_path: Path) -> None:
    (tmp_path / "customers.csv").write_bytes(b"external_id,name\nC-1,A\x00da\nC-2,Ben\n")

    parsed = parse_directory(tmp_path)

    assert [str(r) for r in parsed.rejected] == [
        "customers.csv:2: name: contains a NUL byte (\\x00), which a text field cannot hold"
    ]
    assert len(parsed.rows["customers.csv"]) == 1


def test_line_numbers_count_the_lines_of_a_quoted_value_that_spans_two(tmp_path: Path) -> None:
    (tmp_path / "customers.csv").write_text('external_id,name\nC-1,"Ada\nLovelace"\nC-2,\n')

    assert [str(r) for r in parse_directory(tmp_path).rejected] == ["customers.csv:4: name: required"]


def test_a_follow_up_names_the_first_visit_at_the_root_of_its_chain(tmp_path: Path) -> None:
    header = "external_id,asset_external_id,problem_code,started_at,finished_at,follow_up_of\n"
    times = "2020-03-04T08:00:00-06:00,2020-03-04T09:00:00-06:00"
    (tmp_path / "jobs.csv").write_text(
        header
        + f"W-3,A-1,noisy_door,{times},W-2\nW-2,A-1,noisy_door,{times},W-1\nW-1,A-1,noisy_door,{times},\n"
    )

    roots = {row["external_id"]: row["root_of"] for _, row in parse_directory(tmp_path).rows["jobs.csv"]}

    assert roots == {"W-3": "W-1", "W-2": "W-1", "W-1": None}
