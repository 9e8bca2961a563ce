"""The dispatcher console at /console: its page, and its sign-in, which opens a cookie session
(api.console_session) instead of handing a bearer token to the page, where any script could
read it. The page then calls the same JSON API as every other client."""

from __future__ import annotations

import functools
import html
from datetime import datetime
from importlib import resources
from typing import Any
from uuid import UUID

import msgspec
from litestar import Controller, MediaType, Request, Response, delete, get, post
from litestar.datastructures import Cookie, State
from litestar.exceptions import ClientException, NotAuthorizedException, PermissionDeniedException
from litestar.params import FromPath, JSONBody

from api.auth import STAFF, AuthRoutes, LoginRequest, sign_in_or_refuse
from api.board import DayParam, TerritoryParam, board_day
from api.console_session import COOKIE, HOST_COOKIE, cookie_name, session_cookie
from api.deps import Caller, Db
from api.http_edge import page_policy, tile_origin, use_policy
from api.matching import match_settings, now_of
from api.static_files import STATIC
from dispatch.access.accounts import Role
from dispatch.access.console_sessions import (
    NotConsoleUserError,
    SessionUser,
    close_session,
    csrf_token,
    open_session,
)
from dispatch.tracking import console_board
from dispatch.tracking.console_board import ConsoleBoard, ConsoleJob
from infra.db import acquire
from infra.errors import NotFoundError
from infra.settings import Settings
from notifications.notices import Candidate

PAGE = STATIC.render(resources.files("api").joinpath("static/console.html").read_text())


@functools.cache
def _page(tile_url: str, attribution: str) -> str:
    return PAGE.replace("{map:tiles}", html.escape(tile_url)).replace(
        "{map:attribution}", html.escape(attribution)
    )


class ConsoleUser(msgspec.Struct, frozen=True, kw_only=True):
    id: str
    email: str | None
    role: Role
    territory_id: str | None


class ConsoleSession(msgspec.Struct, frozen=True, kw_only=True):
    user: ConsoleUser
    # Sent back in the X-CSRF-Token header with every change; None for a bearer token's caller,
    # who needs none.
    csrf_token: str | None
    expires_at: datetime | None


def _cookie(request: Request[Any, Any, Any], value: str, max_age: int) -> Cookie:
    # Secure whenever the page was reached over https (uvicorn takes the scheme from a trusted
    # proxy's X-Forwarded-Proto); a plain-http install on a laptop would otherwise never sign in.
    return Cookie(
        key=cookie_name(request),
        value=value,
        path="/",
        max_age=max_age,
        httponly=True,
        secure=request.url.scheme == "https",
        samesite="strict",
    )


