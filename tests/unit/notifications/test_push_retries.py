"""When a failed push is tried again: the push service's Retry-After, read strictly and held to
our own limits (a push service is whoever the subscriber chose)."""

from __future__ import annotations

from datetime import UTC, datetime
from pathlib import Path

import pytest

from infra.settings import SettingsError, load_settings
from notifications.webpush import retry_after_s
from notifications.worker import WorkerSettings, next_step

NOW = datetime(2026, 12, 1, 8, 0, tzinfo=UTC)


@pytest.mark.parametrize(
    ("header", "seconds"),
    [
        ("120", 120.0),
        (" 7 ", 7.0),
        ("Tue, 01 Dec 2026 08:02:00 GMT", 120.0),
        ("Tue, 01 Dec 2026 07:00:00 GMT", 0.0),  # already past: now
        ("9" * 40, 1e12),  # digits beyond any year of seconds: "very long"
        (
            "Fri, 31 Dec 9999 23:59:59 GMT",
            (datetime(9999, 12, 31, 23, 59, 59, tzinfo=UTC) - NOW).total_seconds(),
        ),
    ],
)
def test_retry_after_is_whole_seconds_or_an_http_date(header: str, seconds: float) -> None:
    assert retry_after_s(header, NOW) == seconds


@pytest.mark.parametrize("header", [None, "", "1e12", "inf", "nan", "-1", "1.5", "²", "soon", "9" * 5000])
def test_anything_else_is_no_retry_after(header: str | None) -> None:
    expected = 1e12 if header == "9" * 5000 else None  # digits, however many
    assert retry_after_s(header, NOW) == expected


def test_a_429_waits_as_long_as_asked_but_never_past_the_limit_nor_before_our_own_backoff() -> None:
    settings = WorkerSettings(base_backoff_s=2, max_delay_s=3600)
    assert next_step(1, 429, 600.0, settings) == ("pending", 600.0)
    assert next_step(1, 429, 1e12, settings) == ("pending", 3600.0)
    status, wait = next_step(1, 429, 0.0, settings)
    assert status == "pending"
    assert wait is not None
    assert 1.0 <= wait <= 2.0  # the first backoff: up to base, at least half of it


def test_backoff_is_held_to_the_limit_however_many_attempts_were_made() -> None:
    settings = WorkerSettings(max_attempts=10**6, max_delay_s=3600)
    status, wait = next_step(100_000, None, None, settings)
    assert status == "pending"
    assert wait is not None
    assert 1800 <= wait <= 3600


def test_success_gone_and_the_last_attempt_wait_for_nothing() -> None:
    settings = WorkerSettings(max_attempts=8)
    assert next_step(1, 201, None, settings) == ("sent", None)
    assert next_step(1, 410, None, settings) == ("gone", None)
    assert next_step(8, 503, 60.0, settings) == ("failed", None)
    assert next_step(1, 400, None, settings) == ("failed", None)


@pytest.mark.parametrize("value", ["inf", "nan", "1e12", "-5"])
def test_a_retry_limit_no_clock_can_hold_is_refused(tmp_path: Path, value: str) -> None:
    with pytest.raises(SettingsError, match="TRUCKROLL_PUSH_MAX_DELAY_S"):
        load_settings({"TRUCKROLL_DATA_DIR": str(tmp_path), "TRUCKROLL_PUSH_MAX_DELAY_S": value})


def test_the_push_limits_have_defaults_and_can_be_set(tmp_path: Path) -> None:
    defaults = load_settings({"TRUCKROLL_DATA_DIR": str(tmp_path)})
    assert (defaults.push_response_max_bytes, defaults.push_max_delay_s) == (4096, 3600.0)
    chosen = load_settings(
        {
            "TRUCKROLL_DATA_DIR": str(tmp_path),
            "TRUCKROLL_PUSH_RESPONSE_MAX_BYTES": "1024",
            "TRUCKROLL_PUSH_MAX_DELAY_S": "600",
        }
    )
    assert (chosen.push_response_max_bytes, chosen.push_max_delay_s) == (1024, 600.0)
