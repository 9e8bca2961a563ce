"""What every request passes through, whatever its route: OPTIONS answered before any guard, and
connections a refused request left behind given back."""

from __future__ import annotations

from litestar import Litestar
from litestar.enums import ScopeType
from litestar.routes import HTTPRoute
from litestar.types import ASGIApp, Message, Receive, Scope, Send

from api.deps import release_held_connections

_ALLOW = "allow"  # a route's OPTIONS handler's opt key: the Allow header of its route


def learn_allowed_methods(app: Litestar) -> None:
    """Litestar gives every route an OPTIONS handler, but it sits behind the route's guards, which
    found no user (OPTIONS is never authenticated) and failed with a 500. Each one is told its
    route's methods, so the edge answers OPTIONS itself."""
    for route in app.routes:
        if not isinstance(route, HTTPRoute):
            continue
        allow = ", ".join(sorted(route.methods))
        for handler in route.route_handlers:
            if handler.http_methods == {"OPTIONS"}:
                handler.opt[_ALLOW] = allow


def edge_middleware(app: ASGIApp) -> ASGIApp:
    async def edge(scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != ScopeType.HTTP:
            await app(scope, receive, send)
            return
        if scope["method"] == "OPTIONS" and (allow := scope["route_handler"].opt.get(_ALLOW)):
            # RFC 9110 §9.3.7: the methods of the resource, no content, nobody needs to sign in.
            await send(
                {"type": "http.response.start", "status": 204, "headers": [(b"allow", allow.encode())]}
            )
            await send({"type": "http.response.body", "body": b"", "more_body": False})
            return

        async def release_then_send(message: Message) -> None:
            # Before the answer leaves: a client that gets its 400 finds the connection back.
            if message["type"] == "http.response.start":
                await release_held_connections(scope)
            await send(message)

        try:
            await app(scope, receive, release_then_send)
        finally:
            await release_held_connections(scope)  # also when no answer could be sent

    return edge
