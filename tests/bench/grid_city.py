"""A synthetic city as an OpenStreetMap XML file that osrm-extract accepts: a grid of side streets
(30 km/h) every 100 m, secondary roads (50 km/h) every kilometre and primary arterials (70 km/h)
every 4 km, over `size_km` × `size_km`. A few side-street blocks are missing, so trips detour as
they do in a real city. Roads are two-way; coordinates are a made-up place on the 45th parallel.

    python -m tests.bench.grid_city OUT.osm [--size-km 20] [--block-m 100] [--seed 1]
"""

from __future__ import annotations

import argparse
import math
import random
from pathlib import Path

ORIGIN = (45.0, 7.0)  # south-west corner
KM_LAT = 1 / 111.2  # degrees of latitude per km
MISSING = 0.08  # share of side-street blocks that are not there


def road_class(line: int, blocks_per_km: int) -> tuple[str, int]:
    if line % (4 * blocks_per_km) == 0:
        return "primary", 70
    if line % blocks_per_km == 0:
        return "secondary", 50
    return "residential", 30


def write_city(
    out: Path, *, size_km: float = 20.0, block_m: float = 100.0, seed: int = 1
) -> tuple[float, float, float, float]:
    """Write the city; returns its bounding box (south, west, north, east)."""
    rng = random.Random(seed)
    lines = round(size_km * 1000 / block_m) + 1
    blocks_per_km = round(1000 / block_m)
    km_lon = KM_LAT / math.cos(math.radians(ORIGIN[0]))
    step_lat, step_lon = block_m / 1000 * KM_LAT, block_m / 1000 * km_lon

    def node(i: int, j: int) -> int:  # i: row (south to north), j: column (west to east)
        return 1 + i * lines + j

    with out.open("w") as f:
        f.write(
            "<?xml version='1.0' encoding='UTF-8'?>\n<osm version='0.6' generator='truckroll grid_city'>\n"
        )
        for i in range(lines):
            for j in range(lines):
                lat, lon = ORIGIN[0] + i * step_lat, ORIGIN[1] + j * step_lon
                f.write(f"<node id='{node(i, j)}' version='1' lat='{lat:.7f}' lon='{lon:.7f}'/>\n")
        way_id = 1
        for horizontal in (True, False):
            for line in range(lines):
                highway, maxspeed = road_class(line, blocks_per_km)
                run: list[int] = []
                for k in range(lines):
                    run.append(node(line, k) if horizontal else node(k, line))
                    cut = highway == "residential" and k < lines - 1 and rng.random() < MISSING
                    if cut or k == lines - 1:
                        if len(run) > 1:
                            refs = "".join(f"<nd ref='{n}'/>" for n in run)
                            f.write(
                                f"<way id='{way_id}' version='1'>{refs}<tag k='highway' v='{highway}'/>"
                                f"<tag k='maxspeed' v='{maxspeed}'/></way>\n"
                            )
                            way_id += 1
                        run = [] if cut else run
        f.write("</osm>\n")
    return ORIGIN[0], ORIGIN[1], ORIGIN[0] + (lines - 1) * step_lat, ORIGIN[1] + (lines - 1) * step_lon


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("out", type=Path)
    parser.add_argument("--size-km", type=float, default=20.0)
    parser.add_argument("--block-m", type=float, default=100.0)
    parser.add_argument("--seed", type=int, default=1)
    args = parser.parse_args()
    print(write_city(args.out, size_km=args.size_km, block_m=args.block_m, seed=args.seed))


if __name__ == "__main__":
    main()
