"""The API docs page (Swagger UI) in a real browser, under its own Content-Security-Policy. The
machine is offline, so the CDN's files are stand-ins served by the browser's request routing;
what is checked is the policy: the CDN's scripts and the page's one inline bootstrap run, and
nothing is refused."""

from __future__ import annotations

import re

from litestar import Litestar
from playwright.async_api import Route, async_playwright, expect

from tests.e2e.test_tracking_page import ARGS, CHROMIUM, NEEDS_CHROMIUM, WATCH_POLICY
from tests.live_server import serving

# Stands in for swagger-ui-bundle.js: renders the number of paths the page handed it.
BUNDLE = """
window.SwaggerUIBundle = function (config) {
  document.querySelector(config.dom_id).textContent =
    "paths: " + Object.keys(config.spec.paths).length;
};
SwaggerUIBundle.presets = { apis: {} };
SwaggerUIBundle.SwaggerUIStandalonePreset = {};
"""


async def _cdn(route: Route) -> None:
    url = route.request.url
    if url.endswith("swagger-ui-bundle.js"):
        await route.fulfill(body=BUNDLE, content_type="application/javascript")
    elif url.endswith(".js"):
        await route.fulfill(
            body="window.SwaggerUIStandalonePreset = {};", content_type="application/javascript"
        )
    elif url.endswith(".css"):
        await route.fulfill(body="#swagger-container { font-family: sans-serif; }", content_type="text/css")
    else:
        await route.fulfill(status=404, body="")


@NEEDS_CHROMIUM
async def test_the_docs_page_starts_swagger_ui_under_its_own_policy(app: Litestar) -> None:
    async with serving(app) as base, async_playwright() as pw:
        browser = await pw.chromium.launch(executable_path=CHROMIUM, headless=True, args=ARGS)
        try:
            context = await browser.new_context()
            await context.add_init_script(WATCH_POLICY)
            await context.route("https://cdn.jsdelivr.net/**", _cdn)
            page = await context.new_page()
            await page.goto(f"{base}/schema/swagger")
            await expect(page.locator("#swagger-container")).to_have_text(re.compile(r"^paths: \d+"))
            assert int((await page.text_content("#swagger-container") or "").split()[-1]) > 80
            assert await page.evaluate("window.policyViolations") == []
        finally:
            await browser.close()
