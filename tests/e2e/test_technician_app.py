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
from playwright.async_api import BrowserContext, Geolocation, Page, Route, async_playwright, expect

from api.app import create_app
from dispatch.access.accounts import Role
from infra.db import Connection
from infra.settings import Settings
from tests.conftest import make_user
from tests.e2e.test_tracking_page import ARGS, CHROMIUM, NEEDS_CHROMIUM, SHOTS, WATCH_POLICY
from tests.factories_matching import north, site
from tests.integration.notifications.test_push import Browser, PushService, deliver, push_service, settings
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
        " ($1, $2, 2, 0.9, 'predicted'), ($1, $3, 1, 0.4, 'predicted'), ($4, $3, 1, 0.7, 'predicted')",
        jobs[0],
        spring,
        cable,
        jobs[1],
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


async def springs_on_the_van(conn: Connection, day: Day) -> int:
    count: int = await conn.fetchval(
        "SELECT quantity FROM stock_levels l JOIN stock_locations s ON s.id = l.location_id"
        " WHERE s.technician_id = $1 AND l.part_id = $2",
        day.technician,
        day.spring,
    )
    return count


async def bob_of(conn: Connection, day: Day) -> UUID:
    """Another technician of Ann's territory."""
    bob: UUID = await conn.fetchval(
        "INSERT INTO technicians (name, territory_id, home_latitude, home_longitude)"
        " SELECT 'Bob Doors', territory_id, home_latitude, home_longitude FROM technicians WHERE id = $1"
        " RETURNING id",
        day.technician,
    )
    return bob


async def tap_stop(page: Page, order: int) -> None:
    await page.locator("#stops button").nth(order - 1).tap()
    await expect(page.locator("#job")).to_be_visible()


