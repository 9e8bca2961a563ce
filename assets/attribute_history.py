"""An asset's record keeps its history, and learns from the parts technicians fit.

Every change to an asset's attributes is written to `asset_attribute_changes` with where it came
from (a visit, a staff edit, an import, an intake). An asset that never changed has no rows: its
attributes count from when it was installed (or, not knowing when, written). Its first change
writes them first, as they stood, from that moment, so a record's history is whole from then on
and "what did we know before this visit?" has one answer.

A fitted part can say what the asset is (2 × SPR-218: a two-spring door with .218 wire): see
`attribute_queries.implied_attributes` for which data says so. The visit then sets those values
on the record, with the visit as their source; a value the record held otherwise is replaced,
and the disagreement kept for someone to look at.
"""

from __future__ import annotations

from collections.abc import Mapping
from datetime import UTC, datetime
from uuid import UUID

import msgspec

from assets import asset_queries, attribute_queries, installed
from assets.attribute_queries import Implied
from assets.errors import AssetNotFoundError
from assets.models import (
    Asset,
    AssetEvent,
    AssetEventId,
    AssetEventKind,
    AssetId,
    AssetRecord,
    AttributeHistory,
    AttributeSource,
    AttributeValue,
)
from infra.db import Connection


def _same(a: AttributeValue | None, b: AttributeValue | None) -> bool:
    # 1 and True are equal in Python but not in a fitment condition (jsonb), so types count.
    return type(a) is type(b) and a == b


def changed_keys(
    before: Mapping[str, AttributeValue], after: Mapping[str, AttributeValue]
) -> list[tuple[str, AttributeValue | None]]:
    """The keys whose value differs, with the new value (None: removed), in key order."""
    return [
        (k, after.get(k))
        for k in sorted(before.keys() | after.keys())
        if not _same(before.get(k), after.get(k))
    ]


async def _start_history(conn: Connection, asset: Asset, first_change_at: datetime) -> None:
    """Before an asset's first change, write its attributes as they have stood since it was
    installed or written (or since the change, if that is earlier: a visit reported with a time
    before the record was typed in), so its history starts complete."""
    if await attribute_queries.has_history(conn, asset.id):
        return
    await attribute_queries.insert_changes(
        conn,
        asset.id,
        sorted(asset.attributes.items()),
        valid_from=min(asset.installed_at or asset.created_at, first_change_at),
        source=AttributeSource.IMPORT if asset.external_id else AttributeSource.MANUAL,
    )


async def record_change(
    conn: Connection,
    before: Asset,
    after: Mapping[str, AttributeValue],
    *,
    at: datetime,
    source: AttributeSource,
    job_id: UUID | None = None,
    asset_event_id: AssetEventId | None = None,
) -> None:
    """Write what changed between `before` (the asset as it stood) and `after` into its history."""
    changes = changed_keys(before.attributes, after)
    if not changes:
        return
    await _start_history(conn, before, at)
    await attribute_queries.insert_changes(
        conn, before.id, changes, valid_from=at, source=source, job_id=job_id, asset_event_id=asset_event_id
    )


async def update_asset(
    conn: Connection, asset_id: AssetId, changes: dict[str, object], *, now: datetime | None = None
) -> Asset:
    """A staff edit of an asset; a change of attributes enters its history as manual."""
    before = await asset_queries.lock_asset(conn, asset_id)
    if before is None:
        raise AssetNotFoundError
    updated = await installed.update_asset(conn, asset_id, changes)
    await record_change(
        conn, before, updated.attributes, at=now or datetime.now(UTC), source=AttributeSource.MANUAL
    )
    return updated


def _agreed(implied: list[Implied]) -> dict[str, Implied]:
    """One value per key; a key two fitted parts give different values is left alone."""
    by_key: dict[str, list[Implied]] = {}
    for item in implied:
        by_key.setdefault(item.key, []).append(item)
    return {k: items[0] for k, items in by_key.items() if all(_same(i.value, items[0].value) for i in items)}


async def learn_from_visit(
    conn: Connection,
    asset_id: AssetId,
    fitted: Mapping[UUID, int],
    *,
    at: datetime,
    asset_event_id: AssetEventId,
    job_id: UUID | None,
) -> None:
    """Set on the record what the parts fitted at `at` say about the asset (part -> quantity)."""
    if not fitted:
        return
    implied = _agreed(await attribute_queries.implied_attributes(conn, asset_id, fitted))
    if not implied:
        return
    asset = await asset_queries.lock_asset(conn, asset_id)
    if asset is None:
        raise AssetNotFoundError
    # Judge against the record as it stood at the visit: the record now, unless a report that
    # arrives late (an offline phone) finds keys changed since; then the history says.
    later = await attribute_queries.keys_changed_after(conn, asset_id, at)
    if later:
        [then] = await attribute_queries.attributes_before(conn, [(asset_id, at)])
    else:
        then = asset.attributes
    learned: list[tuple[str, AttributeValue | None]] = []
    for key, item in sorted(implied.items()):
        recorded = then.get(key)
        if _same(recorded, item.value):
            continue
        learned.append((key, item.value))
        if recorded is not None:
            await attribute_queries.insert_disagreement(
                conn, asset_id, item, recorded, job_id=job_id, asset_event_id=asset_event_id, occurred_at=at
            )
    if not learned:
        return
    await _start_history(conn, asset, at)
    await attribute_queries.insert_changes(
        conn,
        asset_id,
        learned,
        valid_from=at,
        source=AttributeSource.VISIT,
        job_id=job_id,
        asset_event_id=asset_event_id,
    )
    current = {k: v for k, v in learned if k not in later and v is not None}
    if current:
        await attribute_queries.merge_attributes(conn, asset_id, current)


async def asset_record(conn: Connection, asset_id: AssetId) -> AssetRecord:
    asset = await asset_queries.get_asset(conn, asset_id)
    if asset is None:
        raise AssetNotFoundError
    return AssetRecord(
        **msgspec.structs.asdict(asset),
        disagreements=await attribute_queries.list_disagreements(conn, asset_id),
    )


async def learn_from_event(conn: Connection, event: AssetEvent) -> None:
    """An entry of the service history written by hand: parts fitted (not taken away) teach the
    record as a job's would."""
    if event.kind is AssetEventKind.REMOVAL:
        return
    fitted: dict[UUID, int] = {p.part_id: p.quantity for p in event.parts}
    await learn_from_visit(
        conn, event.asset_id, fitted, at=event.occurred_at, asset_event_id=event.id, job_id=event.job_id
    )


async def attribute_history(conn: Connection, asset_id: AssetId) -> AttributeHistory:
    asset = await asset_queries.get_asset(conn, asset_id)
    if asset is None:
        raise AssetNotFoundError
    return AttributeHistory(
        asset_id=asset_id,
        attributes=asset.attributes,
        changes=await attribute_queries.list_changes(conn, asset_id),
        disagreements=await attribute_queries.list_disagreements(conn, asset_id),
    )
