from __future__ import annotations

import hashlib
from datetime import UTC, datetime, timedelta

from dispatch.tracking.links import AFTER_WINDOW, TrackingLink, link_expiry, token_hash

NOW = datetime(2026, 11, 24, 15, 0, tzinfo=UTC)


def test_the_stored_hash_is_the_sha256_of_the_token() -> None:
    assert token_hash("abc") == hashlib.sha256(b"abc").digest()
    assert len(token_hash("abc")) == 32


def test_a_link_lasts_its_ttl_from_now() -> None:
    window_end = NOW + timedelta(hours=3)
    assert link_expiry(window_end, NOW, timedelta(days=7)) == NOW + timedelta(days=7)


def test_a_link_never_expires_before_a_day_after_the_window() -> None:
    window_end = NOW + timedelta(days=20)
    assert link_expiry(window_end, NOW, timedelta(days=7)) == window_end + AFTER_WINDOW


def test_the_url_path_carries_the_token() -> None:
    assert TrackingLink(token="t0k", expires_at=NOW).url_path == "/t/t0k"
