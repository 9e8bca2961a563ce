"""The tracking page in a real browser: Debian's Chromium, headless, driven by Playwright (its
own browser downloads are never used). The page shows the visit, follows it live, and its service
worker turns a push message into a notification."""

from __future__ import annotations

import asyncio
import contextlib
import os
import shutil
from collections.abc import AsyncIterator
from pathlib import Path
from typing import Any
from uuid import UUID

import httpx
import pytest
from litestar import Litestar
from playwright.async_api import Browser, async_playwright, expect

from api.app import create_app
from infra.db import Connection
from infra.settings import Settings
from notifications.webpush import generate_vapid_keys
from tests.conftest import JWT_SECRET, Auth
from tests.factories_dispatch import login_of
from tests.factories_matching import at, job, north, site, technician, territory
from tests.live_server import serving

CHROMIUM = shutil.which("chromium") or "/usr/bin/chromium"
HAVE_CHROMIUM = Path(CHROMIUM).exists()
# CI installs Debian's chromium and sets this, so there the test can never be skipped.
REQUIRED = os.environ.get("TRUCKROLL_REQUIRE_BROWSER") == "1"
# Screenshots a person can look at after a run (a failure's last state among them).
SHOTS = Path(os.environ.get("TRUCKROLL_SCREENSHOTS", "/tmp/truckroll-screenshots"))  # noqa: S108
NEEDS_CHROMIUM = pytest.mark.skipif(
    not HAVE_CHROMIUM and not REQUIRED,
    reason="install Debian's chromium (apt-get install chromium) for the browser test",
)
# Headless and offline: no sandbox as root, and none of the browser's own network chatter.
ARGS = [
    "--no-sandbox",
    "--disable-gpu",
    "--disable-quic",
    "--no-first-run",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
]


# Collects what the page's Content-Security-Policy refuses (an init script runs before the page
# and is not itself subject to the policy).
WATCH_POLICY = """
window.policyViolations = [];
document.addEventListener("securitypolicyviolation",
  (e) => window.policyViolations.push(e.violatedDirective + " " + e.blockedURI));
"""


@pytest.fixture
def app(tmp_path: Path, dsn: str) -> Litestar:
    keys = generate_vapid_keys()
    settings = Settings(
        database_url=None,
        data_dir=tmp_path,
        jwt_secret=JWT_SECRET,
        pool_min_size=1,
        pool_max_size=5,
        vapid_private_key=keys.private_key,
        vapid_public_key=keys.public_key,
        risk_scan_s=0,
    )
    app = create_app(settings, dsn=dsn)
    app.state.clock = lambda: at(8)
    return app


async def anns_visit(conn: Connection) -> tuple[UUID, UUID]:
    """Ann, 5 km north of the customer, is to come between 9 and 11 (planned at 9:30)."""
    metro = await territory(conn)
    tech = await technician(conn, metro, "Ann Springs", north(5))
    return tech, await job(conn, await site(conn, metro, north(0)), (9, 11), technician_id=tech, planned=9.5)


@contextlib.asynccontextmanager
async def open_browser(
    app: Litestar, dispatcher: Auth, job_id: UUID
) -> AsyncIterator[tuple[str, httpx.AsyncClient, Browser, str]]:
    """The app served, the dispatcher's client, a browser, and the job's tracking token."""
    async with (
        serving(app) as base,
        async_playwright() as pw,
        httpx.AsyncClient(base_url=base, headers=dispatcher.headers) as api,
    ):
        token = (await api.post(f"/jobs/{job_id}/tracking-links")).json()["token"]
        browser = await pw.chromium.launch(executable_path=CHROMIUM, headless=True, args=ARGS)
        try:
            yield base, api, browser, token
        finally:
            await browser.close()


@NEEDS_CHROMIUM
async def test_the_page_shows_the_visit_follows_it_live_and_notifies_from_a_push(
    app: Litestar, conn: Connection, dispatcher: Auth
) -> None:
    _, job_id = await anns_visit(conn)
    await conn.execute(
        "UPDATE jobs SET eta_at = $2, problem_description = 'Garage door spring replacement' WHERE id = $1",
        job_id,
        at(9.5),
    )
    async with open_browser(app, dispatcher, job_id) as (base, api, browser, token):
        context = await browser.new_context()
        await context.grant_permissions(["notifications"], origin=base)
        await context.add_init_script(WATCH_POLICY)
        page = await context.new_page()
        await page.goto(f"{base}/t/{token}")
        # Waited on by selector: the page's policy refuses the eval a waited-on function needs.
        await expect(page.locator("#status")).to_have_text("Technician assigned")
        assert await page.text_content("#who") == "Your technician: Ann"
        assert await page.text_content("#for") == "Garage door spring replacement"
        # The dispatcher releases the job: the page hears it without reloading.
        moved = await api.post(f"/jobs/{job_id}/status", json={"status": "dispatched"})
        assert moved.status_code == 200
        await expect(page.locator("#status")).to_have_text("Ready to go", timeout=10_000)
        # A push message reaches the page's service worker, which shows it.
        await page.evaluate("navigator.serviceWorker.ready")
        cdp = await context.new_cdp_session(page)
        registrations: list[dict[str, Any]] = []
        cdp.on(
            "ServiceWorker.workerRegistrationUpdated",
            lambda e: registrations.extend(e["registrations"]),
        )
        await cdp.send("ServiceWorker.enable")
        for _ in range(50):
            if registrations:
                break
            await asyncio.sleep(0.1)
        message = '{"kind": "on_the_way", "title": "On the way", "body": "Ann is on the way."}'
        shown: list[str] = []
        # The worker may still be activating when the first push arrives: deliver again until
        # it shows (the notification's tag makes a repeat replace, not add).
        for _ in range(10):
            active = [r for r in registrations if not r.get("isDeleted")]
            if active:
                await cdp.send(
                    "ServiceWorker.deliverPushMessage",
                    {"origin": base, "registrationId": active[-1]["registrationId"], "data": message},
                )
            for _ in range(10):
                shown = await page.evaluate(
                    "navigator.serviceWorker.ready.then(r => r.getNotifications())"
                    ".then(n => n.map(x => x.title + ': ' + x.body))"
                )
                if shown:
                    break
                await asyncio.sleep(0.1)
            if shown:
                break
        assert shown == ["On the way: Ann is on the way."]
        # All of it ran under the page's Content-Security-Policy, which refused nothing.
        assert await page.evaluate("window.policyViolations") == []


