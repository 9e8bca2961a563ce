"""What every request passes through, whatever its route: OPTIONS answered before any guard, the
browser protections on every answer, connections a refused request left behind given back, and
tracking tokens kept out of the access log.
"""

from __future__ import annotations

import base64
import hashlib
import logging
import re
from typing import Any
from urllib.parse import urlsplit

from litestar import Litestar, Request
from litestar.enums import ScopeType
from litestar.openapi.plugins import SwaggerRenderPlugin
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


# One policy for every page and answer: scripts and styles from this origin only (nothing
# inline), no plugins, never framed, forms and connections back to this origin only. A page with
# a map admits images from its tile server too (api.track).
def page_policy(*, image_origins: tuple[str, ...] = ()) -> str:
    """The policy, admitting images from these origins too (a map's tile server)."""
    images = " ".join(("'self'", "data:", *image_origins))
    return (
        f"default-src 'self'; script-src 'self'; style-src 'self'; img-src {images}; "
        "connect-src 'self'; object-src 'none'; base-uri 'none'; form-action 'self'; frame-ancestors 'none'"
    )


CONTENT_SECURITY_POLICY = page_policy()


def tile_origin(tile_url: str) -> str:
    """The origin of a Leaflet tile URL template, as a policy names it: a {s} (subdomain) in the
    host admits that host's subdomains."""
    parts = urlsplit(tile_url)
    host = (parts.hostname or "").replace("{s}", "*")
    return f"{parts.scheme}://{host}" + (f":{parts.port}" if parts.port else "")


_PROTECTIONS = (
    (b"x-content-type-options", b"nosniff"),
    (b"x-frame-options", b"DENY"),
    # The tracking page's URL holds its token: it must never leave in a Referer.
    (b"referrer-policy", b"no-referrer"),
)
_OWN_POLICY = "content_security_policy"  # a page's own policy, in its request's state


def use_policy(request: Request[Any, Any, Any], policy: str) -> None:
    """This answer's page has a policy of its own."""
    request.state[_OWN_POLICY] = policy


async def add_protections(message: Message, scope: Scope) -> None:
    """Before an answer's headers leave: the policy (a page's own if it set one), the other
    protections, and `no-store` unless the answer says how it may be cached. The customer's
    tracking answers, and everything behind a token, are personal: no cache keeps them."""
    if message["type"] != "http.response.start":
        return
    headers: list[tuple[bytes, bytes]] = list(message.get("headers") or [])
    names = {name.lower() for name, _ in headers}
    if b"content-security-policy" not in names:
        policy = scope.get("state", {}).get(_OWN_POLICY, CONTENT_SECURITY_POLICY)
        headers.append((b"content-security-policy", policy.encode()))
    headers += [(name, value) for name, value in _PROTECTIONS if name not in names]
    if b"cache-control" not in names:
        headers.append((b"cache-control", b"no-store"))
    message["headers"] = headers


_INLINE_SCRIPT = re.compile(r"<script(?![^>]*\ssrc=)[^>]*>(.*?)</script>", re.S)


class SwaggerDocs(SwaggerRenderPlugin):
    """The API docs (Swagger UI) under a policy of their own. Swagger UI is loaded from its CDN
    and started by one inline script that embeds the OpenAPI document: that origin, and that
    script by its hash, are admitted on the docs page and nowhere else. A token pasted into
    "Authorize" lives in this page, so no other script may run here. Styles may be inline here
    (Swagger UI sets some as it renders): the page shows nothing a client sent."""

    cdn = "https://cdn.jsdelivr.net"

    def render(self, request: Request[Any, Any, Any], openapi_schema: dict[str, Any]) -> bytes:
        page = super().render(request, openapi_schema)
        html = page.decode()
        scripts = " ".join(_hash(s) for s in _INLINE_SCRIPT.findall(html))
        use_policy(
            request,
            f"default-src 'none'; script-src {self.cdn} {scripts}; style-src {self.cdn} 'unsafe-inline'; "
            f"img-src 'self' data: {self.cdn}; font-src {self.cdn}; connect-src 'self'; "
            "object-src 'none'; base-uri 'none'; form-action 'none'; frame-ancestors 'none'",
        )
        return page


def _hash(inline: str) -> str:
    return "'sha256-" + base64.b64encode(hashlib.sha256(inline.encode()).digest()).decode() + "'"


# The customer's link is /t/{token} (the page) and /track/{token}/... (its data): the token is
# the whole credential, so it never reaches a log, whoever reads the logs.
_TOKEN_IN_PATH = re.compile(r"^(/t|/track)/(?!sw\.js(?:$|\?))[^/?#\s]+")


def redact_tokens(path: str) -> str:
    return _TOKEN_IN_PATH.sub(r"\1/[token]", path)


class _RedactAccessLog(logging.Filter):
    def filter(self, record: logging.LogRecord) -> bool:
        # uvicorn's access record: (client, method, path with query, HTTP version, status).
        args = record.args
        if isinstance(args, tuple) and len(args) >= 3 and isinstance(args[2], str):
            record.args = (*args[:2], redact_tokens(args[2]), *args[3:])
        return True


_REDACT_ACCESS_LOG = _RedactAccessLog()


def redact_access_log() -> None:
    """Idempotent: one filter on uvicorn's access logger, however many apps a process builds."""
    logging.getLogger("uvicorn.access").addFilter(_REDACT_ACCESS_LOG)
