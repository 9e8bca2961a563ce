"""Every answer carries the browser-side protections: a Content-Security-Policy with no inline
script and no foreign origin (but the tracking page's map tiles, images only), nosniff, no
framing, no Referer (the tracking URL holds its token);
the customer's tracking answers are never cached; and tracking tokens never reach the access log."""

from __future__ import annotations

import asyncio
import base64
import hashlib
import re
import signal
from datetime import timedelta
from html import escape
from pathlib import Path

import httpx
import msgspec
from litestar import Litestar
from litestar.testing import AsyncTestClient

from api.app import create_app
from api.static_files import STATIC
from dispatch.tracking.links import create_link
from infra.db import Connection
from infra.settings import Settings
from tests.conftest import Auth
from tests.factories_matching import at, job, north, site, territory
from tests.live_server import free_port, serve_command, wait_until_healthy

Client = AsyncTestClient[Litestar]


async def _link(conn: Connection) -> str:
    job_id = await job(conn, await site(conn, await territory(conn), north(1)), (8, 12))
    return (await create_link(conn, job_id, window_end_at=at(12), ttl=timedelta(days=30))).token


def _policy(header: str) -> dict[str, list[str]]:
    directives = (d.strip().split() for d in header.split(";") if d.strip())
    return {d[0]: d[1:] for d in directives}


def _assert_protected(response: httpx.Response) -> None:
    where = f"{response.request.method} {response.request.url.path} ({response.status_code})"
    policy = _policy(response.headers.get("Content-Security-Policy", ""))
    assert policy.get("default-src") == ["'self'"], where
    assert policy.get("script-src") == ["'self'"], where  # no inline script, no other origin
    assert policy.get("frame-ancestors") == ["'none'"], where
    assert policy.get("object-src") == ["'none'"], where
    assert response.headers.get("X-Content-Type-Options") == "nosniff", where
    assert response.headers.get("X-Frame-Options") == "DENY", where
    assert response.headers.get("Referrer-Policy") == "no-referrer", where


async def test_every_kind_of_answer_carries_the_protections(
    client: Client, conn: Connection, dispatcher: Auth
) -> None:
    token = await _link(conn)
    answers = [
        await client.get(f"/t/{token}"),
        await client.get("/t/not-a-link"),
        await client.get("/t/sw.js"),
        await client.get(f"/track/{token}"),
        await client.get("/track/not-a-link"),
        await client.get("/health"),
        await client.get("/customers"),
        await client.get("/customers", headers=dispatcher.headers),
        await client.get("/no/such/path"),
        await client.options("/customers"),
        await client.post("/customers", content=b"{", headers=dispatcher.headers),
        await client.get("/schema/openapi.json"),
        await client.get(STATIC.url("track.js")),
        await client.get(STATIC.url("track.css")),
        await client.get("/static/0000000000000000/track.js"),
    ]
    for response in answers:
        _assert_protected(response)


async def test_the_tracking_page_admits_images_from_the_tile_server_and_no_other_new_origin(
    client: Client, conn: Connection
) -> None:
    page = await client.get(f"/t/{await _link(conn)}")
    policy = _policy(page.headers["Content-Security-Policy"])
    assert policy["img-src"] == ["'self'", "data:", "https://tile.openstreetmap.org"]
    # Everything else as on every other answer; other answers admit no tile server.
    elsewhere = _policy((await client.get("/health")).headers["Content-Security-Policy"])
    assert {k: v for k, v in policy.items() if k != "img-src"} == {
        k: v for k, v in elsewhere.items() if k != "img-src"
    }
    assert elsewhere["img-src"] == ["'self'", "data:"]


