"""The OSRM road router beside the API: where its programs are, building road data, running it.

OSRM is a separate program. Its binaries and car profile come from the `osrm-bindings` wheel
(Python ≥ 3.12), a system package, the OSRM container image, or any directory named by
`TRUCKROLL_OSRM_BIN_DIR`. Nothing here downloads anything.
"""

from __future__ import annotations

import importlib.util
import os
import shutil
import socket
import subprocess
import time
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path

BIN_DIR_ENV = "TRUCKROLL_OSRM_BIN_DIR"
PROGRAMS = ("osrm-extract", "osrm-partition", "osrm-customize", "osrm-routed")
# Where the container image and distribution packages put the car profile.
_PROFILE_DIRS = (Path("/opt"), Path("/usr/share/osrm/profiles"), Path("/usr/local/share/osrm/profiles"))


class OsrmMissingError(RuntimeError):
    """The OSRM programs are not installed where Truckroll looks for them."""


@dataclass(frozen=True)
class OsrmPrograms:
    bin_dir: Path
    profiles_dir: Path | None

    def program(self, name: str) -> Path:
        return self.bin_dir / name

    def car_profile(self) -> Path:
        if self.profiles_dir is not None and (self.profiles_dir / "car.lua").is_file():
            return self.profiles_dir / "car.lua"
        raise OsrmMissingError(
            "no car profile (car.lua) found beside the OSRM programs; pass one with --profile"
        )


def _complete(bin_dir: Path) -> bool:
    return all(os.access(bin_dir / name, os.X_OK) for name in PROGRAMS)


def _wheel_dir() -> Path | None:
    """The `osrm` package's directory, found without importing it (its extension module needs
    Python ≥ 3.12; its programs do not)."""
    try:
        spec = importlib.util.find_spec("osrm")
    except (ImportError, ValueError):
        return None
    if spec is None or not spec.submodule_search_locations:
        return None
    return Path(next(iter(spec.submodule_search_locations)))


def _profiles_near(bin_dir: Path) -> Path | None:
    for candidate in (bin_dir.parent / "share" / "profiles", bin_dir.parent / "share" / "osrm" / "profiles"):
        if (candidate / "car.lua").is_file():
            return candidate
    for candidate in _PROFILE_DIRS:
        if (candidate / "car.lua").is_file():
            return candidate
    return None


def find_programs(env: Mapping[str, str] = os.environ) -> OsrmPrograms | None:
    """The OSRM programs: the configured directory, else the `osrm-bindings` package, else PATH."""
    candidates: list[Path] = []
    if configured := env.get(BIN_DIR_ENV):
        candidates.append(Path(configured))
    if (package := _wheel_dir()) is not None:
        candidates.append(package / "bin")
    if routed := shutil.which("osrm-routed"):
        candidates.append(Path(routed).resolve().parent)
    for bin_dir in candidates:
        if _complete(bin_dir):
            return OsrmPrograms(bin_dir, _profiles_near(bin_dir))
    return None


def require_programs(env: Mapping[str, str] = os.environ) -> OsrmPrograms:
    programs = find_programs(env)
    if programs is None:
        raise OsrmMissingError(
            "the OSRM programs (osrm-extract, osrm-partition, osrm-customize, osrm-routed) were not "
            f"found: `pip install osrm-bindings` (Python ≥ 3.12), or set {BIN_DIR_ENV} to the "
            "directory that holds them, or run the router from the OSRM container image"
        )
    return programs


def data_path(out_dir: Path, extract: Path) -> Path:
    """The base name OSRM gives the road data it builds from an extract (`area.osm.pbf` → `area.osrm`)."""
    name = extract.name
    for suffix in (".osm.pbf", ".osm.bz2", ".osm", ".pbf"):
        if name.endswith(suffix):
            name = name[: -len(suffix)]
            break
    return out_dir / f"{name}.osrm"


