"""The dispatcher's board and its live stream of changes (Server-Sent Events)."""

from __future__ import annotations

from collections.abc import AsyncIterator
from contextlib import aclosing
from datetime import date
from typing import Annotated
from uuid import UUID
from zoneinfo import ZoneInfo

import msgspec
from litestar import Controller, get
from litestar.datastructures import State
from litestar.params import HeaderParameter, QueryParameter
from litestar.response import ServerSentEvent, ServerSentEventMessage

from api.auth import STAFF
from api.deps import CLOSING, EVENT_STREAM, Caller, Db
from api.matching import now_of
from dispatch.fleet import territories
from dispatch.tracking import board
from dispatch.tracking.board import Board
from dispatch.tracking.event_stream import MAX_EVENT_ID, parse_event_id, stream
from infra.db import Connection, acquire
from infra.errors import InvalidError

# The board's territory and day, as every view of the board takes them.
TerritoryParam = Annotated[UUID | None, QueryParameter(description="Default: the dispatcher's own.")]
DayParam = Annotated[date | None, QueryParameter(name="date", description="Default: today there.")]


class BoardController(Controller):
    path = "/board"
    tags = ["board"]
    guards = [STAFF]

    @get()
    async def get_board(
        self,
        conn: Db,
        principal: Caller,
        state: State,
        territory_id: TerritoryParam = None,
        day: DayParam = None,
    ) -> Board:
        """Technicians with their routes (planned and actual times), unassigned jobs, and the
        jobs at risk first, each with why."""
        territory, zone, on = await board_day(conn, state, principal.territory_id, territory_id, day)
        return await board.board(conn, territory, on, zone, now=now_of(state))

    @get("/stream", opt={"no_compression": True}, media_type=EVENT_STREAM)
    async def stream_board(
        self,
        principal: Caller,
        state: State,
        territory_id: TerritoryParam = None,
        last_event_id: Annotated[
            str | None, HeaderParameter(name="Last-Event-ID", description="Resume after this event.")
        ] = None,
        after: Annotated[
            int | None, QueryParameter(ge=0, le=MAX_EVENT_ID, description="Start after this event id.")
        ] = None,
    ) -> ServerSentEvent:
        """Every job event as it commits, from whichever API process: `id` is the event's id, so a
        reconnecting client sends Last-Event-ID and misses nothing."""
        territory = scoped_territory(principal.territory_id, territory_id)
        start = after if last_event_id is None else parse_event_id(last_event_id)
        if start is None:
            async with acquire(state.pool) as conn:
                start = await board.last_event_id(conn)

        async def events() -> AsyncIterator[ServerSentEventMessage]:
            # Something at once, so proxies and clients see the stream open before the first change.
            yield ServerSentEventMessage(data=None, comment="listening", retry=3000)
            # When the client goes away the server cancels this generator; nothing to poll for.
            # The inner stream is closed here, in this task, not left to the loop's finalizer
            # (which would close it from a task of its own).
            events = stream(state.pool, state.event_hub, after=start, territory_id=territory)
            async with aclosing(events):
                async for event in events:
                    yield ServerSentEventMessage(
                        data=msgspec.json.encode(event).decode(), event="job_event", id=event.id
                    )
            yield CLOSING  # the process is shutting down

        return ServerSentEvent(events())


async def board_day(
    conn: Connection, state: State, own: UUID | None, asked: UUID | None, day: date | None
) -> tuple[UUID | None, str, date]:
    """The territory a board shows (a bound dispatcher's own), its time zone, and the day asked
    (today there by default): what every view of the board is drawn for."""
    territory = scoped_territory(own, asked)
    zone = "UTC" if territory is None else (await territories.timezone_of(conn, territory) or "UTC")
    return territory, zone, day or now_of(state).astimezone(ZoneInfo(zone)).date()


def scoped_territory(own: UUID | None, asked: UUID | None) -> UUID | None:
    if own is not None and asked is not None and asked != own:
        raise InvalidError("territory_id: you dispatch another territory", field="territory_id")
    return own or asked


ROUTES = [BoardController]
