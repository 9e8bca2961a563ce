"""A synthetic city of a real city's size, and trips driven over its roads, for judging ETAs.

The city is about 25 x 25 km: a jittered street grid (residential every 250 m, tertiary, secondary
and primary lines among them), some residential blocks merged (streets missing, as in old towns
and estates), a motorway ring and a motorway through the centre joined to the streets only at
interchanges, and a meandering river that only the primaries and motorways bridge. It is written
as an OpenStreetMap XML file with `highway` and `maxspeed` tags, so OSRM builds road data from it.

Trips are driven over the same graph by a simulation that knows more than any router: drivers
take the fastest route at free-flow speed (as a router would), then meet the rush hour (main
roads slow most), wait at signals and junctions (longer at the rush hour), drive at their own
pace, and spend a minute or three parking. A phone pings every 30 s along the way.
"""

from __future__ import annotations

import heapq
import itertools
import math
import random
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path
from xml.sax.saxutils import quoteattr

SPACING_M = 250.0
LINES = 101  # grid lines each way: 25 km
LAT0, LON0 = 52.25, 4.75
M_PER_DEG_LAT = 111_195.0
M_PER_DEG_LON = M_PER_DEG_LAT * math.cos(math.radians(LAT0))
PING_S = 30.0


@dataclass(frozen=True)
class RoadClass:
    maxspeed_kmh: int  # the sign, as tagged for the router
    free_kmh: float  # what traffic really drives at off-peak
    peak_slowdown: float  # share of speed lost at the height of the rush hour
    signal_chance: float  # of a wait at a junction where this road is crossed or entered
    signal_mean_s: float


CLASSES = {
    "motorway": RoadClass(100, 80.0, 0.5, 0.0, 0.0),
    "motorway_link": RoadClass(60, 45.0, 0.3, 0.3, 20.0),
    "primary": RoadClass(60, 46.0, 0.4, 0.55, 28.0),
    "secondary": RoadClass(50, 38.0, 0.35, 0.4, 18.0),
    "tertiary": RoadClass(40, 31.0, 0.25, 0.2, 10.0),
    "residential": RoadClass(30, 22.0, 0.1, 0.05, 5.0),
}
RANK = {
    name: rank
    for rank, name in enumerate(
        ["residential", "tertiary", "secondary", "primary", "motorway_link", "motorway"]
    )
}


def line_class(index: int) -> str:
    if index % 20 == 10:
        return "primary"
    if index % 8 == 0:
        return "secondary"
    if index % 4 == 0:
        return "tertiary"
    return "residential"


MOTORWAY_LINES = (12, 50, 88)  # a ring at 12 and 88 each way, and a north-south one through the centre


def river_y(x: float) -> float:
    return 12_400 + 2_300 * math.sin(2 * math.pi * x / 14_000) + 900 * math.sin(2 * math.pi * x / 5_300 + 1)


@dataclass
class City:
    x: list[float] = field(default_factory=list)
    y: list[float] = field(default_factory=list)
    edges: list[tuple[int, int, str]] = field(default_factory=list)
    adjacency: list[list[tuple[int, float, str]]] = field(default_factory=list)
    street_nodes: list[int] = field(default_factory=list)  # where trips start and end

    def add_node(self, x: float, y: float) -> int:
        self.x.append(x)
        self.y.append(y)
        self.adjacency.append([])
        return len(self.x) - 1

    def add_edge(self, a: int, b: int, kind: str) -> None:
        length = math.hypot(self.x[a] - self.x[b], self.y[a] - self.y[b])
        self.edges.append((a, b, kind))
        self.adjacency[a].append((b, length, kind))
        self.adjacency[b].append((a, length, kind))

    def point(self, node: int) -> tuple[float, float]:
        return (LAT0 + self.y[node] / M_PER_DEG_LAT, LON0 + self.x[node] / M_PER_DEG_LON)

    def at(self, x: float, y: float) -> tuple[float, float]:
        return (LAT0 + y / M_PER_DEG_LAT, LON0 + x / M_PER_DEG_LON)


