"""A walk through the HTTP API that records each step as PASS or FAIL with its status: what a new
user sees when they try the product, step by step, and where it stops them."""

from __future__ import annotations

import asyncio
import base64
import contextlib
import os
from collections.abc import AsyncIterator, Callable
from dataclasses import dataclass, field
from datetime import date, datetime, time, timedelta
from typing import Any
from zoneinfo import ZoneInfo

import httpx
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric import ec

Check = Callable[[Any], str | None]  # a problem with the answer's body, or None


@dataclass(frozen=True, slots=True)
class Step:
    name: str
    status: int | None
    problem: str | None

    @property
    def passed(self) -> bool:
        return self.problem is None


@dataclass(slots=True)
class Walk:
    http: httpx.AsyncClient
    echo: bool = True
    steps: list[Step] = field(default_factory=list)
    tokens: dict[str, str] = field(default_factory=dict)  # who -> bearer token

    def headers(self, who: str | None, extra: dict[str, str] | None = None) -> dict[str, str]:
        found = {} if who is None else {"Authorization": f"Bearer {self.tokens.get(who, 'none')}"}
        return {**found, **(extra or {})}

    def record(self, name: str, status: int | None, problem: str | None) -> None:
        step = Step(name, status, problem)
        self.steps.append(step)
        if self.echo:
            mark = "PASS" if step.passed else "FAIL"
            print(
                f"{len(self.steps):4d} {mark} {status or '---'} {name}"
                + (f"  ({problem})" if problem else "")
            )

    async def call(
        self,
        name: str,
        route: str,
        who: str | None,
        body: Any = None,
        *,
        params: dict[str, Any] | None = None,
        headers: dict[str, str] | None = None,
        expect: int | tuple[int, ...] | None = None,
        check: Check | None = None,
    ) -> Any:
        """`route` is "METHOD /path". The answer's JSON body (or its text), or None when the step
        failed."""
        method, url = route.split(" ", 1)
        try:
            response = await self.http.request(
                method, url, json=body, params=params, headers=self.headers(who, headers)
            )
        except httpx.HTTPError as error:
            self.record(name, None, f"{type(error).__name__}: {error}")
            return None
        wanted = (expect,) if isinstance(expect, int) else expect
        ok = response.status_code in wanted if wanted else 200 <= response.status_code < 300
        content: Any = response.text
        if "json" in response.headers.get("content-type", ""):
            content = response.json()
        problem = None if ok else f"expected {wanted or '2xx'}: {response.text[:300]}"
        if problem is None and check is not None:
            try:
                problem = check(content)
            except (KeyError, IndexError, TypeError, ValueError) as error:
                problem = f"unexpected answer ({type(error).__name__}: {error}): {response.text[:300]}"
        self.record(name, response.status_code, problem)
        return content if problem is None else None

    async def check_value(self, name: str, problem: str | None) -> None:
        """A step that looks at something already fetched."""
        self.record(name, None, problem)

    async def sign_in(self, who: str, email: str, password: str) -> bool:
        answer = await self.call(
            f"{who} signs in",
            "POST /auth/login",
            None,
            {"email": email, "password": password},
            check=lambda b: None if b.get("access_token") else "no access_token",
        )
        if answer is None:
            return False
        self.tokens[who] = answer["access_token"]
        return True

    @contextlib.asynccontextmanager
    async def listening(self, name: str, url: str, *, who: str | None) -> AsyncIterator[list[str]]:
        """Lines of a Server-Sent Events stream as they come, while the block runs."""
        lines: list[str] = []
        opened = asyncio.Event()

        async def read() -> None:
            try:
                async with self.http.stream("GET", url, headers=self.headers(who), timeout=None) as stream:
                    lines.append(f"HTTP {stream.status_code}")
                    opened.set()
                    async for line in stream.aiter_lines():
                        lines.append(line)
            finally:
                opened.set()

        reading = asyncio.create_task(read())
        with contextlib.suppress(TimeoutError):
            await asyncio.wait_for(opened.wait(), 10)
        first = lines[0] if lines else "nothing"
        self.record(
            name,
            int(first[5:]) if first.startswith("HTTP ") else None,
            None if first == "HTTP 200" else first,
        )
        try:
            yield lines
        finally:
            reading.cancel()
            with contextlib.suppress(asyncio.CancelledError, httpx.HTTPError):
                await reading

    async def heard(self, name: str, lines: list[str], wanted: str, *, within_s: float = 5.0) -> None:
        """A step that passes once a line containing `wanted` has come on a stream."""
        for _ in range(int(within_s * 20)):
            if any(wanted in line for line in lines):
                self.record(name, 200, None)
                return
            await asyncio.sleep(0.05)
        self.record(name, 200, f"nothing with {wanted!r} within {within_s:.0f} s; heard {lines[-5:]}")

    def summary(self) -> str:
        passed = sum(step.passed for step in self.steps)
        return f"{passed} of {len(self.steps)} steps pass"


def browser_push_subscription(endpoint: str) -> dict[str, Any]:
    """What a browser's PushSubscription.toJSON() holds: a P-256 key and an auth secret."""
    key = ec.generate_private_key(ec.SECP256R1()).public_key()
    point = key.public_bytes(serialization.Encoding.X962, serialization.PublicFormat.UncompressedPoint)
    return {
        "endpoint": endpoint,
        "keys": {"p256dh": _b64(point), "auth": _b64(os.urandom(16))},
    }


def _b64(raw: bytes) -> str:
    return base64.urlsafe_b64encode(raw).rstrip(b"=").decode()


def equal(what: str, expected: Any, actual: Any) -> str | None:
    return None if expected == actual else f"{what}: expected {expected!r}, got {actual!r}"


ZONE = ZoneInfo("America/Chicago")
PASSWORD = "a long enough password 2026"
# A push service nobody serves: no worker runs, so nothing is sent there.
PUSH_ENDPOINT = "http://127.0.0.1:9/push/tracking-page"
XERXES = (44.9213, -93.3190)  # 4217 Xerxes Ave S, Minneapolis
GRAND = (44.9399, -93.1668)  # 1580 Grand Ave, Saint Paul
KM_NORTH = 0.008993  # degrees of latitude in a kilometre


@dataclass
class Company:
    """What the walk made, by name."""

    today: date
    tomorrow: date
    ids: dict[str, str] = field(default_factory=dict)
    tracking_token: str = ""

    def window(self, day: date, start_h: int, end_h: int) -> dict[str, str]:
        return {
            "window_start_at": local(day, start_h).isoformat(),
            "window_end_at": local(day, end_h).isoformat(),
        }


def local(day: date, hour: float) -> datetime:
    return datetime.combine(day, time(0), tzinfo=ZONE) + timedelta(hours=hour)


def quarter(moment: datetime) -> datetime:
    return moment.replace(minute=moment.minute - moment.minute % 15, second=0, microsecond=0)


def job_of(body: Any) -> Any:
    return body.get("job", body)


async def current_etag(walk: Walk, job: str) -> str:
    answer = await walk.http.get(f"/jobs/{job}", headers=walk.headers("dispatcher"))
    return str(answer.headers.get("etag", '"0"'))
