"""The tracking page's map in a real browser: while the technician is on the way it shows where
they are and the customer's door, moving with each ping; Leaflet is fetched only then; the page
stays whole without tiles or without Leaflet; and the page stays light."""

from __future__ import annotations

import asyncio
from collections.abc import Iterator
from uuid import UUID

import msgspec
import pytest
from litestar import Litestar
from playwright.async_api import Page, Request, Response, ViewportSize, expect

from api.app import create_app
from infra.db import Connection
from infra.settings import Settings
from tests.conftest import Auth
from tests.e2e.test_tracking_page import NEEDS_CHROMIUM, SHOTS, WATCH_POLICY, anns_visit, open_browser
from tests.factories_dispatch import login_of
from tests.factories_matching import at, last_fix, north
from tests.stand_in_tiles import TileServer, serving_tiles

PHONE: ViewportSize = {"width": 360, "height": 780}
LIGHT_BYTES = 60 * 1024  # the page's own HTML, script, style, icon and data, without the map library


@pytest.fixture
def tiles() -> Iterator[TileServer]:
    with serving_tiles() as server:
        yield server


@pytest.fixture
def app(settings: Settings, dsn: str, tiles: TileServer) -> Litestar:
    app = create_app(msgspec.structs.replace(settings, risk_scan_s=0, map_tile_url=tiles.url), dsn=dsn)
    app.state.clock = lambda: at(8)
    return app


async def on_the_way(app: Litestar, conn: Connection) -> tuple[UUID, UUID, dict[str, str]]:
    """Ann has set off at 8:00 and is 4 km north of the customer at 8:06."""
    clock = {"now": at(8.1)}
    app.state.clock = lambda: clock["now"]
    tech, job_id = await anns_visit(conn)
    await conn.execute("UPDATE jobs SET status = 'dispatched', eta_at = $2 WHERE id = $1", job_id, at(9.5))
    await conn.execute(
        "INSERT INTO job_events (job_id, kind, from_status, to_status, actor, occurred_at)"
        " VALUES ($1, 'status', 'dispatched', 'en_route', 'technician', $2)",
        job_id,
        at(8),
    )
    await conn.execute("UPDATE jobs SET status = 'en_route' WHERE id = $1", job_id)
    await last_fix(conn, tech, at(8.1), north(4))
    return tech, job_id, (await login_of(conn, tech)).headers


async def marker(page: Page, kind: str) -> list[float]:
    # The page's own Leaflet markers, read back from Leaflet.
    at_: list[float] = await page.evaluate(
        f"(() => {{ const p = markers[{kind!r}].getLatLng(); return [p.lat, p.lng]; }})()"
    )
    return at_


def assert_near(got: list[float], want: tuple[float, float]) -> None:
    assert got == pytest.approx(list(want), abs=1e-9), (got, want)


class Traffic:
    """What the browser fetched, and what went wrong on the page."""

    def __init__(self, page: Page) -> None:
        self.urls: list[str] = []
        self.responses: list[Response] = []
        self.errors: list[str] = []
        page.on("request", lambda r: self.urls.append(r.url))
        page.on("response", lambda r: self.responses.append(r))
        page.on("pageerror", lambda e: self.errors.append(str(e)))

    def asked_for(self, name: str) -> bool:
        return any(url.rsplit("/", 1)[-1] == name for url in self.urls)

    async def page_bytes(self) -> int:
        """The bytes of every answer the page read (the live stream, never finished, left out)."""
        total = 0
        for response in self.responses:
            request: Request = response.request
            if request.resource_type != "eventsource":
                total += len(await response.body())
        return total