async def test_the_tile_server_is_a_setting_and_the_page_and_its_policy_follow_it(
    conn: Connection, dsn: str, settings: Settings
) -> None:
    tiles = "https://{s}.maps.example.net:8443/base/{z}/{x}/{y}.png?key=a&b=c"
    credit = 'Map &copy; <a href="https://maps.example.net/terms">Example Maps</a>'
    mapped = msgspec.structs.replace(settings, map_tile_url=tiles, map_attribution=credit)
    token = await _link(conn)
    async with AsyncTestClient(app=create_app(mapped, dsn=dsn)) as client:
        page = await client.get(f"/t/{token}")
    assert _policy(page.headers["Content-Security-Policy"])["img-src"] == [
        "'self'",
        "data:",
        "https://*.maps.example.net:8443",
    ]
    # The page's script reads both from its map element (attribute values, escaped).
    assert f'data-tiles="{escape(tiles)}"' in page.text
    assert f'data-attribution="{escape(credit)}"' in page.text


async def test_the_customers_tracking_answers_are_never_cached(client: Client, conn: Connection) -> None:
    token = await _link(conn)
    for path in (f"/t/{token}", f"/track/{token}", f"/track/{token}/slots", "/track/not-a-link"):
        response = await client.get(path)
        assert response.headers.get("Cache-Control") == "no-store", path


async def test_the_tracking_page_has_no_inline_script_or_style(client: Client, conn: Connection) -> None:
    page = (await client.get(f"/t/{await _link(conn)}")).text
    gone = (await client.get("/t/not-a-link")).text
    for html in (page, gone):
        assert not re.search(r"<script(?![^>]*\ssrc=)[^>]*>", html), "an inline <script>"
        assert not re.search(r"\son[a-z]+\s*=", html), "an inline event handler"
        assert "<style" not in html
        assert not re.search(r"\sstyle\s*=", html)
    assert f'<script src="{STATIC.url("track.js")}"' in page


async def test_the_api_docs_page_has_a_policy_of_its_own_that_admits_only_what_it_loads(
    client: Client,
) -> None:
    # Swagger UI comes from its CDN and starts from one inline script: that origin and that
    # script's hash are admitted on this page only, no other script.
    response = await client.get("/schema/swagger")
    assert response.status_code == 200
    policy = _policy(response.headers["Content-Security-Policy"])
    html = response.text
    inline = re.findall(r"<script(?![^>]*\ssrc=)[^>]*>(.*?)</script>", html, re.S)
    assert len(inline) == 1
    digest = base64.b64encode(hashlib.sha256(inline[0].encode()).digest()).decode()
    assert sorted(policy["script-src"]) == sorted([f"'sha256-{digest}'", "https://cdn.jsdelivr.net"])
    assert sorted(policy["style-src"]) == sorted(["'unsafe-inline'", "https://cdn.jsdelivr.net"])
    assert policy["frame-ancestors"] == ["'none'"]
    assert policy["connect-src"] == ["'self'"]
    assert response.headers["Referrer-Policy"] == "no-referrer"


async def test_tracking_tokens_never_reach_the_access_log(conn: Connection, dsn: str, tmp_path: Path) -> None:
    token = await _link(conn)
    port = free_port()
    api = serve_command(dsn, tmp_path, port, log_level="INFO", capture=True)
    try:
        async with httpx.AsyncClient(base_url=f"http://127.0.0.1:{port}", timeout=10) as http:
            await wait_until_healthy(http)
            for path in (f"/t/{token}", f"/track/{token}", f"/track/{token}/slots?x=1", "/t/sw.js"):
                await http.get(path)
            await http.post(f"/track/{token}/rating", json={"stars": 9})
        api.send_signal(signal.SIGTERM)
        output, _ = await asyncio.to_thread(api.communicate, timeout=20)
    finally:
        if api.poll() is None:
            api.kill()
            api.wait()
    log = output.decode()
    assert token not in log
    assert '"GET /t/[token] HTTP/1.1" 200' in log, log
    assert '"GET /track/[token]/slots?x=1 HTTP/1.1"' in log, log
    assert '"GET /t/sw.js HTTP/1.1" 200' in log, log
