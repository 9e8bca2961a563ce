"""Technicians' positions: a batch of pings from a phone, perhaps a backlog from a day offline.

Each ping is judged in time order: one from the future (beyond a few minutes of clock skew) is
rejected; one that would mean driving faster than any van can from the last believable fix is
kept but flagged, and never becomes the latest position; a repeat of a stored one (same
technician and time) is ignored. Nothing in a batch makes the rest of it fail.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import UTC, date, datetime, timedelta

import msgspec

from dispatch import eta_updates, position_queries
from dispatch.accounts import Principal
from dispatch.travel import TravelTimes, distance_m
from infra.db import Connection

CLOCK_SKEW = timedelta(minutes=5)
MAX_SPEED_MPS = 70.0  # 250 km/h: no van does this between two fixes
JUMP_FLOOR_M = 1000.0  # two fixes closer than this are never a "jump", whatever the clock says


@dataclass(frozen=True)
class Ping:
    recorded_at: datetime
    latitude: float
    longitude: float
    accuracy_m: float | None = None
    speed_mps: float | None = None
    heading_deg: float | None = None


class PingIssue(msgspec.Struct, frozen=True, kw_only=True):
    index: int  # position in the batch as sent
    reason: str


class PingsResult(msgspec.Struct, frozen=True, kw_only=True):
    accepted: int  # stored and believed
    duplicates: int  # already stored, ignored
    flagged: list[PingIssue]  # stored, not believed
    rejected: list[PingIssue]  # not stored
    latest_at: datetime | None  # the technician's latest believable fix after this batch


@dataclass(frozen=True)
class Verdict:
    index: int
    ping: Ping
    flagged: str | None
    rejected: str | None


def judge(pings: Sequence[Ping], last: tuple[datetime, float, float] | None, now: datetime) -> list[Verdict]:
    """Verdicts in time order; `last` is the latest believable fix already stored."""
    verdicts: list[Verdict] = []
    previous = last
    for index, ping in sorted(enumerate(pings), key=lambda item: item[1].recorded_at):
        if ping.recorded_at > now + CLOCK_SKEW:
            verdicts.append(
                Verdict(index, ping, None, "recorded_at is in the future; check the phone's clock")
            )
            continue
        flagged = None
        if previous is not None and previous[0] <= ping.recorded_at:
            metres = distance_m((previous[1], previous[2]), (ping.latitude, ping.longitude))
            seconds = (ping.recorded_at - previous[0]).total_seconds()
            if metres > JUMP_FLOOR_M and metres > MAX_SPEED_MPS * max(seconds, 1.0):
                flagged = f"a jump of {metres / 1000:.1f} km in {seconds:.0f} s"
        verdicts.append(Verdict(index, ping, flagged, None))
        if flagged is None and (previous is None or previous[0] <= ping.recorded_at):
            previous = (ping.recorded_at, ping.latitude, ping.longitude)
    return verdicts


async def record(
    conn: Connection,
    principal: Principal,
    pings: Sequence[Ping],
    *,
    now: datetime,
    routing: TravelTimes | None = None,
) -> PingsResult:
    assert principal.technician_id is not None, "a technician token always names its technician"
    tech = principal.technician_id
    stored = await position_queries.latest(conn, tech)
    last = None if stored is None else (stored["recorded_at"], stored["latitude"], stored["longitude"])
    verdicts = judge(pings, last, now)
    keep = [v for v in verdicts if v.rejected is None]
    new = await position_queries.insert_pings(
        conn,
        [
            (
                tech,
                v.ping.recorded_at,
                v.ping.latitude,
                v.ping.longitude,
                v.ping.accuracy_m,
                v.ping.speed_mps,
                v.ping.heading_deg,
                v.flagged,
            )
            for v in keep
        ],
    )
    believed = [v for v in keep if v.flagged is None]
    if believed:
        newest = max(believed, key=lambda v: v.ping.recorded_at).ping
        await position_queries.move_latest(
            conn,
            tech,
            (
                newest.recorded_at,
                newest.latitude,
                newest.longitude,
                newest.accuracy_m,
                newest.speed_mps,
                newest.heading_deg,
            ),
        )
        if last is None or newest.recorded_at > last[0]:
            # Only a fix newer than the one we had says where the technician is now.
            await eta_updates.refresh(
                conn, tech, (newest.latitude, newest.longitude), now=now, routing=routing
            )
    newest_at = max((v.ping.recorded_at for v in believed), default=None)
    candidates = [t for t in (last[0] if last else None, newest_at) if t is not None]
    flagged = [PingIssue(index=v.index, reason=v.flagged) for v in keep if v.flagged is not None]
    return PingsResult(
        accepted=sum(1 for v, is_new in zip(keep, new, strict=True) if is_new and v.flagged is None),
        duplicates=sum(1 for is_new in new if not is_new),
        flagged=sorted(flagged, key=lambda i: i.index),
        rejected=sorted(
            (PingIssue(index=v.index, reason=v.rejected) for v in verdicts if v.rejected),
            key=lambda i: i.index,
        ),
        latest_at=max(candidates).astimezone(UTC) if candidates else None,
    )


async def maintain_partitions(
    conn: Connection, *, today: date, retention_days: int, ahead_days: int = 7
) -> tuple[int, int]:
    """Daily partitions from yesterday to a week ahead; older than the retention, gone."""
    return await position_queries.ensure_partitions(
        conn,
        today - timedelta(days=1),
        today + timedelta(days=ahead_days),
        keep_from=today - timedelta(days=retention_days),
    )
