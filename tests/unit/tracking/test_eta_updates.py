"""Which ETAs a fresh fix rewrites, and whom it tells."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from typing import Any
from uuid import uuid4

from dispatch.tracking.eta_updates import estimate
from notifications.notices import EtaChanged

NOW = datetime(2026, 12, 1, 15, tzinfo=UTC)
SITE = (44.97, -93.26)
TECH = uuid4()


def job(eta_in_min: float, told_in_min: float | None, **changes: Any) -> dict[str, Any]:
    row = {
        "id": uuid4(),
        "status": "en_route",
        "duration_s": 3600,
        "window_start_at": NOW,
        "window_end_at": NOW + timedelta(hours=2),
        "eta_at": NOW + timedelta(minutes=eta_in_min),
        "eta_told_at": None if told_in_min is None else NOW + timedelta(minutes=told_in_min),
        "started_at": None,
        "latitude": SITE[0],
        "longitude": SITE[1],
        "territory_id": None,
        "timezone": "UTC",
        "circuity_factor": 1.0,
        "speed_kmh": 36.0,  # 10 m/s
        "stop_overhead_s": 0,
        "nearby_told": False,
    }
    return row | changes


def km_south(km: float) -> tuple[float, float]:
    return (SITE[0] - km / 111.2, SITE[1])


async def test_an_eta_that_moved_by_seconds_is_not_rewritten_and_one_that_moved_a_minute_is() -> None:
    # 12 km at 10 m/s: 20 minutes. Stored 20 minutes: nothing to write.
    assert await estimate(TECH, "Ann Springs", [job(20, 20)], km_south(12), now=NOW) == []
    # Stored 22 minutes: smoothed to 21, written, but 1 minute is not news for the customer.
    (update,) = await estimate(TECH, "Ann Springs", [job(22, 22)], km_south(12), now=NOW)
    assert abs((update.eta_at - NOW).total_seconds() - 21 * 60) < 5
    assert (update.told, update.messages) == (False, ())


async def test_news_and_nearness_are_told_once_each() -> None:
    # Told 30 minutes, now 20 (raw) -- a 10-minute change is news and is not smoothed away.
    (update,) = await estimate(TECH, "Ann Springs", [job(30, 30)], km_south(12), now=NOW)
    assert [m.kind for m in update.messages] == ["eta_changed"]
    assert update.messages[0].notice == EtaChanged(technician="Ann", eta_at=update.eta_at)
    # 3 km out: 5 minutes away, "nearby" once; a job already told so hears nothing more.
    (near,) = await estimate(TECH, "Ann Springs", [job(5.5, 5.5)], km_south(3), now=NOW)
    assert [m.kind for m in near.messages] == ["nearby"]
    assert near.nearby
    (again,) = await estimate(TECH, None, [job(10, 5.5, nearby_told=True)], km_south(3), now=NOW)
    assert again.messages == ()


async def test_a_technician_not_on_the_road_moves_no_eta() -> None:
    assert await estimate(TECH, "Ann", [job(20, None, status="dispatched")], km_south(12), now=NOW) == []


async def published_while_driving(raw_s: list[float], start_s: float) -> list[float]:
    """Pings every 30 s whose raw ETA is `raw_s[k]` seconds after NOW, through `estimate`, each
    update written as the caller writes it, from `start_s` published; the published ETA after
    each ping, in seconds after NOW."""
    row = job(start_s / 60, start_s / 60)
    published = []
    for k, raw in enumerate(raw_s):
        now = NOW + timedelta(seconds=30 * k)
        # 100 s of travel a km (10 m/s, straight): from here the raw ETA is `raw`.
        for update in await estimate(TECH, None, [row], km_south((raw - 30 * k) / 100), now=now):
            row = row | {"eta_at": update.eta_at}
        published.append((row["eta_at"] - NOW).total_seconds())
    return published


async def test_a_steady_drift_is_published_within_one_step() -> None:
    # The van loses 10 s a ping against the model, for 20 minutes.
    raw = [1200.0 + 10 * k for k in range(40)]
    published = await published_while_driving(raw, 1200)
    lag = [r - p for r, p in zip(raw, published, strict=True)]
    # Never more than a step (30 s) behind, give or take a second of the distance's rounding;
    # smoothing from a held-back value trailed by up to 60 s.
    assert max(lag) < 31, lag
    assert min(lag) > -1, lag


async def test_jitter_within_the_step_is_not_written_and_larger_jitter_is_damped() -> None:
    steady = await published_while_driving([1200.0 + (20 if k % 2 else -20) for k in range(20)], 1200)
    assert set(steady) == {1200.0}
    # +-50 s from ping to ping: the published ETA swings by well under half of that.
    jumpy = await published_while_driving([1200.0 + (50 if k % 2 else -50) for k in range(20)], 1200)
    assert max(abs(p - 1200) for p in jumpy) < 26
    assert max(abs(p - 1200) for p in jumpy[10:]) < 20
