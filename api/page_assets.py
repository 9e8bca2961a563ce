"""The pages' scripts, styles and vendored libraries, served from this origin: the security policy
of every page admits no inline script or style (api.http_edge), so a page links to them here, each
at a URL that holds its content's hash (api.static_files)."""

from __future__ import annotations

from litestar import Controller, Response, get
from litestar.params import FromPath

from api.static_files import STATIC
from infra.errors import NotFoundError

_ICON = STATIC.file("favicon.svg")
# A hashed URL names one content forever: a deploy that changes a file links it at a new URL.
_FOREVER = {"Cache-Control": "public, max-age=31536000, immutable"}
# Where browsers look unasked, or a page links by a fixed name: revalidated on each load.
_CACHE = {"Cache-Control": "no-cache"}


class PageAssetController(Controller):
    path = "/static"
    tags = ["pages"]
    opt = {"public": True}
    security = [{}]

    @get("/{digest:str}/{file_name:str}", media_type="application/octet-stream")
    async def static_file(self, digest: FromPath[str], file_name: FromPath[str]) -> Response[bytes]:
        """A script, style or vendored library of the pages, at the URL its page links: the hash
        in the path is its content's, so it may be cached for a year; another hash is 404."""
        found = STATIC.find(digest, file_name)
        if found is None:
            raise NotFoundError(f"no file {file_name} with content {digest} here", field="digest")
        return Response(found.body, media_type=found.media_type, headers=_FOREVER)

    @get("/favicon.svg", media_type="image/svg+xml")
    async def icon(self) -> Response[bytes]:
        """The pages' icon."""
        return Response(_ICON.body, media_type="image/svg+xml", headers=_CACHE)


class IconController(Controller):
    """Browsers ask for /favicon.ico whatever a page links: without it, every page load logs a 404
    in the console. Modern browsers take an SVG whatever the name."""

    path = "/favicon.ico"
    tags = ["pages"]
    opt = {"public": True}
    security = [{}]

    @get(media_type="image/svg+xml")
    async def favicon(self) -> Response[bytes]:
        """The pages' icon, where browsers look for it unasked."""
        return Response(_ICON.body, media_type="image/svg+xml", headers=_CACHE)


ROUTES = [PageAssetController, IconController]
