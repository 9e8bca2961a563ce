"""The pages' scripts and styles, served from this origin: the security policy of every page
admits no inline script or style (api.http_edge), so a page links to them here."""

from __future__ import annotations

from importlib import resources

from litestar import Controller, Response, get

_STATIC = resources.files("api").joinpath("static")
TRACKING_SCRIPT = _STATIC.joinpath("track.js").read_text()
TRACKING_STYLE = _STATIC.joinpath("track.css").read_text()
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


ROUTES = [PageAssetController]
