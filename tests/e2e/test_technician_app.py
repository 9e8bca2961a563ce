"""The technician app (/app) in Debian's Chromium on an emulated phone (360 x 740, touch,
geolocation): installable, signs in, shows the day and a job, works it online and offline, sends
positions, and is refused with a reason. The server's clock is the real one (the phone's times
are real), in a territory whose clock reads late morning, so the day never straddles midnight."""

from __future__ import annotations

import asyncio
import contextlib
import json
from collections.abc import AsyncIterator
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Any
from uuid import UUID

import httpx
import msgspec
import pytest
from litestar import Litestar
from playwright.async_api import BrowserContext, Geolocation, Page, async_playwright, expect

from api.app import create_app
from dispatch.accounts import Role
from infra.db import Connection
from infra.settings import Settings
from tests.conftest import make_user
from tests.e2e.test_tracking_page import ARGS, CHROMIUM, NEEDS_CHROMIUM, WATCH_POLICY
from tests.factories_matching import north, site
from tests.integration.test_push import push_service, settings
from tests.live_server import serving

# The stand-in push service and the settings that reach it: fixtures of the push tests.
__all__ = ["push_service", "settings"]
PASSWORD = "correct horse battery staple"  # every test user's (tests.conftest)
PHONE: Geolocation = {"latitude": north(8)[0], "longitude": north(8)[1], "accuracy": 10}


@pytest.fixture
def app(settings: Settings, dsn: str) -> Litestar:
    # The push tests' settings (their VAPID keys and push service), with pings every second: below
    # the 15-30 s the environment may set, so a test waits seconds.
    return create_app(msgspec.structs.replace(settings, app_ping_interval_s=1), dsn=dsn)


@dataclass(frozen=True)
class Day:
    technician: UUID
    email: str
    jobs: list[UUID]
    spring: UUID  # on the van (3) and predicted for the first job
    cable: UUID  # predicted for the first job, not on the van


def _late_morning_zone(now: datetime) -> str:
    """A fixed-offset zone where it is now between 10:00 and 11:00 (Etc/GMT-N is UTC+N)."""
    offset = 10 - now.hour
    offset = offset - 24 if offset > 14 else offset
    return "Etc/UTC" if offset == 0 else f"Etc/GMT{'-' if offset > 0 else '+'}{abs(offset)}"


async def a_day(conn: Connection) -> Day:
    """Ann, at home 8 km north of her first door, on shift from an hour ago; two visits today, the
    first a broken spring on a door with a history, the second a noisy door."""
    now = datetime.now(UTC)
    territory = await conn.fetchval(
        "INSERT INTO territories (name, timezone) VALUES ('Metro', $1) RETURNING id", _late_morning_zone(now)
    )
    home = north(8)
    tech = await conn.fetchval(
        "INSERT INTO technicians (name, territory_id, home_latitude, home_longitude)"
        " VALUES ('Ann Springs', $1, $2, $3) RETURNING id",
        territory,
        *home,
    )
    await conn.execute(
        "INSERT INTO shifts (technician_id, starts_at, ends_at, start_latitude, start_longitude,"
        " end_latitude, end_longitude) VALUES ($1, $2, $3, $4, $5, $4, $5)",
        tech,
        now - timedelta(hours=1),
        now + timedelta(hours=8),
        *home,
    )
    spring = await conn.fetchval(
        "INSERT INTO parts (sku, name) VALUES ('SPR-218', 'Torsion spring .218') RETURNING id"
    )
    cable = await conn.fetchval(
        "INSERT INTO parts (sku, name) VALUES ('CBL-8', 'Lift cable 8 ft') RETURNING id"
    )
    van = await conn.fetchval(
        "INSERT INTO stock_locations (kind, name, technician_id)"
        " VALUES ('van', 'Van of Ann', $1) RETURNING id",
        tech,
    )
    await conn.execute("INSERT INTO stock_levels VALUES ($1, $2, 3)", van, spring)
    jobs: list[UUID] = []
    for n, (km, hours, problem) in enumerate(((0, 1, "broken_spring"), (2, 3, "noisy_door"))):
        place = await site(conn, territory, north(km), f"{4217 + n} Xerxes Ave S")
        await conn.execute("UPDATE sites SET access_notes = 'Gate code 4711' WHERE id = $1", place)
        await conn.execute(
            "UPDATE customers SET name = 'Pat Doe', phone = '+1 612 555 0100'"
            " WHERE id = (SELECT customer_id FROM site_occupancies WHERE site_id = $1)",
            place,
        )
        asset = None
        if n == 0:
            asset = await conn.fetchval(
                "INSERT INTO assets (site_id, kind, make, model, installed_at, warranty_until)"
                " VALUES ($1, 'garage_door', 'Clopay', 'Classic 4050', '2017-05-01', '2030-05-01')"
                " RETURNING id",
                place,
            )
            await conn.execute(
                "INSERT INTO asset_events (asset_id, kind, summary, occurred_at)"
                " VALUES ($1, 'repair', 'Both springs replaced', '2019-11-12T10:00:00Z')",
                asset,
            )
        start = now + timedelta(hours=hours)
        job_id = await conn.fetchval(
            """
            INSERT INTO jobs (site_id, asset_id, customer_id, problem_code, problem_description,
                              required_skills, duration_s, window_start_at, window_end_at, status,
                              technician_id, planned_start_at, eta_at, customer_choice)
            VALUES ($1, $2, (SELECT customer_id FROM site_occupancies WHERE site_id = $1), $3, $4,
                    '{}', 3600, $5, $6, 'dispatched', $7, $5, $5, $8)
            RETURNING id
            """,
            place,
            asset,
            problem,
            "Broken spring" if n == 0 else "Noisy door",
            start,
            start + timedelta(hours=2),
            tech,
            "replace" if n == 0 else None,
        )
        jobs.append(job_id)
    await conn.execute(
        "INSERT INTO job_parts (job_id, part_id, quantity, probability, source) VALUES"
        " ($1, $2, 2, 0.9, 'predicted'), ($1, $3, 1, 0.4, 'predicted')",
        jobs[0],
        spring,
        cable,
    )
    email = "ann@example.com"
    await make_user(conn, Role.TECHNICIAN, technician_id=tech, email=email)
    return Day(technician=tech, email=email, jobs=jobs, spring=spring, cable=cable)