@NEEDS_CHROMIUM
async def test_a_technician_works_the_day_from_sign_in_to_the_last_completion(
    app: Litestar, conn: Connection
) -> None:
    day = await a_day(conn)
    async with phone(app) as (base, _, page):
        await sign_in(page, base, day.email)
        # The route in order, each stop with its arrival window.
        stops = page.locator("#stops button")
        await expect(stops).to_have_count(2)
        await expect(stops.nth(0)).to_contain_text("1. ")
        await expect(stops.nth(0)).to_contain_text("4217 Xerxes Ave S")
        await expect(stops.nth(1)).to_contain_text("4218 Xerxes Ave S")
        await page.screenshot(path=SHOTS / "app-day.png")
        await tap_stop(page, 1)
        # What the technician will find: the door, its history and warranty, the customer's
        # choice and first name, the parts with what is on the van, the way there.
        await expect(page.locator("#job-title")).to_have_text("1. Broken spring")
        await expect(page.locator("#job-facts")).to_contain_text("Gate code 4711")
        await expect(page.locator("#job-facts")).to_contain_text("Pat")
        assert "Doe" not in (await page.text_content("#job-facts") or "")
        await expect(page.locator("#job-facts")).to_contain_text("replace")
        await expect(page.locator("#asset-name")).to_have_text("Clopay Classic 4050 (garage door)")
        await expect(page.locator("#asset-warranty")).to_have_text("Warranty: in warranty until 2030-05-01")
        await expect(page.locator("#asset-history")).to_have_text("Both springs replaced (2019-11)")
        await expect(page.locator("#parts li").nth(0)).to_contain_text("2 × Torsion spring .218")
        await expect(page.locator("#parts li").nth(0)).to_contain_text("on van")
        await expect(page.locator("#parts li").nth(1)).to_contain_text("not on van")
        assert (await page.get_attribute("#navigate", "href") or "").startswith("geo:")
        # No number to call before the job is in hand.
        await expect(page.locator("#call")).to_be_hidden()
        await page.screenshot(path=SHOTS / "app-job.png", full_page=True)
        await page.tap("#set-off")
        await expect(page.locator("#arrive")).to_be_visible()
        await expect(page.locator("#call")).to_have_text("Call Pat")
        assert await page.get_attribute("#call", "href") == "tel:+16125550100"
        await page.tap("#arrive")
        await expect(page.locator("#van")).to_be_visible()
        spring = page.locator(f"#van [data-part='{day.spring}']")
        await expect(spring.locator(".van-count")).to_have_text("3 on van")
        await spring.locator(".use-part").tap()
        await expect(spring.locator(".van-count")).to_have_text("2 on van")
        await spring.locator(".use-part").tap()
        await expect(spring.locator(".van-count")).to_have_text("1 on van")
        await page.screenshot(path=SHOTS / "app-job-on-site.png", full_page=True)
        await page.fill("#note-text", "Both springs replaced, door balanced.")
        await page.tap("#add-note")
        await page.tap("#complete")
        await expect(page.locator("#job-status")).to_have_text("Done")
        await expect(page.locator("#queue-count")).to_have_text("0", timeout=10_000)
        # The second visit: the cable it needed was not on the van, so it is left unfinished
        # with the part missing, and a follow-up is booked.
        await page.tap("#back")
        await tap_stop(page, 2)
        await page.tap("#set-off")
        await page.tap("#arrive")
        await page.fill("#incomplete-reason", "Cable frayed, none on the van")
        await page.locator("#incomplete-form label", has_text="Lift cable").tap()
        await page.tap("#incomplete")
        await expect(page.locator("#job-status")).to_have_text("Not finished")
        await expect(page.locator("#queue-count")).to_have_text("0", timeout=10_000)
        assert await page.evaluate("window.policyViolations") == []
    statuses = await conn.fetch(
        "SELECT id, status, outcome_reason FROM jobs WHERE technician_id = $1", day.technician
    )
    by_id = {r["id"]: (r["status"], r["outcome_reason"]) for r in statuses}
    assert by_id[day.jobs[0]] == ("completed", "")
    assert by_id[day.jobs[1]] == ("incomplete", "Cable frayed, none on the van")
    # The follow-up is booked with the missing cable on it.
    follow_up = await conn.fetch(
        "SELECT p.part_id, p.quantity FROM jobs j JOIN job_parts p ON p.job_id = j.id"
        " WHERE j.parent_job_id = $1",
        day.jobs[1],
    )
    assert [(p["part_id"], p["quantity"]) for p in follow_up] == [(day.cable, 1)]
    van = await springs_on_the_van(conn, day)
    assert van == 1
    notes = await conn.fetch("SELECT text FROM job_notes WHERE job_id = $1", day.jobs[0])
    assert [n["text"] for n in notes] == ["Both springs replaced, door balanced."]


async def customer_listening(conn: Connection, base: str, job_id: UUID, push_service: str) -> Browser:
    """The job's customer has the tracking page's notifications on (a browser of the test's)."""
    dispatcher = await make_user(conn, Role.DISPATCHER)
    browser = Browser()
    async with httpx.AsyncClient(base_url=base, headers=dispatcher.headers) as http:
        token = (await http.post(f"/jobs/{job_id}/tracking-links")).json()["token"]
        subscription = {"endpoint": f"{push_service}/push/customer", "keys": browser.keys()}
        subscribed = await http.post(f"/track/{token}/subscriptions", json=subscription)
        assert subscribed.status_code == 201, subscribed.text
    return browser


async def queue_drained(page: Page) -> None:
    for _ in range(200):
        if not [e for e in await queue_of(page) if e["state"] == "pending"]:
            return
        await asyncio.sleep(0.1)
    raise AssertionError(f"the queue was not sent: {await queue_of(page)}")


