"""Technicians' positions: a batch of pings from a phone, perhaps a backlog from a day offline.

Each ping is judged in time order: one from the future (beyond a few minutes of clock skew) is
rejected; one that would mean driving faster than any van can from the last believable fix is
kept but flagged, and never becomes the latest position; a repeat of a stored one (same
technician and time) is ignored. Nothing in a batch makes the rest of it fail.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, replace
from datetime import UTC, date, datetime, timedelta
from uuid import UUID

import msgspec
from asyncpg import Record

from dispatch.errors import TechnicianNotFoundError
from dispatch.tracking import eta_updates, position_queries, risk_queries
from dispatch.tracking.position_queries import (  # other packages reach position_queries through here
    context as context,
)
from dispatch.travel.sources import TravelTimes, haversine_m
from infra.db import Connection
from notifications.outbox import enqueue

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
            metres = haversine_m((previous[1], previous[2]), (ping.latitude, ping.longitude))
            seconds = (ping.recorded_at - previous[0]).total_seconds()
            if metres > JUMP_FLOOR_M and metres > MAX_SPEED_MPS * max(seconds, 1.0):
                flagged = f"a jump of {metres / 1000:.1f} km in {seconds:.0f} s"
        verdicts.append(Verdict(index, ping, flagged, None))
        if flagged is None and (previous is None or previous[0] <= ping.recorded_at):
            previous = (ping.recorded_at, ping.latitude, ping.longitude)
    return verdicts


@dataclass(frozen=True)
class Batch:
    """One request's pings: a technician's batch as their phone sent it."""

    technician_id: UUID
    pings: Sequence[Ping]
    now: datetime


@dataclass
class _Technician:
    name: str | None
    last: tuple[datetime, float, float] | None  # latest believable fix, as judging goes on
    jobs: list[Record]
    newest: Ping | None = None  # newest believable fix of this flush, if newer than `last` was


@dataclass(frozen=True)
class _Judged:
    batch: Batch
    verdicts: list[Verdict]
    before_at: datetime | None  # the latest believable fix before this batch
    believed_at: datetime | None  # the newest believable fix of this batch


async def record_many(
    conn: Connection, batches: Sequence[Batch], *, routing: TravelTimes | None = None
) -> list[PingsResult]:
    """Store the batches of several requests together and refresh the ETAs ahead of each
    technician who moved: one read and one write however many requests and jobs there are
    when nobody needs telling (nearly every ping), a short transaction with the outbox when
    somebody does. Batches of one technician are judged in the order given."""
    now = max(b.now for b in batches)
    technicians = await _read(conn, batches, now)
    judged, stored = _judge_all(batches, technicians)
    updates: list[eta_updates.EtaUpdate] = []
    latest: list[tuple[object, ...]] = []
    for technician_id, tech in technicians.items():
        if (n := tech.newest) is None:
            continue
        latest.append(
            (technician_id, n.recorded_at, n.latitude, n.longitude, n.accuracy_m, n.speed_mps, n.heading_deg)
        )
        updates += await eta_updates.estimate(
            technician_id, tech.name, tech.jobs, (n.latitude, n.longitude), now=now, routing=routing
        )
    if any(u.messages for u in updates):
        async with conn.transaction():
            updates = [await _claim_nearby(conn, u) for u in updates]
            new = await position_queries.write(conn, stored, latest, _etas(updates))
            await enqueue(conn, *(m for u in updates for m in u.messages))
    else:
        new = await position_queries.write(conn, stored, latest, _etas(updates))
    return _answers(judged, new)


async def _read(conn: Connection, batches: Sequence[Batch], now: datetime) -> dict[UUID, _Technician]:
    technicians: dict[UUID, _Technician] = {}
    for row in await position_queries.context(conn, list({b.technician_id for b in batches}), now):
        tech = technicians.get(row["technician_id"])
        if tech is None:
            fix = row["fix_at"]
            last = None if fix is None else (fix, row["fix_latitude"], row["fix_longitude"])
            tech = technicians[row["technician_id"]] = _Technician(row["technician_name"], last, [])
        if row["id"] is not None:
            tech.jobs.append(row)
    return technicians


def _judge_all(
    batches: Sequence[Batch], technicians: dict[UUID, _Technician]
) -> tuple[list[_Judged], list[tuple[object, ...]]]:
    """Each batch judged against its technician's latest fix so far; the pings to store."""
    judged: list[_Judged] = []
    stored: list[tuple[object, ...]] = []
    for batch in batches:
        tech = technicians.get(batch.technician_id)
        if tech is None:  # a token naming a technician record that is gone
            raise TechnicianNotFoundError
        before = tech.last
        verdicts = judge(batch.pings, before, batch.now)
        for v in verdicts:
            if v.rejected is None:
                p = v.ping
                fix = (p.recorded_at, p.latitude, p.longitude, p.accuracy_m, p.speed_mps, p.heading_deg)
                stored.append((batch.technician_id, *fix, v.flagged))
        believed = [v.ping for v in verdicts if v.rejected is None and v.flagged is None]
        newest = max(believed, key=lambda p: p.recorded_at) if believed else None
        if newest is not None and (before is None or newest.recorded_at > before[0]):
            # Only a fix newer than the one we had says where the technician is now.
            tech.last = (newest.recorded_at, newest.latitude, newest.longitude)
            tech.newest = newest
        judged.append(
            _Judged(batch, verdicts, before[0] if before else None, newest.recorded_at if newest else None)
        )
    return judged, stored


def _answers(judged: Sequence[_Judged], new: set[tuple[UUID, datetime]]) -> list[PingsResult]:
    seen: set[tuple[UUID, datetime]] = set()
    results = []
    for j in judged:
        accepted = duplicates = 0
        for v in j.verdicts:
            if v.rejected is not None:
                continue
            key = (j.batch.technician_id, v.ping.recorded_at)
            # A time repeated within the flush is new only the first time.
            is_new = key in new and key not in seen
            seen.add(key)
            accepted += is_new and v.flagged is None
            duplicates += not is_new
        candidates = [t for t in (j.before_at, j.believed_at) if t is not None]
        in_order = sorted(j.verdicts, key=lambda v: v.index)
        results.append(
            PingsResult(
                accepted=accepted,
                duplicates=duplicates,
                flagged=[PingIssue(index=v.index, reason=v.flagged) for v in in_order if v.flagged],
                rejected=[PingIssue(index=v.index, reason=v.rejected) for v in in_order if v.rejected],
                latest_at=max(candidates).astimezone(UTC) if candidates else None,
            )
        )
    return results


def _etas(updates: Sequence[eta_updates.EtaUpdate]) -> list[tuple[UUID, datetime, bool]]:
    # In id order, as every multi-job update takes its row locks (see dispatch.jobs.job_queries.retime_jobs).
    return sorted(((u.job_id, u.eta_at, u.told) for u in updates), key=lambda e: e[0])


async def _claim_nearby(conn: Connection, update: eta_updates.EtaUpdate) -> eta_updates.EtaUpdate:
    """Tell "nearby" once per job: a flush racing this one may have told it already."""
    if not update.nearby or await risk_queries.raise_alert(conn, update.job_id, "nearby"):
        return update
    messages = tuple(m for m in update.messages if m.kind != "nearby")
    return replace(update, messages=messages, nearby=False, told=bool(messages))


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
