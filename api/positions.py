"""Technicians' positions: batches of pings from the app, backlog included."""

from __future__ import annotations

from typing import Annotated, Any

import msgspec
from litestar import Controller, Request, post
from litestar.datastructures import State
from litestar.params import JSONBody

from api.auth import TECHNICIAN
from api.matching import now_of
from api.strict_body import real_column
from assets.models import AwareDatetime, Latitude, Longitude
from dispatch.access.accounts import Principal
from dispatch.errors import TechnicianNotFoundError
from dispatch.tracking.position_intake import PositionIntake
from dispatch.tracking.positions import Batch, Ping, PingsResult


class PingIn(msgspec.Struct, frozen=True, kw_only=True, forbid_unknown_fields=True):
    recorded_at: AwareDatetime
    latitude: Latitude
    longitude: Longitude
    # Stored as `real`: bounded as the column will hold them (see real_column).
    accuracy_m: Annotated[float, real_column(ge=0, le=100_000)] | None = None
    speed_mps: Annotated[float, real_column(ge=0, le=150)] | None = None
    heading_deg: Annotated[float, real_column(ge=0, lt=360)] | None = None


class PingsIn(msgspec.Struct, frozen=True, kw_only=True, forbid_unknown_fields=True):
    pings: Annotated[list[PingIn], msgspec.Meta(min_length=1, max_length=1000)]


class PositionController(Controller):
    path = "/technicians/me/positions"
    tags = ["positions"]

    @post(guards=[TECHNICIAN], status_code=200)
    async def send_positions(
        self, request: Request[Principal, Any, State], data: JSONBody[PingsIn]
    ) -> PingsResult:
        """Up to 1,000 pings in any order. Repeats are ignored, pings from the future rejected,
        impossible jumps stored but flagged; the answer says which, by their index in the batch."""
        # The busiest route of all (every phone on the road, every few seconds) takes no
        # injected dependencies, which cost more than its own work; its pings are written
        # together with those of the requests arriving alongside (dispatch.tracking.position_intake).
        state = request.app.state
        principal = request.user
        if principal.technician_id is None:
            raise TechnicianNotFoundError
        intake: PositionIntake = state.position_intake
        pings = [
            Ping(p.recorded_at, p.latitude, p.longitude, p.accuracy_m, p.speed_mps, p.heading_deg)
            for p in data.pings
        ]
        return await intake.record(Batch(principal.technician_id, pings, now_of(state)))


ROUTES = [PositionController]