def console_routes(auth: AuthRoutes) -> list[Any]:
    """The sign-in shares the API's password checks and its throttle (auth.gate)."""

    class ConsoleController(Controller):
        path = "/console"
        tags = ["console"]

        @get(opt={"public": True}, security=[{}], media_type=MediaType.HTML, include_in_schema=True)
        async def page(self, request: Request[Any, Any, Any], state: State) -> Response[str]:
            """The dispatcher console (a page, no framework). Its map's tiles come from
            TRUCKROLL_MAP_TILE_URL, the one other origin its policy admits (images only)."""
            settings: Settings = state.settings
            use_policy(request, page_policy(image_origins=(tile_origin(settings.map_tile_url),)))
            return Response(
                _page(settings.map_tile_url, settings.map_attribution),
                media_type=MediaType.HTML,
                headers={"Cache-Control": "no-store"},
            )

        @post(
            "/session",
            opt={"public": True, "errors": [400, 401, 403, 429, 503]},
            security=[{}],
            status_code=200,
            raises=[NotAuthorizedException],
        )
        async def sign_in_to_console(
            self, request: Request[Any, Any, Any], state: State, data: JSONBody[LoginRequest]
        ) -> Response[ConsoleSession]:
            """Sign in to the console with an email and password: the same checks and backoff as
            POST /auth/login. Opens a session held in an HttpOnly, SameSite=Strict cookie for
            TRUCKROLL_CONSOLE_SESSION_TTL_S; the answer carries the session's CSRF token, for the
            X-CSRF-Token header of every change. Only dispatchers and admins (403 otherwise)."""
            # A form on another site can post text/plain but not JSON without asking first:
            # nobody signs a browser in to an account of theirs behind its user's back.
            if not (request.headers.get("content-type") or "").startswith("application/json"):
                raise ClientException("content-type: the sign-in is sent as application/json.")
            settings: Settings = state.settings
            signed = await sign_in_or_refuse(request, state, auth.gate, data)
            try:
                async with acquire(state.pool) as conn, conn.transaction():
                    opened = await open_session(
                        conn, signed.user, signed.token_version, settings.console_session_ttl_s
                    )
            except NotConsoleUserError:
                raise PermissionDeniedException(
                    "The console is for dispatchers and admins; a technician signs in to the"
                    " technician app instead."
                ) from None
            user = signed.user
            session = ConsoleSession(
                user=ConsoleUser(
                    id=str(user.id),
                    email=user.email,
                    role=user.role,
                    territory_id=str(user.territory_id) if user.territory_id else None,
                ),
                csrf_token=csrf_token(settings.jwt_secret, opened.token),
                expires_at=opened.expires_at,
            )
            return Response(session, cookies=[_cookie(request, opened.token, settings.console_session_ttl_s)])

        @get("/session", guards=[STAFF], opt={"errors": [401, 403]})
        async def current_session(
            self, request: Request[Any, Any, Any], state: State, principal: Caller
        ) -> ConsoleSession:
            """Who is signed in, and the session's CSRF token (for a page that was reloaded)."""
            session = request.scope.get("auth")
            is_cookie = isinstance(session, SessionUser)
            token = session_cookie(request)
            return ConsoleSession(
                user=ConsoleUser(
                    id=str(principal.user_id),
                    email=session.email if isinstance(session, SessionUser) else None,
                    role=principal.role,
                    territory_id=str(principal.territory_id) if principal.territory_id else None,
                ),
                csrf_token=csrf_token(state.settings.jwt_secret, token) if is_cookie and token else None,
                expires_at=session.expires_at if isinstance(session, SessionUser) else None,
            )

        @delete(
            "/session",
            guards=[STAFF],
            status_code=204,
            opt={"errors": [401, 403]},
            # The browser forgets the cookie whatever the scheme (a cookie without Secure may
            # clear a Secure one over https; over http there was none).
            response_cookies=[
                Cookie(key=COOKIE, value="", path="/", max_age=0, httponly=True, samesite="strict"),
                Cookie(
                    key=HOST_COOKIE,
                    value="",
                    path="/",
                    max_age=0,
                    httponly=True,
                    secure=True,
                    samesite="strict",
                ),
            ],
        )
        async def sign_out_of_console(self, request: Request[Any, Any, Any], state: State) -> None:
            """Sign out of this console session: its cookie stops working at once, in every API
            process (sessions are looked up in the database). Other sessions and tokens of the
            user are untouched (POST /auth/logout ends them all)."""
            token = session_cookie(request)
            if token and isinstance(request.scope.get("auth"), SessionUser):
                async with acquire(state.pool) as conn, conn.transaction():
                    await close_session(conn, token)

    return [ConsoleController, ConsoleBoardController]


class ConsoleBoardController(Controller):
    path = "/console/board"
    tags = ["console"]
    guards = [STAFF]

    @get()
    async def get_console_board(
        self,
        conn: Db,
        principal: Caller,
        state: State,
        territory_id: TerritoryParam = None,
        day: DayParam = None,
    ) -> ConsoleBoard:
        """The board (GET /board) with what the console's map and timeline draw besides: each
        job's place, duration and depot call, each technician's shift, breaks and latest position."""
        territory, zone, on = await board_day(conn, state, principal.territory_id, territory_id, day)
        return await console_board.console_board(conn, territory, on, zone, now=now_of(state))

    @get("/jobs/{job_id:uuid}")
    async def get_console_job(
        self,
        conn: Db,
        principal: Caller,
        state: State,
        job_id: FromPath[UUID],
        territory_id: TerritoryParam = None,
        day: DayParam = None,
    ) -> ConsoleJob:
        """One job as that board shows it, read again when the live stream says it changed; 404
        when it is not on that board (cancelled, or on another day)."""
        territory, zone, on = await board_day(conn, state, principal.territory_id, territory_id, day)
        found = await console_board.console_job(conn, territory, on, zone, job_id, now=now_of(state))
        if found is None:
            raise NotFoundError("this job is not on that territory's board that day", field="job_id")
        return found

    @get("/jobs/{job_id:uuid}/suggestions")
    async def suggest_technicians(
        self, conn: Db, principal: Caller, state: State, job_id: FromPath[UUID]
    ) -> list[Candidate]:
        """The best technicians to take the job over (its own technician left out), as an at-risk
        alert suggests them: for the console's alerts, whatever the job's status."""
        return await console_board.suggestions(
            conn,
            principal,
            job_id,
            match_settings(state.settings),
            routing=state.routing,
            now=now_of(state),
            cache=state.fleet_cache,
        )
