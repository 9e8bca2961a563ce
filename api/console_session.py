"""The console's cookie session beside the bearer tokens: a request with an Authorization header
is a bearer's, exactly as before; one without it but with the console's cookie is the session's,
and a change it asks for (any method but GET, HEAD, OPTIONS) must carry the session's CSRF token
in a header, or it is refused (403) before any handler runs. A page of another site can make the
browser send the cookie (SameSite=Strict stops most of that, not all: a sibling subdomain is
"same site"), but it cannot read the token to send with it."""

from __future__ import annotations

from typing import Any

from litestar.connection import ASGIConnection
from litestar.exceptions import NotAuthorizedException, PermissionDeniedException
from litestar.middleware.authentication import AuthenticationResult
from litestar.security.jwt.middleware import JWTAuthenticationMiddleware

from dispatch.access.console_sessions import csrf_matches, session_user
from infra.db import acquire

COOKIE = "truckroll_console"
# Over https the cookie is host-only and Secure by its very name: a sibling subdomain cannot set
# one of that name for this host, so it cannot slip its own session under a dispatcher's page.
HOST_COOKIE = "__Host-" + COOKIE


def cookie_name(connection: ASGIConnection[Any, Any, Any, Any]) -> str:
    """The session cookie's name for the scheme the page was reached by (a plain-http install on
    a laptop has no __Host- cookie); the other name is never read."""
    return HOST_COOKIE if connection.url.scheme == "https" else COOKIE


def session_cookie(connection: ASGIConnection[Any, Any, Any, Any]) -> str | None:
    return connection.cookies.get(cookie_name(connection))


CSRF_HEADER = "X-CSRF-Token"
_SAFE = frozenset({"GET", "HEAD", "OPTIONS"})


class BearerOrConsoleSession(JWTAuthenticationMiddleware):
    async def authenticate_request(
        self, connection: ASGIConnection[Any, Any, Any, Any]
    ) -> AuthenticationResult:
        token = session_cookie(connection)
        if connection.headers.get(self.auth_header) or not token:
            return await super().authenticate_request(connection)
        async with acquire(connection.app.state.pool) as conn:
            session = await session_user(conn, token)
        if session is None:
            raise NotAuthorizedException("The console session has ended; sign in again.")
        if connection.scope.get("method") not in _SAFE and not csrf_matches(
            self.token_secret, token, connection.headers.get(CSRF_HEADER)
        ):
            raise PermissionDeniedException(
                f"A change made with the console's session needs its {CSRF_HEADER} header"
                " (from GET /console/session); this one had none or another session's."
            )
        return AuthenticationResult(user=session.principal, auth=session)