@NEEDS_CHROMIUM
async def test_a_visit_worked_offline_reaches_the_server_once_in_order_with_the_phones_times(
    app: Litestar, conn: Connection, dsn: str, push_service: str
) -> None:
    day = await a_day(conn)
    job_id = day.jobs[0]
    async with phone(app) as (base, context, page):
        customer = await customer_listening(conn, base, job_id, push_service)
        await sign_in(page, base, day.email)
        await controlled(page)
        await tap_stop(page, 1)
        await context.set_offline(True)
        await page.tap("#set-off")
        await page.tap("#arrive")
        spring = page.locator(f"#van [data-part='{day.spring}']")
        await spring.locator(".use-part").tap()
        await expect(spring.locator(".van-count")).to_have_text("2 on van")
        await page.tap("#complete")
        await expect(page.locator("#job-status")).to_have_text("Done")
        await expect(page.locator("#queue-count")).to_have_text("4")
        await page.tap("#queue-button")
        await expect(page.locator("#queue-list li")).to_have_count(4)
        await expect(page.locator("#queue-list li.pending")).to_have_count(4)
        await page.screenshot(path=SHOTS / "app-queue-offline.png")
        queued = await queue_of(page)
        assert [e["kind"] for e in queued] == ["status", "status", "parts", "status"]
        # Nothing has reached the server.
        assert await conn.fetchval("SELECT status FROM jobs WHERE id = $1", job_id) == "dispatched"
        await context.set_offline(False)
        await queue_drained(page)
        await expect(page.locator("#queue-empty")).to_be_visible()
        assert await page.evaluate("window.policyViolations") == []
    events = await conn.fetch(
        "SELECT to_status, client_at FROM job_events WHERE job_id = $1 AND to_status IS NOT NULL ORDER BY id",
        job_id,
    )
    phone_times = {
        e["body"].get("status"): datetime.fromisoformat(e["at"]) for e in queued if e["kind"] == "status"
    }
    assert [(e["to_status"], e["client_at"]) for e in events] == [
        ("en_route", phone_times["en_route"]),
        ("on_site", phone_times["on_site"]),
        ("completed", phone_times["completed"]),
    ]
    used = await conn.fetch(
        "SELECT part_id, quantity, client_at FROM job_parts_used WHERE job_id = $1", job_id
    )
    assert [(u["part_id"], u["quantity"], u["client_at"]) for u in used] == [
        (day.spring, 1, datetime.fromisoformat(queued[2]["at"]))
    ]
    van = await springs_on_the_van(conn, day)
    assert van == 2  # 3, one used, once
    # The customer hears each step once: on the way, arrived, done.
    await deliver(dsn)
    heard = [customer.read(p["body"])["kind"] for p in PushService.received if p["path"] == "/push/customer"]
    assert sorted(heard) == sorted(set(heard))
    assert {"on_the_way", "arrived", "completed"} <= set(heard), heard


@NEEDS_CHROMIUM
async def test_a_report_the_server_refuses_stays_on_the_phone_with_the_reason(
    app: Litestar, conn: Connection
) -> None:
    day = await a_day(conn)
    other = await bob_of(conn, day)
    async with phone(app) as (base, context, page):
        await sign_in(page, base, day.email)
        await tap_stop(page, 2)
        await context.set_offline(True)
        await page.tap("#set-off")
        await page.fill("#note-text", "Customer asked for a call first")
        await page.tap("#add-note")
        # Meanwhile the office gives the visit to Bob.
        await conn.execute("UPDATE jobs SET technician_id = $2 WHERE id = $1", day.jobs[1], other)
        await context.set_offline(False)
        await page.tap("#queue-button")
        refused = page.locator("#queue-list li.refused")
        await expect(refused).to_have_count(2, timeout=10_000)
        await expect(refused.nth(0).locator(".why")).to_contain_text("Refused: ")
        await expect(page.locator("#queue-count")).to_have_text("2")
        await page.screenshot(path=SHOTS / "app-queue-refused.png")
        why = await refused.nth(0).locator(".why").text_content()
        # Dismissed by the technician once read.
        await refused.nth(0).locator("button").tap()
        await expect(refused).to_have_count(1)
    assert await conn.fetchval("SELECT status FROM jobs WHERE id = $1", day.jobs[1]) == "dispatched"
    assert await conn.fetchval("SELECT count(*) FROM job_notes") == 0
    print("refused:", why)


