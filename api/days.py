"""Publishing a day: releasing a technician's day, or a territory's, to the technicians' phones."""

from __future__ import annotations

from datetime import date
from typing import Annotated
from uuid import UUID

from litestar import Controller, post
from litestar.datastructures import State
from litestar.exceptions import ValidationException
from litestar.params import FromPath, Parameter

from api.auth import STAFF
from api.deps import Caller, Db
from api.matching import now_of
from dispatch.jobs import day_release
from dispatch.jobs.day_release import PublishedDay

# Taken as text and read here, so a date that is not one is a 400 naming it, not a 404.
DayText = Annotated[str, Parameter(description="The day, YYYY-MM-DD, in the territory's time zone.")]


def _day(text: str) -> date:
    try:
        return date.fromisoformat(text)
    except ValueError:
        message = f"{text!r} is not a date (YYYY-MM-DD)"
        raise ValidationException(
            f"date: {message}", extra=[{"key": "date", "message": message, "source": "path"}]
        ) from None


class DayController(Controller):
    tags = ["plans"]
    guards = [STAFF]

    @post("/territories/{territory_id:uuid}/days/{date:str}/publish", status_code=200)
    async def publish_territory_day(
        self, conn: Db, principal: Caller, state: State, territory_id: FromPath[UUID], date: DayText
    ) -> PublishedDay:
        """Release the territory's day (`date`, in its time zone) to its technicians' phones: its
        scheduled jobs are dispatched, each technician told once, and any job put on that day
        later is dispatched as it lands. Publishing again changes nothing."""
        return await day_release.publish_day(
            conn, principal, _day(date), territory_id=territory_id, now=now_of(state)
        )

    @post("/technicians/{technician_id:uuid}/days/{date:str}/publish", status_code=200)
    async def publish_technician_day(
        self, conn: Db, principal: Caller, state: State, technician_id: FromPath[UUID], date: DayText
    ) -> PublishedDay:
        """Release one technician's day to their phone, as for a territory's day."""
        return await day_release.publish_day(
            conn, principal, _day(date), technician_id=technician_id, now=now_of(state)
        )


ROUTES = [DayController]
