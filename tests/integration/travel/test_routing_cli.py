"""`truckroll routing build` and `routing serve`: an operator's road router from an OpenStreetMap
extract, with the real OSRM programs (the tests skip without them unless the router is required)."""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import urllib.error
import urllib.request
from pathlib import Path

import pytest

from api.cli import main
from infra import osrm
from infra.osrm import free_port
from tests.road_router import EXTRACT, RoadRouter, programs_or_skip


@pytest.fixture(autouse=True)
def data_dir(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    monkeypatch.setenv("TRUCKROLL_DATA_DIR", str(tmp_path / "data"))
    return tmp_path / "data"


def test_routing_build_makes_road_data_and_says_what_to_set(
    data_dir: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    programs_or_skip()
    assert main(["routing", "build", str(EXTRACT)]) == 0
    out = capsys.readouterr().out
    data = data_dir / "routing" / "helsinki.osrm"
    assert f"road data: {data}" in out
    assert f"truckroll routing serve {data} --port 5000" in out
    assert "TRUCKROLL_ROUTING_URL=http://127.0.0.1:5000" in out
    assert Path(f"{data}.cell_metrics").is_file()
    assert not (data_dir / "routing" / EXTRACT.name).exists()  # the copy osrm-extract reads is gone


def test_routing_serve_answers_road_times_until_interrupted(road_router: RoadRouter) -> None:
    port = free_port()
    serving = subprocess.Popen(
        [sys.executable, "-m", "api.cli", "routing", "serve", str(road_router.data), "--port", str(port)],
        stdout=subprocess.PIPE,
        stderr=subprocess.DEVNULL,
        text=True,
        env={**os.environ, "TRUCKROLL_DATA_DIR": str(road_router.data.parent / "cli-data")},
    )
    try:
        assert serving.stdout is not None
        lines = iter(serving.stdout.readline, "")
        said = next(line for line in lines if line.startswith("TRUCKROLL_ROUTING_URL="))
        url = said.strip().split("=", 1)[1]
        assert url == f"http://127.0.0.1:{port}"
        with urllib.request.urlopen(f"{url}/table/v1/driving/24.9526,60.1675;24.9380,60.1650") as answer:  # noqa: S310
            table = json.load(answer)
        assert table["code"] == "Ok"
        assert 30 < table["durations"][0][1] < 600
        serving.send_signal(signal.SIGINT)  # Ctrl-C
        assert serving.wait(timeout=15) == 130
    finally:
        if serving.poll() is None:
            serving.kill()
            serving.wait()
        if serving.stdout is not None:
            serving.stdout.close()
    with pytest.raises(urllib.error.URLError, match="refused"):
        urllib.request.urlopen(f"{url}/table/v1/driving/24.9526,60.1675;24.9380,60.1650", timeout=2)  # noqa: S310


def test_serving_data_that_was_never_built_says_how_to_build_it(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    assert main(["routing", "serve", str(tmp_path / "nowhere.osrm")]) == 2
    err = capsys.readouterr().err
    assert "no road data at" in err
    assert "truckroll routing build" in err


def test_without_the_osrm_programs_build_says_how_to_get_them(
    monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    monkeypatch.setattr(osrm, "_wheel_dir", lambda: None)  # as if osrm-bindings were not installed
    monkeypatch.delenv("TRUCKROLL_OSRM_BIN_DIR", raising=False)
    monkeypatch.setenv("PATH", "/nonexistent")
    assert main(["routing", "build", str(EXTRACT)]) == 2
    err = capsys.readouterr().err
    assert "pip install osrm-bindings" in err
    assert "TRUCKROLL_OSRM_BIN_DIR" in err


def test_a_missing_extract_is_named(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["routing", "build", str(tmp_path / "area.osm.pbf")]) == 2
    assert "extract: no such file" in capsys.readouterr().err