@NEEDS_CHROMIUM
async def test_a_finished_visit_offers_no_notifications_and_the_page_loads_without_errors(
    app: Litestar, conn: Connection, dispatcher: Auth
) -> None:
    _, job_id = await anns_visit(conn)
    await conn.execute("UPDATE jobs SET status = 'completed' WHERE id = $1", job_id)
    async with open_browser(app, dispatcher, job_id) as (base, _, browser, token):
        page = await browser.new_page()
        failed: list[str] = []
        page.on("response", lambda r: failed.append(f"{r.status} {r.url}") if r.status >= 400 else None)
        page.on("console", lambda m: failed.append(m.text) if m.type == "error" else None)
        await page.goto(f"{base}/t/{token}")
        await expect(page.locator("#status")).to_have_text("Done")
        await expect(page.locator("#notify")).to_be_hidden()
        await expect(page.locator("#rate")).to_be_visible()
        # Marked done by hand, so there are no steps to tell: no empty "So far".
        await expect(page.locator("#so-far")).to_be_hidden()
        # The icon is fetched after the page settles; an absent one is a console error.
        await page.wait_for_load_state("networkidle")
        await page.screenshot(path=SHOTS / "finished.png")
        assert failed == []


@NEEDS_CHROMIUM
async def test_a_ping_that_moves_the_eta_shows_on_the_open_page_within_seconds(
    app: Litestar, conn: Connection, dispatcher: Auth
) -> None:
    clock = {"now": at(8)}
    app.state.clock = lambda: clock["now"]
    tech, job_id = await anns_visit(conn)
    await conn.execute("UPDATE jobs SET status = 'dispatched', eta_at = $2 WHERE id = $1", job_id, at(9.5))
    ann = await login_of(conn, tech)
    async with open_browser(app, dispatcher, job_id) as (base, api, browser, token):
        set_off = await api.post(
            f"/jobs/{job_id}/status",
            json={"status": "en_route", "client_at": at(8).isoformat()},
            headers=ann.headers,
        )
        assert set_off.status_code == 200, set_off.text
        context = await browser.new_context()
        await context.add_init_script(WATCH_POLICY)
        page = await context.new_page()
        await page.goto(f"{base}/t/{token}")
        await expect(page.locator("#status")).to_have_text("On the way")
        before = await page.text_content("#eta")
        # Stuck 20 km out a quarter of an hour later: the ETA moves by tens of minutes.
        clock["now"] = at(8.25)
        ping = {"recorded_at": at(8.25).isoformat(), "latitude": north(20)[0], "longitude": north(20)[1]}
        started = asyncio.get_running_loop().time()
        moved = await api.post("/technicians/me/positions", json={"pings": [ping]}, headers=ann.headers)
        assert moved.status_code == 200, moved.text
        # Within two seconds, not at the page's 30-second re-read.
        await expect(page.locator("#eta")).not_to_have_text(before or "", timeout=2_000)
        await expect(page.locator("#distance")).to_have_text("20", timeout=2_000)
        shown_s = asyncio.get_running_loop().time() - started
        # Half a kilometre closer 36 s later: the distance follows too.
        clock["now"] = at(8.26)
        lat, lon = north(19.5)
        closer = {"recorded_at": at(8.26).isoformat(), "latitude": lat, "longitude": lon}
        moved = await api.post("/technicians/me/positions", json={"pings": [closer]}, headers=ann.headers)
        assert moved.status_code == 200, moved.text
        await expect(page.locator("#distance")).to_have_text("19.5", timeout=2_000)
        await page.screenshot(path=SHOTS / "eta-moved.png")
        print(f"the page showed the new ETA {shown_s:.2f} s after the ping was sent")
        assert await page.evaluate("window.policyViolations") == []
