"""The customer's side, reached only through their tracking link: the page, its data, its live
stream, and what they may do (cancel before dispatch, rate after the visit)."""

from __future__ import annotations

import functools
import html
import math
from collections.abc import AsyncIterator
from contextlib import aclosing
from datetime import timedelta
from importlib import resources
from typing import Annotated, Any
from uuid import UUID

import msgspec
from litestar import Controller, MediaType, Request, Response, get, post
from litestar.datastructures import State
from litestar.exceptions import TooManyRequestsException
from litestar.openapi.datastructures import ResponseSpec
from litestar.params import FromPath, HeaderParameter, JSONBody
from litestar.response import ServerSentEvent, ServerSentEventMessage

from api.deps import CLOSING, EVENT_STREAM, Db
from api.http_edge import page_policy, tile_origin, use_policy
from api.matching import match_settings, now_of
from api.static_files import STATIC
from assets.models import AwareDatetime
from dispatch.access.accounts import customer_of
from dispatch.jobs import records as jobs
from dispatch.jobs.lifecycle import REBOOKABLE
from dispatch.matching import slots
from dispatch.matching.offer_cache import RecentAnswers
from dispatch.matching.slots import SlotOffer
from dispatch.reporting import metrics
from dispatch.tracking import links as tracking, tracking_view
from dispatch.tracking.event_stream import parse_event_id, stream
from dispatch.tracking.links import LinkWatch, resolve_tracking_token, token_hash
from dispatch.tracking.tracking_view import LIVE_EVENTS, TrackingView
from infra.db import acquire
from infra.errors import ConflictError, NotFoundError
from infra.settings import Settings

PAGE = STATIC.render(resources.files("api").joinpath("static/track.html").read_text())
WORKER = resources.files("api").joinpath("static/sw.js").read_text()
GONE_PAGE = STATIC.render("""<!doctype html><html lang="en"><meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1"><title>Link expired</title>
<link rel="icon" href="/static/favicon.svg" type="image/svg+xml">
<link rel="stylesheet" href="{static:track.css}"><body><main>
<h1>This link has expired</h1><p>This tracking link is no longer valid, or it was never ours.
If you are expecting a visit, the message we sent you last has a fresh link, or call us.</p>
</main></body></html>""")


@functools.cache
def _page(tile_url: str, attribution: str) -> str:
    """The page with its map's settings, which its script reads from the map's element."""
    return PAGE.replace("{map:tiles}", html.escape(tile_url)).replace(
        "{map:attribution}", html.escape(attribution)
    )


class CancelIn(msgspec.Struct, frozen=True, kw_only=True, forbid_unknown_fields=True):
    reason: Annotated[str, msgspec.Meta(max_length=500)] = ""


class RescheduleIn(msgspec.Struct, frozen=True, kw_only=True, forbid_unknown_fields=True):
    window_start_at: AwareDatetime
    window_end_at: AwareDatetime


class RatingIn(msgspec.Struct, frozen=True, kw_only=True, forbid_unknown_fields=True):
    stars: Annotated[int, msgspec.Meta(ge=1, le=5)]
    comment: Annotated[str, msgspec.Meta(max_length=2000)] = ""


async def _job(conn: Any, token: str) -> UUID:
    job_id = await resolve_tracking_token(conn, token)
    if job_id is None:
        raise NotFoundError("this tracking link is unknown or has expired")
    return job_id


# A change is taken in a transaction of its own (the database answers 503 when down; past the
# limit, 429), so it counts whether the change then succeeds or not.
CHANGE_ERRORS = [429, 503]


async def _take_change(state: State, token: str, kind: str) -> UUID:
    """The link's job, with one of its changes taken: a reschedule moves a technician's day and
    queues messages, and one that cannot be made still costs a search of the fleet."""
    settings: Settings = state.settings
    now = now_of(state)
    async with acquire(state.pool) as conn, conn.transaction():
        job_id = await _job(conn, token)
        free_at = await tracking.take_change(
            conn,
            job_id,
            kind,
            now=now,
            limit=settings.tracking_changes_per_job,
            window=timedelta(seconds=settings.tracking_change_window_s),
        )
    if free_at is not None:
        wait_s = max(1, math.ceil((free_at - now).total_seconds()))
        raise TooManyRequestsException(
            f"this visit has been changed {settings.tracking_changes_per_job} times lately;"
            " please call us, or try again later",
            headers={"Retry-After": str(wait_s)},
        )
    return job_id


def _recent_offers(state: State) -> RecentAnswers[SlotOffer]:
    offers: RecentAnswers[SlotOffer] | None = getattr(state, "slot_offers", None)
    if offers is None:
        settings: Settings = state.settings
        offers = RecentAnswers(ttl_s=settings.slot_offer_ttl_s)
        state.slot_offers = offers
    return offers


class TrackPageController(Controller):
    path = "/t"
    tags = ["tracking"]
    include_in_schema = True

    @get("/sw.js", opt={"public": True}, media_type="application/javascript")
    async def service_worker(self) -> str:
        """The service worker that shows push messages as notifications."""
        return WORKER

    @get(
        "/{token:str}",
        opt={"public": True},
        media_type=MediaType.HTML,
        responses={
            404: ResponseSpec(
                data_container=str,
                media_type=MediaType.HTML,
                description="A page saying the link is unknown or expired.",
                generate_examples=False,
            )
        },
    )
    async def page(self, conn: Db, request: Request[Any, Any, Any], token: FromPath[str]) -> Response[str]:
        """The tracking page (a small page, no framework); an unknown or expired link gets a plain
        page saying so. Its map's tiles come from TRUCKROLL_MAP_TILE_URL, the one other origin
        its policy admits (images only)."""
        if await resolve_tracking_token(conn, token) is None:
            return Response(GONE_PAGE, status_code=404, media_type=MediaType.HTML)
        settings: Settings = request.app.state.settings
        use_policy(request, page_policy(image_origins=(tile_origin(settings.map_tile_url),)))
        return Response(
            _page(settings.map_tile_url, settings.map_attribution),
            media_type=MediaType.HTML,
            headers={"Cache-Control": "no-store"},
        )