@contextlib.asynccontextmanager
async def phone(app: Litestar) -> AsyncIterator[tuple[str, BrowserContext, Page]]:
    """The app served, and a phone's browser on it with its permissions granted."""
    async with serving(app) as base, async_playwright() as pw:
        browser = await pw.chromium.launch(executable_path=CHROMIUM, headless=True, args=ARGS)
        try:
            context = await browser.new_context(
                viewport={"width": 360, "height": 740},
                device_scale_factor=2,
                is_mobile=True,
                has_touch=True,
                geolocation=PHONE,
                permissions=["geolocation", "notifications"],
            )
            await context.add_init_script(WATCH_POLICY)
            page = await context.new_page()
            yield base, context, page
        finally:
            await browser.close()


async def sign_in(page: Page, base: str, email: str) -> None:
    await page.goto(f"{base}/app")
    await page.fill("#email", email)
    await page.fill("#password", PASSWORD)
    await page.tap("#sign-in-form button[type=submit]")
    await expect(page.locator("#today")).to_be_visible()


async def controlled(page: Page) -> None:
    """Until the app's service worker controls the page (it claims it once active)."""
    await page.evaluate("navigator.serviceWorker.ready")
    for _ in range(100):
        if await page.evaluate("navigator.serviceWorker.controller !== null"):
            return
        await asyncio.sleep(0.1)
    raise AssertionError("the service worker never took control of the page")


async def queue_of(page: Page) -> list[dict[str, Any]]:
    queue: list[dict[str, Any]] = await page.evaluate("TR.store.get('queue').then(q => q || [])")
    return queue


@NEEDS_CHROMIUM
async def test_the_app_installs_works_offline_once_loaded_and_signs_in_and_out(
    app: Litestar, conn: Connection
) -> None:
    day = await a_day(conn)
    async with phone(app) as (base, context, page):
        async with httpx.AsyncClient(base_url=base) as http:
            manifest = (await http.get("/app/manifest.webmanifest")).json()
            worker = await http.get("/app/worker.js")
            # What browsers ask of an installable app.
            assert (manifest["start_url"], manifest["scope"], manifest["display"]) == (
                "/app",
                "/app",
                "standalone",
            )
            assert all(manifest[k] for k in ("name", "short_name", "theme_color", "background_color"))
            sizes = {(i["sizes"], i.get("purpose", "any")) for i in manifest["icons"]}
            assert {("192x192", "any"), ("512x512", "any"), ("512x512", "maskable")} <= sizes
            for icon in manifest["icons"]:
                fetched = await http.get(icon["src"])
                assert fetched.headers["content-type"] == "image/png"
                assert fetched.content[:8] == b"\x89PNG\r\n\x1a\n"
                side = int(icon["sizes"].split("x")[0])
                assert (int.from_bytes(fetched.content[16:20]), int.from_bytes(fetched.content[20:24])) == (
                    side,
                    side,
                )
            assert worker.headers["service-worker-allowed"] == "/app"
        await page.goto(f"{base}/app")
        await expect(page.locator("#sign-in")).to_be_visible()
        await controlled(page)
        # The browser's own check: the manifest parsed without errors, with its icons.
        cdp = await context.new_cdp_session(page)
        parsed = await cdp.send("Page.getAppManifest")
        assert parsed["errors"] == [], parsed["errors"]
        assert json.loads(parsed["data"])["start_url"] == "/app"
        # A wrong password is told, and the form stays.
        await page.fill("#email", day.email)
        await page.fill("#password", "not the password")
        await page.tap("#sign-in-form button[type=submit]")
        await expect(page.locator("#sign-in-error")).to_have_text("Wrong email or password.")
        await sign_in(page, base, day.email)
        await expect(page.locator("#stops li")).to_have_count(2)
        assert await page.evaluate("TR.store.get('token').then(t => typeof t)") == "string"
        # Offline, the app still starts: its shell from the worker's cache, the day from the phone.
        await context.set_offline(True)
        await page.reload()
        await expect(page.locator("#stops li")).to_have_count(2)
        await expect(page.locator("#net")).to_have_text("Offline")
        await context.set_offline(False)
        # Touch targets: every button and link shown is at least 48 px tall.
        small = await page.evaluate(
            "Array.from(document.querySelectorAll('button, a.button')).filter(b => b.offsetParent)"
            ".map(b => [b.textContent.trim(), b.getBoundingClientRect().height]).filter(([, h]) => h < 48)"
        )
        assert small == []
        token = await page.evaluate("TR.store.get('token')")
        await page.tap("#sign-out")
        await expect(page.locator("#sign-in")).to_be_visible()
        assert await page.evaluate("TR.store.get('token')") is None
        # Signing out ended the session on the server too (within its token check's 5 s).
        async with httpx.AsyncClient(base_url=base, headers={"Authorization": f"Bearer {token}"}) as http:
            for _ in range(60):
                if (await http.get("/technicians/me")).status_code == 401:
                    break
                await asyncio.sleep(0.1)
            else:
                raise AssertionError("the token still works after signing out")
        assert await page.evaluate("window.policyViolations") == []
