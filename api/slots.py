"""Booking: the arrival windows a customer can still be offered, and booking one."""

from __future__ import annotations

from typing import Annotated
from uuid import UUID

from litestar import Controller, get, post
from litestar.datastructures import State
from litestar.params import JSONBody, QueryParameter

from api.auth import STAFF
from api.deps import Caller, Db
from api.intake import IntakeIn, intake_request
from api.matching import match_settings, now_of
from assets.models import Code
from dispatch.access import scope
from dispatch.intake.calls import IntakeRequest
from dispatch.matching import slots
from dispatch.matching.slots import Booking, SlotOffer
from dispatch.travel.geocoding import geocoder_from_settings
from infra.settings import Settings


class SlotController(Controller):
    path = "/slots"
    tags = ["booking"]

    @get(guards=[STAFF])
    async def list_slots(
        self,
        conn: Db,
        principal: Caller,
        state: State,
        site_id: Annotated[UUID, QueryParameter(description="The site the job is at.")],
        problem_code: Annotated[Code, QueryParameter(description="The problem (see GET /problems).")],
        choice: Annotated[
            Code | None, QueryParameter(description="The customer's choice, e.g. replace.")
        ] = None,
        asset_id: Annotated[
            UUID | None, QueryParameter(description="Which asset, when the site has two of its kind.")
        ] = None,
        days: Annotated[
            int | None, QueryParameter(ge=1, le=31, description="Days ahead (default 7).")
        ] = None,
        length_s: Annotated[
            int | None,
            QueryParameter(ge=900, le=86_400, description="Window length in seconds (default 2 h)."),
        ] = None,
        limit: Annotated[int, QueryParameter(ge=1, le=200, description="How many windows.")] = 50,
    ) -> SlotOffer:
        """Arrival windows over the next days in which a qualified technician can still take the
        job without breaking another promise, best first (cheapest for the fleet). For a dispatcher
        bound to a territory: its sites and its technicians."""
        settings: Settings = state.settings
        request = IntakeRequest(
            problem_code=problem_code,
            problem_text=None,
            choice=choice,
            window_start_at=now_of(state),
            window_end_at=now_of(state),
            site_id=site_id,
            asset_id=asset_id,
            territory_id=scope.territory_of(principal),
        )
        return await slots.offer(
            conn,
            request,
            match_settings(settings),
            geocoder=None,
            routing=state.routing,
            now=now_of(state),
            days=days or settings.slot_days,
            length_s=length_s or settings.slot_length_s,
            limit=limit,
            technicians=await scope.technicians_in_scope(conn, principal),
        )

    @post("/book", guards=[STAFF], status_code=201)
    async def book_slot(self, conn: Db, principal: Caller, state: State, data: JSONBody[IntakeIn]) -> Booking:
        """Create the job for the chosen window (as intake does) and assign it to the best technician
        in one transaction; 409 if nobody can take that window any more (then nothing is created)."""
        settings: Settings = state.settings
        return await slots.book(
            conn,
            principal,
            intake_request(data, principal),
            match_settings(settings),
            geocoder=geocoder_from_settings(settings.geocoder, settings.geocoder_user_agent),
            routing=state.routing,
            now=now_of(state),
        )


ROUTES = [SlotController]