@NEEDS_CHROMIUM
async def test_a_report_whose_answer_was_lost_is_sent_again_and_applied_once(
    app: Litestar, conn: Connection
) -> None:
    day = await a_day(conn)
    lost: list[int] = []

    async def lose_the_first_answer(route: Route) -> None:
        if lost:
            await route.continue_()
            return
        answer = await route.fetch()  # the server applied it; the phone never hears back
        lost.append(answer.status)
        await route.abort("connectionreset")

    async with phone(app) as (base, _, page):
        await sign_in(page, base, day.email)
        await page.route("**/technicians/me/events", lose_the_first_answer)
        await tap_stop(page, 1)
        await page.tap("#set-off")
        for _ in range(100):
            if lost:
                break
            await asyncio.sleep(0.1)
        assert lost == [200]
        await expect(page.locator("#queue-count")).to_have_text("1")
        await page.evaluate("TR.flush()")
        await queue_drained(page)
    events = await conn.fetch(
        "SELECT to_status FROM job_events WHERE job_id = $1 AND to_status IS NOT NULL", day.jobs[0]
    )
    assert [e["to_status"] for e in events] == ["en_route"]


async def wait_for(check: Any, what: str, seconds: float = 20) -> Any:
    for _ in range(int(seconds * 10)):
        found = await check()
        if found:
            return found
        await asyncio.sleep(0.1)
    raise AssertionError(f"waited {seconds} s for {what}")


async def drive(context: BrowserContext, start_km: float, step_m: float, steps: int) -> float:
    """The phone moves south a step each half second (at most 180 km/h between pings a second
    apart: believable, so the ETA uses them)."""
    km = start_km
    for _ in range(steps):
        km -= step_m / 1000
        lat, lon = north(km)
        await context.set_geolocation({"latitude": lat, "longitude": lon, "accuracy": 10})
        await asyncio.sleep(0.5)
    return km


@NEEDS_CHROMIUM
async def test_the_phone_sends_its_positions_on_shift_moves_the_customers_eta_and_sends_a_dead_zones_backlog(
    app: Litestar, conn: Connection
) -> None:
    day = await a_day(conn)
    job_id = day.jobs[0]
    planned = await conn.fetchval("SELECT eta_at FROM jobs WHERE id = $1", job_id)

    async def pings() -> list[Any]:
        return await conn.fetch(
            "SELECT recorded_at, latitude FROM technician_positions WHERE technician_id = $1 ORDER BY 1",
            day.technician,
        )

    async with phone(app) as (base, context, page):
        await sign_in(page, base, day.email)
        # On shift, at home 8 km north: the pings arrive with nothing in hand.
        await wait_for(pings, "a ping from the phone")
        await tap_stop(page, 1)
        await page.tap("#set-off")

        async def eta_after_set_off() -> Any:
            return await conn.fetchval(
                "SELECT eta_at FROM jobs WHERE id = $1 AND status = 'en_route'", job_id
            )

        set_off_eta = await wait_for(eta_after_set_off, "the set-off")
        # From 8 km out: 8 km x 1.3 circuity at 35 km/h and 2 min to park, about 20 min, not the
        # hour the plan said.
        assert set_off_eta < planned - timedelta(minutes=30)
        km = await drive(context, 8, 25, 24)  # 600 m closer in 12 s

        async def eta_moved() -> bool:
            eta = await conn.fetchval("SELECT eta_at FROM jobs WHERE id = $1", job_id)
            return bool(eta < set_off_eta - timedelta(seconds=30))

        await wait_for(eta_moved, "the ETA to move with the pings")
        # A dead zone: the pings wait on the phone, and go when the network is back.
        await context.set_offline(True)
        await drive(context, km, 25, 8)
        backlog = await page.evaluate("TR.store.get('pings').then(p => p || [])")
        assert len(backlog) >= 3
        await context.set_offline(False)
        await page.evaluate("TR.flush()")

        async def backlog_stored() -> bool:
            stored = {p["recorded_at"] for p in await pings()}
            return {datetime.fromisoformat(p["recorded_at"]) for p in backlog} <= stored

        await wait_for(backlog_stored, "the backlog on the server")
        assert await page.evaluate("TR.store.get('pings').then(p => (p || []).length)") == 0
    flagged = await conn.fetchval(
        "SELECT count(*) FROM technician_positions WHERE technician_id = $1 AND flagged IS NOT NULL",
        day.technician,
    )
    assert flagged == 0