@NEEDS_CHROMIUM
async def test_on_the_way_the_map_shows_the_technician_and_the_door_and_follows_each_ping(
    app: Litestar, conn: Connection, dispatcher: Auth, tiles: TileServer
) -> None:
    _, job_id, ann = await on_the_way(app, conn)
    async with open_browser(app, dispatcher, job_id) as (base, api, browser, token):
        context = await browser.new_context(viewport=PHONE)
        await context.add_init_script(WATCH_POLICY)
        page = await context.new_page()
        traffic = Traffic(page)
        answer = await page.goto(f"{base}/t/{token}")
        assert answer is not None
        await expect(page.locator("#status")).to_have_text("On the way")
        await expect(page.locator(".leaflet-marker-icon.pin.technician")).to_be_visible()
        assert_near(await marker(page, "technician"), north(4))
        assert_near(await marker(page, "door"), north(0))
        credit = page.locator(".leaflet-control-attribution")
        await expect(credit).to_contain_text("© OpenStreetMap contributors")
        link = credit.locator('a[href="https://www.openstreetmap.org/copyright"]')
        await expect(link).to_have_text("OpenStreetMap")
        await page.wait_for_load_state("networkidle")
        await expect(page.locator(".leaflet-tile-loaded").first).to_be_visible()
        assert tiles.requests, "no tile was asked for"
        # A tile request carries this site's origin, never the page's address (the token).
        assert {referer for _, referer in tiles.requests} == {base + "/"}
        # Its policy admits the tile server's images, and refused nothing.
        assert tiles.origin in answer.headers["content-security-policy"]
        assert await page.evaluate("window.policyViolations") == []
        await page.screenshot(path=SHOTS / "map-en-route.png", full_page=True)

        # A kilometre closer: the marker follows within a second of the ping.
        ping = {"recorded_at": at(8.12).isoformat(), "latitude": north(3)[0], "longitude": north(3)[1]}
        app.state.clock = lambda: at(8.12)
        sent = asyncio.get_running_loop().time()
        moved = await api.post("/technicians/me/positions", json={"pings": [ping]}, headers=ann)
        assert moved.status_code == 200, moved.text
        while (await marker(page, "technician")) != pytest.approx(list(north(3)), abs=1e-9):
            assert asyncio.get_running_loop().time() - sent < 1.0, "the marker did not move within 1 s"
            await asyncio.sleep(0.02)
        print(f"the marker moved {asyncio.get_running_loop().time() - sent:.2f} s after the ping was sent")

        # Arrived: the map goes.
        arrived = await api.post(f"/jobs/{job_id}/status", json={"status": "on_site"}, headers=ann)
        assert arrived.status_code == 200, arrived.text
        await expect(page.locator("#status")).to_have_text("Arrived", timeout=5_000)
        await expect(page.locator("#map-card")).to_be_hidden()
        assert await page.evaluate("map === null")
        assert await page.locator(".leaflet-marker-icon").count() == 0
        assert traffic.errors == []


@NEEDS_CHROMIUM
@pytest.mark.parametrize("blocked", ["tiles", "leaflet"])
async def test_without_tiles_or_without_leaflet_the_page_still_tells_when_and_who(
    app: Litestar, conn: Connection, dispatcher: Auth, tiles: TileServer, blocked: str
) -> None:
    _, job_id, _ = await on_the_way(app, conn)
    async with open_browser(app, dispatcher, job_id) as (base, _, browser, token):
        context = await browser.new_context(viewport=PHONE)
        if blocked == "tiles":
            await context.route(f"{tiles.origin}/**", lambda route: route.abort())
        else:
            await context.route("**/leaflet.js", lambda route: route.abort())
        page = await context.new_page()
        traffic = Traffic(page)
        await page.goto(f"{base}/t/{token}")
        await expect(page.locator("#status")).to_have_text("On the way")
        await expect(page.locator("#eta")).not_to_be_empty()
        await expect(page.locator("#distance")).to_have_text("4")
        await expect(page.locator("#so-far")).to_be_visible()
        if blocked == "tiles":
            # The markers and the credit still show, over a plain background.
            await expect(page.locator(".leaflet-marker-icon.pin.technician")).to_be_visible()
            await expect(page.locator(".leaflet-control-attribution")).to_be_visible()
        else:
            await expect(page.locator("#map-card")).to_be_hidden()
        await page.wait_for_load_state("networkidle")
        await page.screenshot(path=SHOTS / f"map-{blocked}-blocked.png", full_page=True)
        assert not tiles.requests
        assert traffic.errors == []


@NEEDS_CHROMIUM
@pytest.mark.parametrize("status", ["scheduled", "dispatched", "on_site", "completed"])
async def test_before_setting_off_and_after_arriving_the_map_library_is_never_fetched(
    app: Litestar, conn: Connection, dispatcher: Auth, tiles: TileServer, status: str
) -> None:
    tech, job_id = await anns_visit(conn)
    await conn.execute("UPDATE jobs SET status = $2, eta_at = $3 WHERE id = $1", job_id, status, at(9.5))
    # Where Ann is now is known, but she is not on her way here.
    await last_fix(conn, tech, at(8), north(2))
    async with open_browser(app, dispatcher, job_id) as (base, _, browser, token):
        page = await browser.new_page(viewport=PHONE)
        traffic = Traffic(page)
        await page.goto(f"{base}/t/{token}")
        await expect(page.locator("#status")).not_to_have_text("Loading…")
        await page.wait_for_load_state("networkidle")
        await expect(page.locator("#map-card")).to_be_hidden()
        assert not traffic.asked_for("leaflet.js")
        assert not traffic.asked_for("leaflet.css")
        assert not tiles.requests
        size = await traffic.page_bytes()
        print(f"the {status} page fetched {size} bytes ({len(traffic.responses)} answers)")
        assert size < LIGHT_BYTES
        assert traffic.errors == []
