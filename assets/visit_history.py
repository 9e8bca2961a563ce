"""The past the parts backtest replays: every finished first visit, the fitment rules' parts for
its asset as the record stood just before it, the families each problem usually needs, and the
parts a size either side of each other."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from uuid import UUID

from assets import attribute_queries, prediction_queries
from assets.parts_evidence import Visit
from assets.parts_prediction import Fitting, PartRef
from infra.db import Connection


@dataclass(frozen=True)
class VisitHistory:
    visits: list[Visit]
    fittings: dict[tuple[UUID, datetime], list[Fitting]]
    usual: dict[tuple[str, str], frozenset[str]]
    neighbours: dict[UUID, list[PartRef]]


async def visit_history(conn: Connection) -> VisitHistory:
    visits = await prediction_queries.visits(conn)
    # Each visit is judged with its asset's record as it stood just before it, so a value
    # typed in later cannot help an earlier prediction.
    moments = [(v.asset_id, v.judged_at) for v in visits]
    fittings = dict(zip(moments, await attribute_queries.fittings_before(conn, moments), strict=True))
    return VisitHistory(
        visits=visits,
        fittings=fittings,
        usual=await prediction_queries.usual_families(conn),
        neighbours=await prediction_queries.size_neighbours(conn, None),
    )