def build(
    programs: OsrmPrograms,
    extract: Path,
    out_dir: Path,
    *,
    profile: Path | None = None,
    threads: int | None = None,
) -> Path:
    """Build road data for the multi-level Dijkstra router (extract, partition, customize) from an
    OpenStreetMap extract; returns the `.osrm` base path `osrm-routed` serves."""
    out_dir.mkdir(parents=True, exist_ok=True)
    source = out_dir / extract.name
    if source.resolve() != extract.resolve():
        shutil.copyfile(extract, source)  # osrm-extract writes beside its input
    base = data_path(out_dir, extract)
    thread_args = ["--threads", str(threads)] if threads else []
    steps = [
        [str(programs.program("osrm-extract")), "-p", str(profile or programs.car_profile()), str(source)],
        [str(programs.program("osrm-partition")), str(base)],
        [str(programs.program("osrm-customize")), str(base)],
    ]
    for step in steps:
        done = subprocess.run(step + thread_args, capture_output=True, text=True, check=False)
        if done.returncode != 0:
            tail = "\n".join((done.stdout + done.stderr).strip().splitlines()[-5:])
            raise RuntimeError(f"{Path(step[0]).name} failed ({done.returncode}):\n{tail}")
    if source != extract:
        source.unlink(missing_ok=True)
    return base


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


@dataclass
class RunningRouter:
    """An `osrm-routed` process serving built road data on loopback."""

    process: subprocess.Popen[bytes]
    url: str
    log: Path

    def stop(self) -> None:
        if self.process.poll() is None:
            self.process.terminate()
            try:
                self.process.wait(timeout=10)
            except subprocess.TimeoutExpired:
                self.process.kill()
                self.process.wait()


def is_built(data: Path) -> bool:
    """Whether `data` (a `.osrm` base path) holds customized road data for the MLD router."""
    return all(Path(f"{data}.{part}").is_file() for part in ("properties", "partition", "cell_metrics"))


def routed_command(
    programs: OsrmPrograms,
    data: Path,
    *,
    port: int,
    host: str = "127.0.0.1",
    max_table_size: int = 1000,
    threads: int = 2,
) -> list[str]:
    """`osrm-routed` serving built data. Its default table limit (100 places) is below a day's
    plan for a busy territory; past the limit it refuses and the straight-line model answers."""
    return [
        str(programs.program("osrm-routed")),
        "--algorithm",
        "mld",
        "--ip",
        host,
        "--port",
        str(port),
        "--max-table-size",
        str(max_table_size),
        "--threads",
        str(threads),
        str(data),
    ]


def wait_listening(process: subprocess.Popen[bytes], host: str, port: int, timeout_s: float) -> bool:
    """Wait until the router accepts connections (it listens only once the road data is loaded);
    False if it exited or did not in time."""
    deadline = time.monotonic() + timeout_s
    while time.monotonic() < deadline:
        if process.poll() is not None:
            return False
        try:
            with socket.create_connection((host, port), timeout=1):
                return True
        except OSError:
            time.sleep(0.05)
    return False


def start_router(
    programs: OsrmPrograms,
    data: Path,
    *,
    port: int | None = None,
    host: str = "127.0.0.1",
    log: Path | None = None,
    max_table_size: int = 1000,
    threads: int = 2,
    ready_timeout_s: float = 30.0,
) -> RunningRouter:
    """Start `osrm-routed` on the built data and wait until it answers."""
    port = port or free_port()
    log = log or data.with_suffix(".routed.log")
    args = routed_command(
        programs, data, port=port, host=host, max_table_size=max_table_size, threads=threads
    )
    with log.open("wb") as out:
        process = subprocess.Popen(args, stdout=out, stderr=subprocess.STDOUT)
    router = RunningRouter(process, f"http://{host}:{port}", log)
    if wait_listening(process, host, port, ready_timeout_s):
        return router
    if process.poll() is not None:
        raise RuntimeError(f"osrm-routed exited ({process.returncode}): {log.read_text()[-500:]}")
    router.stop()
    raise RuntimeError(f"osrm-routed did not answer within {ready_timeout_s:.0f} s")
