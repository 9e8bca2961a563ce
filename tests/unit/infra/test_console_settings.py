from __future__ import annotations

from pathlib import Path

import pytest

from infra.settings import SettingsError, load_settings


def test_a_console_session_lasts_a_working_day_unless_told(tmp_path: Path) -> None:
    assert load_settings({"TRUCKROLL_DATA_DIR": str(tmp_path)}).console_session_ttl_s == 12 * 3600
    env = {"TRUCKROLL_DATA_DIR": str(tmp_path), "TRUCKROLL_CONSOLE_SESSION_TTL_S": "3600"}
    assert load_settings(env).console_session_ttl_s == 3600


def test_a_console_session_shorter_than_a_minute_is_refused(tmp_path: Path) -> None:
    with pytest.raises(SettingsError, match="TRUCKROLL_CONSOLE_SESSION_TTL_S must be at least 60"):
        load_settings({"TRUCKROLL_DATA_DIR": str(tmp_path), "TRUCKROLL_CONSOLE_SESSION_TTL_S": "5"})