class TrackController(Controller):
    path = "/track/{token:str}"
    tags = ["tracking"]

    @get(opt={"public": True})
    async def view(self, conn: Db, token: FromPath[str]) -> TrackingView:
        """The customer's job as their page shows it (service information only)."""
        return await tracking_view.view(conn, await _job(conn, token))

    @get("/events", opt={"public": True, "no_compression": True}, media_type=EVENT_STREAM)
    async def events(
        self,
        conn: Db,
        state: State,
        token: FromPath[str],
        last_event_id: Annotated[str | None, HeaderParameter(name="Last-Event-ID")] = None,
    ) -> ServerSentEvent:
        """Each change of the customer's job as it happens (its status, or that its ETA moved by a
        minute or more; not who or why), to read the page's data again. The stream ends within
        seconds of the link being revoked or expiring."""
        job_id = await _job(conn, token)
        if last_event_id is None:
            start = await tracking_view.last_event_id(conn, job_id)
        else:
            start = parse_event_id(last_event_id)
        watch: LinkWatch = state.link_watch

        async def messages() -> AsyncIterator[ServerSentEventMessage]:
            yield ServerSentEventMessage(data=None, comment="listening", retry=3000)
            async with watch.watching(token) as gone:
                events = stream(
                    state.pool,
                    state.event_hub,
                    after=start,
                    territory_id=None,
                    job_id=job_id,
                    ended=gone,
                    link_hash=token_hash(token),
                )
                async with aclosing(events):  # closed in this task, as the board's stream is
                    async for event in events:
                        if event.kind in LIVE_EVENTS:
                            status = event.to_status.value if event.to_status else None
                            yield ServerSentEventMessage(
                                data=msgspec.json.encode({"status": status}).decode(),
                                event="job_event",
                                id=event.id,
                            )
                if gone.is_set():
                    # The browser comes back after `retry` and gets 404, which stops it.
                    yield ServerSentEventMessage(data=None, comment="this tracking link has expired")
                    return
            yield CLOSING  # the process is shutting down

        return ServerSentEvent(messages())

    @post("/cancel", opt={"public": True, "more_errors": CHANGE_ERRORS}, status_code=200)
    async def cancel(self, state: State, token: FromPath[str], data: JSONBody[CancelIn]) -> TrackingView:
        """Cancel the visit while the policy allows: before the technician sets off. Counts
        as one of the job's changes (429 with Retry-After past TRUCKROLL_TRACKING_CHANGES_PER_JOB)."""
        job_id = await _take_change(state, token, "cancel")
        async with acquire(state.pool) as conn, conn.transaction():
            customer = customer_of(job_id)  # acting on this job alone, audited as the customer
            job = await jobs.get_job(conn, customer, job_id, for_update=True)
            if job.status not in REBOOKABLE:
                raise ConflictError(
                    "the technician is already on their way; please call us to change the visit",
                    field="status",
                )
            await jobs.cancel_job(
                conn,
                customer,
                job_id,
                reason=data.reason or "cancelled by the customer",
                expected_version=None,
            )
            return await tracking_view.view(conn, job_id)

    @get("/slots", opt={"public": True})
    async def slots(self, conn: Db, state: State, token: FromPath[str]) -> SlotOffer:
        """Windows the customer could move their visit to (until the technician sets off). The
        answer is kept for TRUCKROLL_SLOT_OFFER_TTL_S seconds per visit: each is a search of the
        fleet, and anyone with the link may ask in a loop."""
        job_id = await _job(conn, token)
        settings: Settings = state.settings

        async def offer() -> SlotOffer:
            async with acquire(state.pool) as own:
                return await slots.offer_for_job(
                    own,
                    job_id,
                    match_settings(settings),
                    routing=state.routing,
                    now=now_of(state),
                    days=settings.slot_days,
                    length_s=settings.slot_length_s,
                    limit=12,
                )

        return await _recent_offers(state).get(job_id, offer)

    @post("/reschedule", opt={"public": True, "more_errors": CHANGE_ERRORS}, status_code=200)
    async def reschedule(
        self, state: State, token: FromPath[str], data: JSONBody[RescheduleIn]
    ) -> TrackingView:
        """Move the visit to another window until the technician sets off (a dispatched visit comes
        off their phone); 409 (and nothing changed) when nobody can come then any more. Each try
        counts as one of the job's changes, made or not (429 with Retry-After past
        TRUCKROLL_TRACKING_CHANGES_PER_JOB within the window)."""
        job_id = await _take_change(state, token, "reschedule")
        async with acquire(state.pool) as conn, conn.transaction():
            await slots.reschedule(
                conn,
                customer_of(job_id),
                job_id,
                data.window_start_at,
                data.window_end_at,
                match_settings(state.settings),
                routing=state.routing,
                now=now_of(state),
            )
            view = await tracking_view.view(conn, job_id)
        state.fleet_cache.invalidate()
        return view

    @post("/rating", opt={"public": True}, status_code=200)
    async def rate(self, conn: Db, token: FromPath[str], data: JSONBody[RatingIn]) -> TrackingView:
        """Rate the visit once it is over."""
        job_id = await _job(conn, token)
        job = await jobs.get_job(conn, customer_of(job_id), job_id)
        await metrics.rate_visit(conn, job, data.stars, data.comment)
        return await tracking_view.view(conn, job_id)


ROUTES = [TrackPageController, TrackController]
