"""The technician app: an installable web app at /app that works a day, offline included, on the
API the phones already use. Its page, manifest and service worker are served here; its scripts,
styles and icons are plain files under static/app (hashed URLs, api.static_files)."""

from __future__ import annotations

import functools
import html
import json
from importlib import resources
from uuid import UUID

import msgspec
from litestar import Controller, MediaType, Response, get
from litestar.datastructures import State
from litestar.params import FromPath

from api.auth import ANY_USER
from api.deps import Caller, Db
from api.static_files import STATIC
from dispatch.workday import job_contact
from dispatch.workday.job_contact import CustomerContact
from infra.settings import Settings

_FILES = resources.files("api").joinpath("static/app")
PAGE = STATIC.render(_FILES.joinpath("index.html").read_text())
# The worker names the shell's files by their hashed URLs: a deploy that changes any of them
# changes the worker's own bytes, so the browser installs the new worker and its new cache.
WORKER = STATIC.render(_FILES.joinpath("worker.js").read_text())
SHELL = [
    "app/app.css",
    "vendor/idb-keyval/idb-keyval.js",
    "app/store.js",
    "app/app.js",
    "app/work.js",
    "app/positions.js",
    "app/push.js",
    "app/icons/icon-192.png",
]
THEME = "#0b3d91"
# The page is revalidated on each load (a deploy reaches the next start); the worker too, as
# browsers do for workers whatever the header says.
_REVALIDATE = {"Cache-Control": "no-cache"}


@functools.cache
def _page(ping_interval_s: int) -> str:
    return PAGE.replace("{app:ping_interval_s}", html.escape(str(ping_interval_s)))


class ManifestIcon(msgspec.Struct, frozen=True, kw_only=True, omit_defaults=True):
    src: str
    sizes: str
    type: str
    purpose: str = "any"


class WebManifest(msgspec.Struct, frozen=True, kw_only=True):
    id: str
    name: str
    short_name: str
    description: str
    start_url: str
    scope: str
    display: str
    orientation: str
    background_color: str
    theme_color: str
    icons: list[ManifestIcon]


@functools.cache
def _manifest() -> WebManifest:
    def icon(name: str, size: int, purpose: str = "any") -> ManifestIcon:
        return ManifestIcon(src=STATIC.url(name), sizes=f"{size}x{size}", type="image/png", purpose=purpose)

    return WebManifest(
        id="/app",
        name="Truckroll technician",
        short_name="Truckroll",
        description="Your day, your jobs and your reports, offline too.",
        start_url="/app",
        scope="/app",
        display="standalone",
        orientation="portrait",
        background_color="#ffffff",
        theme_color=THEME,
        icons=[
            icon("app/icons/icon-192.png", 192),
            icon("app/icons/icon-512.png", 512),
            # Drawn inside the middle 80%, the circle a launcher may cut it to.
            icon("app/icons/icon-maskable-512.png", 512, "maskable"),
        ],
    )


def _worker() -> str:
    shell = json.dumps(["/app", *(STATIC.url(name) for name in SHELL)])
    return WORKER.replace('"{app:shell}"', shell)


class TechnicianAppController(Controller):
    path = "/app"
    tags = ["pages"]
    opt = {"public": True}
    security = [{}]

    @get(media_type=MediaType.HTML)
    async def app_page(self, state: State) -> Response[str]:
        """The technician app (sign in with the app's login; works offline once loaded)."""
        settings: Settings = state.settings
        return Response(_page(settings.app_ping_interval_s), media_type=MediaType.HTML, headers=_REVALIDATE)

    @get("/manifest.webmanifest", media_type="application/manifest+json")
    async def manifest(self) -> Response[WebManifest]:
        """The web app manifest that makes the app installable."""
        return Response(_manifest(), media_type="application/manifest+json", headers=_REVALIDATE)

    @get("/worker.js", media_type="text/javascript")
    async def service_worker(self) -> Response[str]:
        """The app's service worker: keeps the shell for offline starts, shows push messages.
        It controls /app itself, one level above its own folder, so the header allows it."""
        return Response(
            _worker(),
            media_type="text/javascript",
            headers={**_REVALIDATE, "Service-Worker-Allowed": "/app"},
        )


class JobContactController(Controller):
    path = "/jobs/{job_id:uuid}/contact"
    tags = ["technician day"]
    guards = [ANY_USER]

    @get()
    async def customer_contact(self, conn: Db, principal: Caller, job_id: FromPath[UUID]) -> CustomerContact:
        """The customer's first name and telephone: the app's call button, for calling ahead. A
        technician gets the number only for their own job in hand (on the way or on site)."""
        return await job_contact.contact_for_job(conn, principal, job_id)


ROUTES = [TechnicianAppController, JobContactController]
