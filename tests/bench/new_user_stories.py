"""The README's stories as a new user drives them, through the HTTP API only, with data made from
scratch in an empty database: a company sets up (territory, parts, technicians with their
logins), the garage-door and windshield stories are booked and matched, a technician works a
visit (sets off with a position, arrives, uses parts, completes) while the customer follows the
tracking link, and a dispatcher overrides and reads the figures. Each step prints PASS or FAIL
with the HTTP status, then a total.

    .venv/bin/python -m tests.bench.new_user_stories
        starts `truckroll serve` as a new user would, on a throw-away data directory (its own
        PostgreSQL cluster), with an admin made by `truckroll create-user`
    .venv/bin/python -m tests.bench.new_user_stories --url http://127.0.0.1:8000 --email E --password P
        walks a server already running (an empty database; E/P an admin's login)

Exit status 0 when every step passes. tests/e2e/test_new_user_stories.py runs the same walk.
"""

from __future__ import annotations

import argparse
import asyncio
import os
import subprocess
import sys
import tempfile
from collections.abc import Iterator
from contextlib import contextmanager
from datetime import UTC, datetime, timedelta
from pathlib import Path

import httpx

from tests.bench.stories_company import open_up, set_up_the_company
from tests.bench.stories_customers import garage_door, windshield
from tests.bench.stories_day import technician_day
from tests.bench.stories_office import dispatcher_overrides, figures_and_accounts
from tests.bench.story_walk import PASSWORD, ZONE, Company, Walk
from tests.live_server import free_port, wait_until_healthy


async def run_stories(
    http: httpx.AsyncClient, admin_email: str, admin_password: str, *, echo: bool = True
) -> Walk:
    walk = Walk(http, echo=echo)
    now = datetime.now(UTC).astimezone(ZONE)
    company = Company(today=now.date(), tomorrow=now.date() + timedelta(days=1))
    await open_up(walk, admin_email, admin_password)
    await set_up_the_company(walk, company)
    await garage_door(walk, company)
    await windshield(walk, company)
    await technician_day(walk, company, now)
    await dispatcher_overrides(walk, company)
    await figures_and_accounts(walk, company)
    return walk


@contextmanager
def new_user_server() -> Iterator[tuple[str, str, str]]:
    """`truckroll migrate`, `create-user` and `serve` on a throw-away data directory, as the README
    says; yields the URL and the admin's login."""
    with tempfile.TemporaryDirectory(prefix="tr-") as data:
        env = {
            **{k: v for k, v in os.environ.items() if k != "DATABASE_URL"},
            "TRUCKROLL_DATA_DIR": data,
            "TRUCKROLL_PUSH_ALLOW_INSECURE": "1",
            "TRUCKROLL_LOG_LEVEL": "WARNING",
        }
        email = "admin@example.com"
        command = [sys.executable, "-m", "api.cli"]
        subprocess.run(
            [*command, "create-user", email, "--role", "admin"],
            input=PASSWORD + "\n",
            text=True,
            env=env,
            check=True,
            stdout=subprocess.DEVNULL,
        )
        port = free_port()
        log = Path(data) / "serve.log"
        with log.open("wb") as out:
            server = subprocess.Popen(
                [*command, "serve", "--port", str(port)], env=env, stdout=out, stderr=out
            )
            try:
                yield f"http://127.0.0.1:{port}", email, PASSWORD
            finally:
                server.send_signal(2)
                try:
                    server.wait(30)
                except subprocess.TimeoutExpired:
                    server.kill()
                    server.wait()
        print(f"\nserver log:\n{log.read_text()}", end="")


async def _walk(url: str, email: str, password: str) -> Walk:
    async with httpx.AsyncClient(base_url=url, timeout=60) as http:
        await wait_until_healthy(http)
        return await run_stories(http, email, password)


def main() -> int:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--url", help="a server already running (default: start one)")
    parser.add_argument("--email", default="admin@example.com")
    parser.add_argument("--password", default=PASSWORD)
    args = parser.parse_args()
    if args.url:
        walk = asyncio.run(_walk(args.url, args.email, args.password))
    else:
        with new_user_server() as (url, email, password):
            walk = asyncio.run(_walk(url, email, password))
    print(walk.summary())
    return 0 if all(step.passed for step in walk.steps) else 1


if __name__ == "__main__":
    sys.exit(main())
