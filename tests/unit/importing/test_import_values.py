from __future__ import annotations

from pathlib import Path

import pytest

from dispatch.importing.import_values import attributes, moment, part_list
from dispatch.importing.runs import MalformedFileError, parse_directory


def test_attributes_keep_numbers_and_booleans_as_themselves() -> None:
    assert attributes("spring_size=218;springs=2;insulated=true;color=white", "attributes") == {
        "spring_size": 218,
        "springs": 2,
        "insulated": True,
        "color": "white",
    }
    with pytest.raises(ValueError, match="lower_snake_case"):
        attributes("Spring Size=218", "attributes")


def test_parts_used_are_sku_and_quantity() -> None:
    assert part_list("SPR-218:2; CAB-7:1", "parts") == [("SPR-218", 2), ("CAB-7", 1)]
    with pytest.raises(ValueError, match="SKU:quantity"):
        part_list("SPR-218", "parts")
    with pytest.raises(ValueError, match="between 1 and 100"):
        part_list("SPR-218:0", "parts")


def test_times_need_their_offset() -> None:
    assert moment("2019-11-04T09:45:00-06:00", "finished_at") is not None
    with pytest.raises(ValueError, match="offset"):
        moment("2019-11-04T09:45:00", "finished_at")


def test_an_unknown_column_or_broken_csv_stops_everything(tmp_path: Path) -> None:
    (tmp_path / "customers.csv").write_text("external_id,name,shoe_size\nC-1,Ada,38\n")
    with pytest.raises(MalformedFileError, match="unknown column"):
        parse_directory(tmp_path)
    (tmp_path / "customers.csv").write_text('external_id,name\nC-1,"Ada\n')
    with pytest.raises(MalformedFileError, match="not valid CSV"):
        parse_directory(tmp_path)
    (tmp_path / "customers.csv").write_text("external_id,name\nC-1,Ada,extra\n")
    with pytest.raises(MalformedFileError, match="more values than columns"):
        parse_directory(tmp_path)


def test_an_empty_directory_is_refused(tmp_path: Path) -> None:
    with pytest.raises(MalformedFileError, match="none of"):
        parse_directory(tmp_path)
