"""What a live stream accepts from a client, and the settings that bound it."""

from __future__ import annotations

from pathlib import Path

import pytest

from dispatch.tracking.event_stream import MAX_EVENT_ID, parse_event_id
from infra.errors import DomainError, InvalidError
from infra.settings import SettingsError, load_settings


def test_an_event_id_is_read_within_bigint() -> None:
    assert parse_event_id(" 42 ") == 42
    assert parse_event_id(str(MAX_EVENT_ID)) == MAX_EVENT_ID


@pytest.mark.parametrize("sent", [str(MAX_EVENT_ID + 1), "²", "٣", "-1", "+1", "1_000", "1.0", ""])
def test_anything_else_is_malformed_and_names_the_header(sent: str) -> None:
    # Malformed (400), not merely unacceptable (422): the base error, no subclass.
    with pytest.raises(DomainError, match="Last-Event-ID") as raised:
        parse_event_id(sent)
    assert not isinstance(raised.value, InvalidError)
    assert raised.value.field == "Last-Event-ID"


def test_stream_limits_have_defaults_and_refuse_a_busy_loop(tmp_path: Path) -> None:
    settings = load_settings({"TRUCKROLL_DATA_DIR": str(tmp_path)})
    assert (settings.stream_gap_ranges_max, settings.track_link_check_s) == (1000, 2.0)
    with pytest.raises(SettingsError, match=r"TRUCKROLL_TRACK_LINK_CHECK_S must be at least 0\.1"):
        load_settings({"TRUCKROLL_DATA_DIR": str(tmp_path), "TRUCKROLL_TRACK_LINK_CHECK_S": "0"})
    with pytest.raises(SettingsError, match="TRUCKROLL_STREAM_GAP_RANGES_MAX must be at least 1"):
        load_settings({"TRUCKROLL_DATA_DIR": str(tmp_path), "TRUCKROLL_STREAM_GAP_RANGES_MAX": "0"})