def stand_in_push_service(endpoint: str, keys: dict[str, str]) -> str:
    """Headless Chromium has no push service to subscribe with: this init script gives the page's
    PushManager a subscription at the test's push service, with the test's browser keys, so what
    the server sends the technician is read as the phone would read it."""
    subscription = json.dumps({"endpoint": endpoint, "keys": keys, "expirationTime": None})
    return f"""
(() => {{
  const made = {subscription};
  const subscription = {{ endpoint: made.endpoint, toJSON: () => made }};
  let subscribed = false;
  PushManager.prototype.getSubscription = async function () {{ return subscribed ? subscription : null; }};
  PushManager.prototype.subscribe = async function () {{ subscribed = true; return subscription; }};
}})();
"""


@NEEDS_CHROMIUM
async def test_a_pinned_job_reaches_the_phone_as_a_notification_on_that_job(
    app: Litestar, conn: Connection, dsn: str, push_service: str
) -> None:
    day = await a_day(conn)
    job_id = day.jobs[1]
    phone_keys = Browser()
    async with phone(app) as (base, context, page):
        await context.add_init_script(stand_in_push_service(f"{push_service}/push/ann", phone_keys.keys()))
        await sign_in(page, base, day.email)
        await controlled(page)

        async def subscribed() -> bool:
            return bool(
                await conn.fetchval("SELECT count(*) FROM push_subscriptions WHERE user_id IS NOT NULL")
            )

        await wait_for(subscribed, "the phone's push subscription")
        dispatcher = await make_user(conn, Role.DISPATCHER)
        async with httpx.AsyncClient(base_url=base, headers=dispatcher.headers) as http:
            version = (await http.get(f"/jobs/{job_id}")).headers["etag"]
            pinned = await http.post(
                f"/jobs/{job_id}/pin", json={"reason": "Pat asked for Ann"}, headers={"If-Match": version}
            )
            assert pinned.status_code == 200, pinned.text
        await deliver(dsn)
        (push,) = [p for p in PushService.received if p["path"] == "/push/ann"]
        message = phone_keys.read(push["body"])
        assert (message["kind"], message["job_id"]) == ("job_pinned", str(job_id))
        # The phone's worker shows it, tagged with the job it opens.
        cdp = await context.new_cdp_session(page)
        registrations: list[dict[str, Any]] = []
        cdp.on("ServiceWorker.workerRegistrationUpdated", lambda e: registrations.extend(e["registrations"]))
        await cdp.send("ServiceWorker.enable")
        await wait_for(lambda: asyncio.sleep(0, registrations), "the worker's registration")
        active = [r for r in registrations if not r.get("isDeleted") and r["scopeURL"].endswith("/app")]
        await cdp.send(
            "ServiceWorker.deliverPushMessage",
            {"origin": base, "registrationId": active[-1]["registrationId"], "data": json.dumps(message)},
        )
        shown_js = (
            "navigator.serviceWorker.ready.then(r => r.getNotifications())"
            ".then(n => n.map(x => [x.title, x.tag, x.data.job_id]))"
        )

        async def shown() -> list[Any]:
            found: list[Any] = await page.evaluate(shown_js)
            return found

        notes = await wait_for(shown, "the notification")
        assert notes == [[message["title"], f"job-{job_id}", str(job_id)]]
        # A tap on it opens the app on that job. Headless Chromium cannot tap a notification, and
        # a click event the test makes is untrusted (its waitUntil throws), so the test calls
        # what the worker's click handler calls, with the notification's own data. Without a
        # real tap the browser refuses to focus the window; the navigation is what is checked.
        (worker,) = [w for w in context.service_workers if w.url.endswith("/app/worker.js")]
        refused = await worker.evaluate(
            "() => self.registration.getNotifications()"
            ".then(([n]) => self.openOnJob(n.data && n.data.job_id)).then(() => null, (e) => e.name)"
        )
        assert refused in (None, "InvalidAccessError")
        await expect(page.locator("#job")).to_be_visible()
        await expect(page.locator("#job-title")).to_have_text("2. Noisy door")
        assert page.url.endswith(f"/app#job={job_id}")


