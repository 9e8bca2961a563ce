"""The pages' scripts, styles and vendored libraries are linked at URLs that hold their content's
hash, so browsers keep them for a year; a URL whose hash is not the file's is 404."""

from __future__ import annotations

import hashlib
import re
from datetime import timedelta

from litestar import Litestar
from litestar.testing import AsyncTestClient

from api.static_files import STATIC
from dispatch.tracking.links import create_link
from infra.db import Connection
from tests.factories_matching import at, job, north, site, territory

Client = AsyncTestClient[Litestar]
FOREVER = "public, max-age=31536000, immutable"


async def _page(client: Client, conn: Connection) -> str:
    job_id = await job(conn, await site(conn, await territory(conn), north(1)), (8, 12))
    token = (await create_link(conn, job_id, window_end_at=at(12), ttl=timedelta(days=30))).token
    return (await client.get(f"/t/{token}")).text


async def test_the_page_links_its_script_and_style_at_hashed_urls_cached_for_a_year(
    client: Client, conn: Connection
) -> None:
    page = await _page(client, conn)
    linked = re.findall(r'(?:src|href)="(/static/[0-9a-f]{16}/[^"]+)"', page)
    assert sorted(url.rsplit("/", 1)[1] for url in linked) == ["track.css", "track.js"]
    for url in linked:
        response = await client.get(url)
        assert response.status_code == 200, url
        assert response.headers["Cache-Control"] == FOREVER
        # The hash in the URL is the first 64 bits of the content's SHA-256.
        assert url.split("/")[2] == hashlib.sha256(response.content).hexdigest()[:16]
    script = await client.get(next(u for u in linked if u.endswith(".js")))
    assert script.headers["content-type"].startswith("text/javascript")


async def test_the_vendored_map_library_is_served_whole_with_its_licence(client: Client) -> None:
    script = await client.get(STATIC.url("vendor/leaflet/leaflet.js"))
    assert script.status_code == 200
    assert script.headers["Cache-Control"] == FOREVER
    assert script.text.startswith("/* @preserve\n * Leaflet 1.9.4")
    style = await client.get(STATIC.url("vendor/leaflet/leaflet.css"))
    assert style.headers["content-type"].startswith("text/css")
    assert ".leaflet-container" in style.text
    licence = await client.get(STATIC.url("vendor/leaflet/LICENSE"))
    assert licence.text.startswith("BSD 2-Clause License")


async def test_a_hash_that_is_not_the_files_is_404_and_never_cached_for_long(
    client: Client, conn: Connection
) -> None:
    page = await _page(client, conn)
    url = re.findall(r'src="(/static/[0-9a-f]{16}/track.js)"', page)[0]
    digest = url.split("/")[2]
    wrong = "0" * 16 if digest != "0" * 16 else "1" * 16
    for path in (
        url.replace(digest, wrong),
        url.replace("track.js", "track.css"),  # another file's name under this file's hash
        f"/static/{digest}/../track.js",
        "/static/track.js",  # the unhashed name is not served
    ):
        response = await client.get(path)
        assert response.status_code == 404, path
        assert response.headers["Cache-Control"] == "no-store", path
