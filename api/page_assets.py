"""The pages' scripts and styles, served from this origin: the security policy of every page
admits no inline script or style (api.http_edge), so a page links to them here."""

from __future__ import annotations

from importlib import resources

from litestar import Controller, Response, get

_STATIC = resources.files("api").joinpath("static")
TRACKING_SCRIPT = _STATIC.joinpath("track.js").read_text()
TRACKING_STYLE = _STATIC.joinpath("track.css").read_text()
ICON = _STATIC.joinpath("favicon.svg").read_text()
# Revalidated on each load: a deploy's new script is never mixed with a cached old page.
_CACHE = {"Cache-Control": "no-cache"}


class PageAssetController(Controller):
    path = "/static"
    tags = ["pages"]
    opt = {"public": True}
    security = [{}]

    @get("/track.js", media_type="application/javascript")
    async def tracking_script(self) -> Response[str]:
        """The tracking page's script."""
        return Response(TRACKING_SCRIPT, media_type="application/javascript", headers=_CACHE)

    @get("/track.css", media_type="text/css")
    async def tracking_style(self) -> Response[str]:
        """The tracking page's style."""
        return Response(TRACKING_STYLE, media_type="text/css", headers=_CACHE)

    @get("/favicon.svg", media_type="image/svg+xml")
    async def icon(self) -> Response[str]:
        """The pages' icon."""
        return Response(ICON, media_type="image/svg+xml", headers=_CACHE)


class IconController(Controller):
    """Browsers ask for /favicon.ico whatever a page links: without it, every page load logs a 404
    in the console. Modern browsers take an SVG whatever the name."""

    path = "/favicon.ico"
    tags = ["pages"]
    opt = {"public": True}
    security = [{}]

    @get(media_type="image/svg+xml")
    async def favicon(self) -> Response[str]:
        """The pages' icon, where browsers look for it unasked."""
        return Response(ICON, media_type="image/svg+xml", headers=_CACHE)


ROUTES = [PageAssetController, IconController]