@NEEDS_CHROMIUM
async def test_running_late_and_calling_in_sick_reach_dispatch_once(app: Litestar, conn: Connection) -> None:
    day = await a_day(conn)
    etas = {r["id"]: r["eta_at"] for r in await conn.fetch("SELECT id, eta_at FROM jobs")}
    async with phone(app) as (base, _, page):
        await sign_in(page, base, day.email)
        await page.select_option("#late-minutes", "30")
        await page.tap("#late")
        await queue_drained(page)
        later = {r["id"]: r["eta_at"] for r in await conn.fetch("SELECT id, eta_at FROM jobs")}
        assert all(later[j] > etas[j] for j in day.jobs), (etas, later)
        await page.tap("#sick")
        await page.fill("#sick-reason", "Flu")
        await page.tap("#sick-confirm")
        await queue_drained(page)
        assert [e for e in await queue_of(page) if e["state"] == "refused"] == []
        # The day is given back: nothing left on the phone's route.
        await expect(page.locator("#no-stops")).to_be_visible(timeout=10_000)
    reports = await conn.fetch(
        "SELECT kind, minutes, reason FROM shift_reports WHERE technician_id = $1 ORDER BY id", day.technician
    )
    assert [(r["kind"], r["minutes"], r["reason"]) for r in reports] == [
        ("running_late", 30, ""),
        ("sick", None, "Flu"),
    ]
    jobs = await conn.fetch("SELECT status, technician_id FROM jobs")
    assert [(j["status"], j["technician_id"]) for j in jobs] == [("new", None), ("new", None)]


@NEEDS_CHROMIUM
async def test_another_technician_cannot_sign_in_over_reports_still_waiting_to_be_sent(
    app: Litestar, conn: Connection
) -> None:
    day = await a_day(conn)
    bob = await bob_of(conn, day)
    await make_user(conn, Role.TECHNICIAN, technician_id=bob, email="bob@example.com")
    async with phone(app) as (base, _, page):
        await sign_in(page, base, day.email)
        await page.route("**/technicians/me/events", lambda route: route.abort("internetdisconnected"))
        await tap_stop(page, 1)
        await page.tap("#set-off")
        await expect(page.locator("#queue-count")).to_have_text("1")
        await page.tap("#home")
        await page.tap("#sign-out")
        await page.fill("#email", "bob@example.com")
        await page.fill("#password", PASSWORD)
        await page.tap("#sign-in-form button[type=submit]")
        await expect(page.locator("#sign-in-error")).to_have_text(
            f"1 reports of {day.email} are still waiting to be sent: sign in as {day.email} first."
        )
        await page.unroute("**/technicians/me/events")
        await sign_in(page, base, day.email)
        await queue_drained(page)
    assert await conn.fetchval("SELECT status FROM jobs WHERE id = $1", day.jobs[0]) == "en_route"


@NEEDS_CHROMIUM
async def test_a_long_dead_zones_backlog_goes_in_batches_the_api_takes(
    app: Litestar, conn: Connection
) -> None:
    day = await a_day(conn)
    # 2,500 fixes a second apart at home, ending a minute ago: three batches of at most 1,000.
    end = datetime.now(UTC) - timedelta(minutes=1)
    lat, lon = north(8)
    backlog = [
        {"recorded_at": (end - timedelta(seconds=n)).isoformat(), "latitude": lat, "longitude": lon}
        for n in range(2500)
    ]
    sizes: list[int] = []
    async with phone(app) as (base, context, page):
        await sign_in(page, base, day.email)
        await context.set_offline(True)
        await page.evaluate("(pings) => TR.store.set('pings', pings)", backlog)
        page.on(
            "request",
            lambda r: (
                sizes.append(len(json.loads(r.post_data or "{}")["pings"]))
                if r.url.endswith("/technicians/me/positions")
                else None
            ),
        )
        await context.set_offline(False)
        await page.evaluate("TR.flush()")
        assert await page.evaluate("TR.store.get('pings').then(p => p.length)") == 0
    # (The phone's live fixes, a second apart, may join the last batch.)
    assert sizes[:2] == [1000, 1000]
    assert all(n <= 1000 for n in sizes)
    assert sum(sizes) >= 2500
    stored = await conn.fetchval(
        "SELECT count(*) FROM technician_positions WHERE technician_id = $1 AND recorded_at <= $2",
        day.technician,
        end,
    )
    assert stored == 2500


