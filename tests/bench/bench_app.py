"""What the technician app (/app) costs a phone, in Debian's Chromium on an emulated phone:
the bytes it transfers on a first load and on a warm start (its service worker installed), and
the time from the network coming back to a queue of 50 reports sent (a visit worked offline:
set off, arrive, parts, notes, complete), against uvicorn on loopback.

    python -m tests.bench.bench_app [--actions 50] [--runs 3]
"""

from __future__ import annotations

import argparse
import asyncio
import logging
import statistics
import tempfile
from collections import defaultdict
from pathlib import Path
from typing import Any

from litestar.enums import ScopeType
from litestar.types import ASGIApp, Message, Receive, Scope, Send
from playwright.async_api import Page, async_playwright

from api.app import create_app
from infra.db import connect
from infra.settings import Settings
from tests.bench.common import SECRET, scratch_database
from tests.e2e.test_technician_app import PHONE, a_day, controlled, sign_in
from tests.e2e.test_tracking_page import ARGS, CHROMIUM
from tests.live_server import serving

# Measured in the page: from the online event to the last report sent.
DRAIN_JS = """
() => new Promise((resolve) => {
  let started = null;
  const poll = async () => {
    const queue = (await TR.store.get("queue")) || [];
    if (started !== null && !queue.some((e) => e.state === "pending")) {
      const refused = queue.filter((e) => e.state === "refused").length;
      resolve({ ms: performance.now() - started, refused });
    } else setTimeout(poll, 5);
  };
  window.addEventListener("online", () => { started = performance.now(); poll(); }, { once: true });
})
"""


class Counted:
    """The app with the bytes it sends counted by path (headers and bodies as they leave, after
    compression): what the phone's requests cost, the service worker's own included."""

    def __init__(self, app: ASGIApp) -> None:
        self.app = app
        self.sent: dict[str, int] = defaultdict(int)

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != ScopeType.HTTP:
            await self.app(scope, receive, send)
            return
        path = scope["path"]

        async def counting(message: Message) -> None:
            if message["type"] == "http.response.start":
                self.sent[path] += sum(len(k) + len(v) + 4 for k, v in message.get("headers", []))
            elif message["type"] == "http.response.body":
                self.sent[path] += len(message.get("body", b""))
            await send(message)

        await self.app(scope, receive, counting)

    def taken(self) -> tuple[int, int]:
        """Bytes sent since the last call: the app's own files, and the API's answers."""
        app = sum(n for path, n in self.sent.items() if path.startswith(("/app", "/static/")))
        api = sum(self.sent.values()) - app
        self.sent.clear()
        return app, api


async def measure(actions: int) -> dict[str, float]:
    async with scratch_database() as dsn:
        conn = await connect(dsn)
        try:
            day = await a_day(conn)
        finally:
            await conn.close()
        settings = Settings(
            database_url=None, data_dir=Path(tempfile.mkdtemp()), jwt_secret=SECRET, risk_scan_s=0
        )
        app = Counted(create_app(settings, dsn=dsn))
        async with serving(app) as base, async_playwright() as pw:
            browser = await pw.chromium.launch(executable_path=CHROMIUM, headless=True, args=ARGS)
            context = await browser.new_context(
                viewport={"width": 360, "height": 740},
                is_mobile=True,
                has_touch=True,
                geolocation=PHONE,
                permissions=["geolocation"],
            )
            page = await context.new_page()
            await sign_in(page, base, day.email)
            await controlled(page)
            await page.wait_for_load_state("networkidle")
            first_app, first_api = app.taken()
            await page.reload()
            await page.wait_for_selector("#stops li")
            await page.wait_for_load_state("networkidle")
            warm_app, warm_api = app.taken()
            figures: dict[str, float] = {
                "first_app": first_app,
                "first_api": first_api,
                "warm_app": warm_app,
                "warm_api": warm_api,
            }
            figures["drain_ms"], figures["refused"] = await drain(page, context, day.jobs[0], actions)
            await browser.close()
    return figures


async def drain(page: Page, context: Any, job_id: Any, actions: int) -> tuple[float, float]:
    await page.goto(page.url.split("#")[0] + f"#job={job_id}")
    await page.wait_for_selector("#set-off")
    await context.set_offline(True)
    await page.tap("#set-off")
    await page.tap("#arrive")
    await page.wait_for_selector(".use-part")
    await page.locator(".use-part").first.tap()
    for n in range(actions - 4):
        await page.fill("#note-text", f"Note {n + 1}")
        await page.tap("#add-note")
    await page.tap("#complete")
    queued = await page.evaluate("TR.store.get('queue').then(q => q.length)")
    assert queued == actions, queued
    done = asyncio.create_task(page.evaluate(DRAIN_JS))
    await asyncio.sleep(0.2)  # the page's listener is in place
    await context.set_offline(False)
    result = await done
    return float(result["ms"]), float(result["refused"])


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--actions", type=int, default=50)
    parser.add_argument("--runs", type=int, default=3)
    args = parser.parse_args()
    logging.getLogger("httpx").setLevel(logging.WARNING)
    runs = [asyncio.run(measure(args.actions)) for _ in range(args.runs)]
    first = runs[0]
    for name, key in (("first load", "first"), ("warm start", "warm")):
        app_kb, api_kb = first[f"{key}_app"] / 1024, first[f"{key}_api"] / 1024
        print(f"{name}: app files {app_kb:.1f} KB, API answers {api_kb:.1f} KB")
    drains = [r["drain_ms"] for r in runs]
    print(
        f"online to queue empty, {args.actions} reports: median {statistics.median(drains):.0f} ms"
        f" (runs: {', '.join(f'{d:.0f}' for d in drains)}; refused: {sum(r['refused'] for r in runs):.0f})"
    )


if __name__ == "__main__":
    main()
