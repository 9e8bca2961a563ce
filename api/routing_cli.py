"""`truckroll routing`: build road data for an area and run the road router beside the API.

The router is OSRM (a separate program; see infra/osrm.py for where its programs come from). An
operator builds the data once per extract update, serves it, and points TRUCKROLL_ROUTING_URL at
it; without that variable the API keeps the straight-line model and needs none of this.
"""

from __future__ import annotations

import argparse
import subprocess
import sys
from pathlib import Path

from infra import osrm
from infra.settings import Settings

DEFAULT_PORT = 5000  # osrm-routed's own default, and the port the deploy files use


def cmd_routing_build(settings: Settings, args: argparse.Namespace) -> int:
    extract = Path(args.extract)
    if not extract.is_file():
        print(f"error: extract: no such file: {extract}", file=sys.stderr)
        return 2
    if args.profile is not None and not Path(args.profile).is_file():
        print(f"error: --profile: no such file: {args.profile}", file=sys.stderr)
        return 2
    out_dir = Path(args.out) if args.out else settings.data_dir / "routing"
    try:
        programs = osrm.require_programs()
        print(f"building road data from {extract} (extract, partition, customize) ...", flush=True)
        data = osrm.build(
            programs,
            extract,
            out_dir,
            profile=Path(args.profile) if args.profile else None,
            threads=args.threads,
        )
    except osrm.OsrmMissingError as error:
        print(f"error: {error}", file=sys.stderr)
        return 2
    except RuntimeError as error:
        print(f"error: {error}", file=sys.stderr)
        return 1
    print(f"road data: {data}")
    print(f"serve it:  truckroll routing serve {data} --port {DEFAULT_PORT}")
    print(f"then set:  TRUCKROLL_ROUTING_URL=http://127.0.0.1:{DEFAULT_PORT}")
    return 0


def cmd_routing_serve(_: Settings, args: argparse.Namespace) -> int:
    data = Path(args.data)
    if not osrm.is_built(data):
        print(
            f"error: data: no road data at {data} (build it with `truckroll routing build EXTRACT.osm.pbf`;"
            " give the .osrm path it prints)",
            file=sys.stderr,
        )
        return 2
    try:
        programs = osrm.require_programs()
    except osrm.OsrmMissingError as error:
        print(f"error: {error}", file=sys.stderr)
        return 2
    command = osrm.routed_command(
        programs,
        data,
        port=args.port,
        host=args.host,
        max_table_size=args.max_table_size,
        threads=args.threads,
    )
    process = subprocess.Popen(command)
    try:
        if osrm.wait_listening(process, args.host, args.port, timeout_s=args.ready_timeout):
            host = "127.0.0.1" if args.host in ("0.0.0.0", "::") else args.host  # noqa: S104
            print(f"TRUCKROLL_ROUTING_URL=http://{host}:{args.port}", flush=True)
        return process.wait()
    except KeyboardInterrupt:
        return 130
    finally:
        if process.poll() is None:
            process.terminate()
            try:
                process.wait(timeout=10)
            except subprocess.TimeoutExpired:
                process.kill()
                process.wait()


def add_routing_commands(sub: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
    routing = sub.add_parser("routing", help="build road data and run the road router (OSRM)")
    steps = routing.add_subparsers(dest="routing_command", required=True)

    build = steps.add_parser("build", help="build road data from an OpenStreetMap extract (.osm.pbf)")
    build.add_argument("extract", help="an OpenStreetMap extract, e.g. from download.geofabrik.de")
    build.add_argument("--out", default=None, help="directory for the data (default: DATA_DIR/routing)")
    build.add_argument("--profile", default=None, help="an OSRM profile (default: OSRM's car.lua)")
    build.add_argument("--threads", type=int, default=None, help="threads per step (default: all cores)")
    build.set_defaults(handler=cmd_routing_build)

    serve = steps.add_parser("serve", help="run osrm-routed on built road data, in the foreground")
    serve.add_argument("data", help="the .osrm path `routing build` printed")
    serve.add_argument("--host", default="127.0.0.1", help="address to listen on (0.0.0.0: every interface)")
    serve.add_argument("--port", type=int, default=DEFAULT_PORT)
    serve.add_argument("--threads", type=int, default=2)
    serve.add_argument(
        "--max-table-size", type=int, default=1000, help="most places in one table request (default 1000)"
    )
    serve.add_argument("--ready-timeout", type=float, default=300.0, help=argparse.SUPPRESS)
    serve.set_defaults(handler=cmd_routing_serve)