@NEEDS_CHROMIUM
async def test_work_queued_before_a_sign_out_waits_for_the_same_technician_and_is_not_lost(
    app: Litestar, conn: Connection
) -> None:
    """Signed out while offline with a report and pings waiting: when the network returns nothing
    is sent without a token (an unsigned request would be answered 401 and the work taken for
    refused); it all goes once the technician signs in again."""
    day = await a_day(conn)
    async with phone(app) as (base, context, page):
        await sign_in(page, base, day.email)
        await controlled(page)
        await tap_stop(page, 1)
        await context.set_offline(True)
        await page.tap("#set-off")
        await expect(page.locator("#queue-count")).to_have_text("1")
        pings = "TR.store.get('pings').then((p) => (p || []).length)"
        await wait_for(lambda: page.evaluate(pings), "a fix kept offline")
        await page.tap("#home")
        await page.tap("#sign-out")
        await expect(page.locator("#sign-in")).to_be_visible()
        await context.set_offline(False)
        await page.evaluate("window.dispatchEvent(new Event('online'))")
        await asyncio.sleep(2)
        assert [e["state"] for e in await queue_of(page)] == ["pending"]
        assert await page.evaluate(pings) >= 1
        assert await conn.fetchval("SELECT status FROM jobs WHERE id = $1", day.jobs[0]) == "dispatched"
        await sign_in(page, base, day.email)
        await queue_drained(page)
        assert [e["state"] for e in await queue_of(page) if e["state"] != "sent"] == []
    assert await conn.fetchval("SELECT status FROM jobs WHERE id = $1", day.jobs[0]) == "en_route"


# The lowest contrast of any visible text against the background it is drawn on (WCAG 2's
# relative luminance), walking up to the first element with an opaque background.
LOWEST_CONTRAST = """() => {
  const lum = (rgb) => {
    const [r, g, b] = rgb.map((v) => {
      v /= 255;
      return v <= 0.03928 ? v / 12.92 : ((v + 0.055) / 1.055) ** 2.4;
    });
    return 0.2126 * r + 0.7152 * g + 0.0722 * b;
  };
  const rgba = (text) => (text.match(/[\\d.]+/g) || []).map(Number);
  const background = (el) => {
    for (let e = el; e; e = e.parentElement) {
      const c = rgba(getComputedStyle(e).backgroundColor);
      if (c.length === 3 || (c.length === 4 && c[3] === 1)) return c.slice(0, 3);
    }
    return [255, 255, 255];
  };
  let lowest = [99, ""];
  for (const el of document.querySelectorAll("body *")) {
    const own = [...el.childNodes].some((n) => n.nodeType === 3 && n.textContent.trim());
    const box = el.getBoundingClientRect();
    if (!own || !box.width || !box.height || getComputedStyle(el).visibility === "hidden") continue;
    const a = lum(rgba(getComputedStyle(el).color).slice(0, 3)), b = lum(background(el));
    const ratio = (Math.max(a, b) + 0.05) / (Math.min(a, b) + 0.05);
    if (ratio < lowest[0]) lowest = [ratio, el.textContent.trim().slice(0, 40)];
  }
  return lowest;
}"""


@NEEDS_CHROMIUM
async def test_every_text_of_the_day_and_a_job_is_readable_in_daylight(
    app: Litestar, conn: Connection
) -> None:
    """Read outdoors on a phone: every text on the day and on a job stands at 4.5:1 against its
    background or better (WCAG AA for body text)."""
    day = await a_day(conn)
    async with phone(app) as (base, _, page):
        await sign_in(page, base, day.email)
        for view in ("day", "job"):
            if view == "job":
                await tap_stop(page, 1)
            ratio, text = await page.evaluate(LOWEST_CONTRAST)
            assert ratio >= 4.5, f"on the {view}, {text!r} stands at {ratio:.2f}:1"