def build_city(seed: int = 5) -> City:
    rng = random.Random(seed)
    city = City()
    grid = [
        [
            city.add_node(j * SPACING_M + rng.uniform(-70, 70), i * SPACING_M + rng.uniform(-70, 70))
            for j in range(LINES)
        ]
        for i in range(LINES)
    ]

    def crosses_river(a: int, b: int) -> bool:
        return (city.y[a] - river_y(city.x[a])) * (city.y[b] - river_y(city.x[b])) < 0

    for i in range(LINES):
        for j in range(LINES):
            here = grid[i][j]
            for di, dj, kind in ((0, 1, line_class(i)), (1, 0, line_class(j))):
                if i + di >= LINES or j + dj >= LINES:
                    continue
                there = grid[i + di][j + dj]
                # Merged blocks: a third of residential streets and a tenth of tertiary ones are missing.
                if (kind == "residential" and rng.random() < 0.35) or (
                    kind == "tertiary" and rng.random() < 0.1
                ):
                    continue
                # Only primaries bridge the river.
                if crosses_river(here, there) and kind != "primary":
                    continue
                city.add_edge(here, there, kind)
    # Two diagonal avenues through the centre, bridging the river like the primaries.
    for k in range(LINES - 1):
        city.add_edge(grid[k][k], grid[k + 1][k + 1], "primary")
        city.add_edge(grid[k][LINES - 1 - k], grid[k + 1][LINES - 2 - k], "primary")
    # Motorways: nodes of their own beside the grid, joined to it every 2 km at interchanges.
    for index in MOTORWAY_LINES:
        for horizontal in (True, False):
            if index == 50 and horizontal:
                continue  # the centre has a north-south motorway only
            previous = None
            for k in range(LINES):
                street = grid[index][k] if horizontal else grid[k][index]
                node = city.add_node(
                    city.x[street] + (0 if horizontal else 40), city.y[street] + (40 if horizontal else 0)
                )
                if previous is not None:
                    city.add_edge(previous, node, "motorway")
                if k % 8 == 4:
                    city.add_edge(node, street, "motorway_link")
                previous = node
    # Trips start and end on streets reachable from the centre (merged blocks can cut a corner off).
    seen = {grid[LINES // 2][LINES // 2]}
    stack = list(seen)
    while stack:
        node = stack.pop()
        for other, _, _ in city.adjacency[node]:
            if other not in seen:
                seen.add(other)
                stack.append(other)
    city.street_nodes = [n for row in grid for n in row if n in seen]
    return city


def write_osm(city: City, path: Path) -> None:
    """The city as OpenStreetMap XML, one way per road segment."""
    with path.open("w", encoding="utf-8") as out:
        out.write("<?xml version='1.0' encoding='UTF-8'?>\n<osm version='0.6' generator='truckroll-bench'>\n")
        for node in range(len(city.x)):
            lat, lon = city.point(node)
            out.write(f"<node id='{node + 1}' version='1' lat='{lat:.7f}' lon='{lon:.7f}'/>\n")
        for way, (a, b, kind) in enumerate(city.edges):
            road = CLASSES[kind]
            tags = {"highway": kind, "maxspeed": str(road.maxspeed_kmh), "oneway": "no"}
            if (
                kind in ("motorway", "primary")
                and (city.y[a] - river_y(city.x[a])) * (city.y[b] - river_y(city.x[b])) < 0
            ):
                tags["bridge"] = "yes"
            tag_xml = "".join(f"<tag k={quoteattr(k)} v={quoteattr(v)}/>" for k, v in tags.items())
            out.write(
                f"<way id='{way + 1}' version='1'><nd ref='{a + 1}'/><nd ref='{b + 1}'/>{tag_xml}</way>\n"
            )
        river = "".join(f"<nd ref='{len(city.x) + k + 1}'/>" for k in range(126))
        for k in range(126):
            lat, lon = city.at(k * 200.0, river_y(k * 200.0))
            out.write(f"<node id='{len(city.x) + k + 1}' version='1' lat='{lat:.7f}' lon='{lon:.7f}'/>\n")
        out.write(f"<way id='{len(city.edges) + 1}' version='1'>{river}<tag k='waterway' v='river'/></way>\n")
        out.write("</osm>\n")


def fastest_path(city: City, start: int, goal: int) -> list[int]:
    """The route a driver (or a router) picks: fastest at free-flow speed."""
    best = {start: 0.0}
    came: dict[int, int] = {}
    queue = [(0.0, start)]
    while queue:
        cost, node = heapq.heappop(queue)
        if node == goal:
            break
        if cost > best[node]:
            continue
        for other, length, kind in city.adjacency[node]:
            candidate = cost + length / (CLASSES[kind].free_kmh / 3.6)
            if candidate < best.get(other, math.inf):
                best[other] = candidate
                came[other] = node
                heapq.heappush(queue, (candidate, other))
    path = [goal]
    while path[-1] != start:
        path.append(came[path[-1]])
    return path[::-1]


def rush(hour: float) -> float:
    """0 at night, 1 at the height of the morning (8:00) and evening (17:30) rush."""
    return max(math.exp(-((hour - 8.0) ** 2) / 1.5), math.exp(-((hour - 17.5) ** 2) / 2.0))


@dataclass(frozen=True)
class DrivenTrip:
    start: tuple[float, float]
    door: tuple[float, float]
    depart_s: float  # seconds after midnight, UTC
    arrive_s: float  # at the door, parked
    road_m: float
    pings: tuple[tuple[float, float, float], ...]  # (seconds after midnight, lat, lon)
    driver: int = 0
    # What the simulation expects is left from each ping (mean rush hour, mean waits, mean
    # parking, no luck either way): with the driver's own pace, and for a driver of average pace.
    expected_s: tuple[float, ...] = ()
    expected_average_pace_s: tuple[float, ...] = ()
    waits_s: float = 0.0  # at junctions and turns, as it happened

    @property
    def hour(self) -> int:
        return int(self.depart_s // 3600)


@dataclass(frozen=True)
class Step:
    """A road segment of a route, with the junction at its start."""

    length_m: float
    kind: str
    signal: RoadClass | None  # the junction's signals, None where there is no junction
    turn: bool  # onto another kind of road


PARKING_MEAN_S = 120.0
SPEED_NOISE = 0.08  # of a segment's speed: lognormal sigma
# The mean of 1 / lognormal(0, sigma): a segment's mean time is a touch longer than at mean speed.
MEAN_SLOWNESS = math.exp(SPEED_NOISE**2 / 2)


def steps_of(city: City, path: list[int]) -> list[Step]:
    out: list[Step] = []
    previous_kind = None
    for a, b in itertools.pairwise(path):
        length, kind = next((length, kind) for other, length, kind in city.adjacency[a] if other == b)
        signal = None
        if previous_kind is not None and len(city.adjacency[a]) > 2:
            signal = CLASSES[max((k for _, _, k in city.adjacency[a]), key=RANK.__getitem__)]
        out.append(Step(length, kind, signal, previous_kind is not None and kind != previous_kind))
        previous_kind = kind
    return out


def segment_s(step: Step, clock: float, pace: float) -> float:
    road = CLASSES[step.kind]
    return step.length_m / (road.free_kmh * (1 - road.peak_slowdown * rush(clock / 3600)) * pace / 3.6)


def expected_wait_s(step: Step, clock: float) -> float:
    if step.signal is None:
        return 0.0
    signalled = step.signal.signal_chance * step.signal.signal_mean_s * (1 + rush(clock / 3600))
    return signalled + (1 - step.signal.signal_chance) * (5.0 if step.turn else 0.0)


def expected_remaining_s(steps: list[Step], k: int, share: float, now: float, pace: float) -> float:
    """From `share` of the way through step k at `now`: the mean of what the simulation draws."""
    if k >= len(steps):
        return PARKING_MEAN_S
    clock = now + (1 - share) * (
        expected_wait_s(steps[k], now) + segment_s(steps[k], now, pace) * MEAN_SLOWNESS
    )
    for step in steps[k + 1 :]:
        clock += expected_wait_s(step, clock)
        clock += segment_s(step, clock, pace) * MEAN_SLOWNESS
    return clock - now + PARKING_MEAN_S


def drive(
    city: City, start: int, goal: int, depart_s: float, pace: float, rng: random.Random, driver: int = 0
) -> DrivenTrip:
    """Drive the fastest route, timing each segment by the hour, the road and the driver's pace."""
    path = fastest_path(city, start, goal)
    steps = steps_of(city, path)
    clock = depart_s
    timeline = [(clock, start)]
    road_m = 0.0
    waits = 0.0
    for step, b in zip(steps, path[1:], strict=True):
        jam = rush(clock / 3600)
        road = CLASSES[step.kind]
        before = clock
        if step.signal is not None:
            # A junction: signals on the busier of the roads met, longer waits at the rush hour.
            if rng.random() < step.signal.signal_chance:
                clock += rng.expovariate(1 / (step.signal.signal_mean_s * (1 + jam)))
            elif step.turn:
                clock += rng.uniform(2, 8)  # a turn onto another road
        waits += clock - before
        speed = road.free_kmh * (1 - road.peak_slowdown * jam) * pace * rng.lognormvariate(0, SPEED_NOISE)
        clock += step.length_m / (speed / 3.6)
        road_m += step.length_m
        timeline.append((clock, b))
    arrive = clock + rng.uniform(60, 180)  # parking and the walk to the door
    pings = tuple(_pings(city, timeline, depart_s, arrive))
    expected = tuple(_expected(steps, timeline, pings, pace))
    average = tuple(_expected(steps, timeline, pings, 1.0))
    return DrivenTrip(
        city.point(start), city.point(goal), depart_s, arrive, road_m, pings, driver, expected, average, waits
    )


def _expected(
    steps: list[Step],
    timeline: list[tuple[float, int]],
    pings: tuple[tuple[float, float, float], ...],
    pace: float,
) -> Iterator[float]:
    k = 0
    for t, _, _ in pings:
        while k + 1 < len(timeline) and timeline[k + 1][0] <= t:
            k += 1
        if k + 1 < len(timeline):
            t0, t1 = timeline[k][0], timeline[k + 1][0]
            share = (t - t0) / (t1 - t0) if t1 > t0 else 1.0
            yield expected_remaining_s(steps, k, share, t, pace)
        else:
            yield max(0.0, PARKING_MEAN_S - (t - timeline[-1][0]))


def _pings(
    city: City, timeline: list[tuple[float, int]], depart_s: float, arrive_s: float
) -> Iterator[tuple[float, float, float]]:
    t = depart_s
    k = 0
    while t < arrive_s:
        while k + 1 < len(timeline) and timeline[k + 1][0] <= t:
            k += 1
        if k + 1 < len(timeline):
            (t0, a), (t1, b) = timeline[k], timeline[k + 1]
            share = (t - t0) / (t1 - t0) if t1 > t0 else 1.0
            x = city.x[a] + (city.x[b] - city.x[a]) * share
            y = city.y[a] + (city.y[b] - city.y[a]) * share
        else:
            x, y = city.x[timeline[-1][1]], city.y[timeline[-1][1]]
        yield (t, *city.at(x, y))
        t += PING_S


def trips(city: City, count: int, seed: int = 17) -> list[DrivenTrip]:
    """Trips between streets 2 to 20 km apart in a straight line, leaving between 6:00 and 20:00,
    by 80 drivers each with a pace of their own."""
    rng = random.Random(seed)
    paces = [rng.lognormvariate(0, 0.1) for _ in range(80)]
    out: list[DrivenTrip] = []
    while len(out) < count:
        a, b = rng.choice(city.street_nodes), rng.choice(city.street_nodes)
        straight = math.hypot(city.x[a] - city.x[b], city.y[a] - city.y[b])
        if not 2_000 <= straight <= 20_000:
            continue
        depart_s = rng.uniform(6, 20) * 3600
        driver = rng.randrange(len(paces))  # draws as rng.choice(paces) did: the same trips
        out.append(drive(city, a, b, depart_s, paces[driver], rng, driver))
    return out
