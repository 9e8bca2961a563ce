"""When an asset is next due for service, by hand."""

from __future__ import annotations

from datetime import UTC, date, datetime

from dispatch.reporting.metrics import due_date

TODAY = date(2026, 12, 1)


def test_a_furnace_is_due_a_year_after_its_last_service() -> None:
    due = due_date(
        "hvac_unit", {}, datetime(2020, 5, 1, tzinfo=UTC), datetime(2025, 11, 20, tzinfo=UTC), TODAY
    )
    assert due is not None
    assert due[0] == date(2026, 11, 20)
    assert "365 days after the last service (2025-11-20)" in due[1]


def test_an_old_asset_is_seen_a_quarter_sooner_and_a_model_interval_wins() -> None:
    old = due_date("hvac_unit", {}, datetime(2012, 5, 1, tzinfo=UTC), datetime(2026, 1, 1, tzinfo=UTC), TODAY)
    assert old is not None
    assert old[0] == date(2026, 10, 1)  # 365 x 0.75 = 273 days after 1 January
    model = due_date(
        "garage_door", {"maintenance_interval_days": 180}, None, datetime(2026, 7, 1, tzinfo=UTC), TODAY
    )
    assert model is not None
    assert model[0] == date(2026, 12, 28)
    assert "the model's interval" in model[1]


def test_no_history_is_due_now_and_a_windshield_is_never_due() -> None:
    assert due_date("water_heater", {}, None, None, TODAY) == (TODAY, "no service on record")
    assert due_date("vehicle_glass", {}, None, None, TODAY) is None
