"""Stopping on purpose is not an error: a process shutting down logs no warning, and the push
worker says what it serves when it starts."""

from __future__ import annotations

import asyncio
import logging
import os
import signal
import subprocess
import sys
from pathlib import Path
from urllib.parse import urlsplit

from litestar.testing import AsyncTestClient

from api.app import create_app
from infra.settings import Settings
from tests.integration.notifications.test_push import KEYS


class _Kept(logging.Handler):
    def __init__(self) -> None:
        super().__init__(logging.WARNING)
        self.messages: list[str] = []

    def emit(self, record: logging.LogRecord) -> None:
        self.messages.append(record.getMessage())


async def test_shutting_down_is_not_losing_the_fleet_change_listener(settings: Settings, dsn: str) -> None:
    app = create_app(settings, dsn=dsn)
    kept = _Kept()
    logging.getLogger("truckroll").addHandler(kept)
    try:
        async with AsyncTestClient(app=app) as client:
            for _ in range(100):
                if app.state.fleet_cache.live:
                    break
                await asyncio.sleep(0.05)
            assert app.state.fleet_cache.live
            assert (await client.get("/health")).status_code == 200
    finally:
        logging.getLogger("truckroll").removeHandler(kept)
    assert not app.state.fleet_cache.live
    assert kept.messages == []


def _start_worker(dsn: str, data_dir: Path) -> subprocess.Popen[str]:
    env = {
        **os.environ,
        "DATABASE_URL": dsn,
        "TRUCKROLL_DATA_DIR": str(data_dir),
        "TRUCKROLL_VAPID_PRIVATE_KEY": KEYS.private_key,
        "TRUCKROLL_VAPID_PUBLIC_KEY": KEYS.public_key,
        "TRUCKROLL_LOG_LEVEL": "INFO",
    }
    return subprocess.Popen(
        [sys.executable, "-m", "api.cli", "worker"],
        env=env,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )


async def test_the_worker_says_what_it_serves_and_stops_on_ctrl_c_without_a_warning(
    dsn: str, tmp_path: Path
) -> None:
    running = _start_worker(dsn, tmp_path)
    try:
        assert running.stdout is not None
        banner = await asyncio.wait_for(asyncio.to_thread(running.stdout.readline), 30)
        await asyncio.sleep(1.0)  # listening on the outbox's channel
        running.send_signal(signal.SIGINT)
        out, err = await asyncio.to_thread(running.communicate, timeout=30)
    finally:
        if running.poll() is None:
            running.kill()
            running.wait()
    assert running.returncode == 0
    assert banner.startswith("Truckroll push worker: sending the outbox of database ")
    assert "lease 30 s" in banner
    assert "http push endpoints refused" in banner
    password = urlsplit(dsn).password
    assert password is None or password not in banner
    assert KEYS.private_key not in banner
    assert "WARNING" not in err, err
    assert "worker stopped" in out
