"""Travel times between places: one interface, two sources.

`GeodesicTravel` (the default) needs no network: road distance is the straight-line distance on
the WGS-84 ellipsoid times a circuity factor, driven at a territory's average speed, plus a fixed
overhead per stop (parking, walking to the door). Its one-to-many path is vectorised with numpy:
at city scale a local projection with the ellipsoid's radii of curvature at the mean latitude
agrees with geopy's exact geodesic to well under 0.1%, so ranking thousands of technicians never
calls geopy in a loop. `OsrmTravel` asks an OSRM-compatible `table` service, and only when one is
configured. Matching sees only `TravelTimes`.
"""

from __future__ import annotations

import enum
import logging
import math
import time
from collections.abc import Awaitable, Callable, Sequence
from dataclasses import dataclass
from typing import Protocol, cast

import httpx
import numpy as np
import numpy.typing as npt
from geopy.distance import geodesic

Point = tuple[float, float]  # latitude, longitude in degrees
Seconds = npt.NDArray[np.float64]
Points = npt.NDArray[np.float64]  # [k, 2]: latitude, longitude

WGS84_A = 6_378_137.0  # semi-major axis, m
WGS84_E2 = 6.694_379_990_14e-3  # first eccentricity squared
MEAN_RADIUS_M = 6_371_008.8

log = logging.getLogger("truckroll.travel")


def distance_m(a: Point, b: Point) -> float:
    """Exact geodesic distance (geopy, Karney's algorithm)."""
    return float(geodesic(a, b).meters)


def haversine_m(a: Point, b: Point) -> float:
    """Great-circle distance on the mean Earth radius: within 0.5% of the geodesic anywhere
    (poles and antimeridian included) at a fraction of geopy's cost, for judging whether a fix
    is believable, where the error does not matter."""
    lat1, lat2 = math.radians(a[0]), math.radians(b[0])
    dlat, dlon = lat2 - lat1, math.radians(b[1] - a[1])
    h = math.sin(dlat / 2) ** 2 + math.cos(lat1) * math.cos(lat2) * math.sin(dlon / 2) ** 2
    return 2 * MEAN_RADIUS_M * math.asin(min(1.0, math.sqrt(h)))


def pairwise_m(origins: npt.ArrayLike, destinations: npt.ArrayLike) -> npt.NDArray[np.float64]:
    """Distances between origins[i] and destinations[i] ([k, 2] arrays, or one point broadcast);
    vectorised, for the distances a city has (< ~100 km)."""
    a = np.asarray(origins, dtype=np.float64).reshape(-1, 2)
    b = np.asarray(destinations, dtype=np.float64).reshape(-1, 2)
    lat0, lon0 = np.radians(a[:, 0]), np.radians(a[:, 1])
    lat, lon = np.radians(b[:, 0]), np.radians(b[:, 1])
    mean_lat = (lat + lat0) / 2
    sin2 = np.sin(mean_lat) ** 2
    denominator = np.sqrt(1 - WGS84_E2 * sin2)
    meridional = WGS84_A * (1 - WGS84_E2) / denominator**3  # north-south radius of curvature
    prime_vertical = WGS84_A / denominator  # east-west radius of curvature
    # Longitudes wrap at the antimeridian: the short way round is the way to drive.
    dlon = (lon - lon0 + np.pi) % (2 * np.pi) - np.pi
    dy = (lat - lat0) * meridional
    dx = dlon * prime_vertical * np.cos(mean_lat)
    result: npt.NDArray[np.float64] = np.hypot(dx, dy)
    return result


@dataclass(frozen=True)
class Prepared:
    """Places in radians, prepared once for many one-to-many distance computations."""

    lat: npt.NDArray[np.float64]
    lon: npt.NDArray[np.float64]


def prepare(points: npt.ArrayLike) -> Prepared:
    array = np.asarray(points, dtype=np.float64).reshape(-1, 2)
    return Prepared(np.radians(array[:, 0]), np.radians(array[:, 1]))


def distances_to_prepared(origin: Point, places: Prepared) -> npt.NDArray[np.float64]:
    """As `pairwise_m` from one origin, with the radii of curvature taken at the origin's latitude
    (over a city they vary by a few parts in a hundred thousand): the fast path for ranking."""
    lat0, lon0 = math.radians(origin[0]), math.radians(origin[1])
    denominator = math.sqrt(1 - WGS84_E2 * math.sin(lat0) ** 2)
    meridional = WGS84_A * (1 - WGS84_E2) / denominator**3
    prime_vertical = WGS84_A / denominator
    dlon = (places.lon - lon0 + np.pi) % (2 * np.pi) - np.pi
    dy = (places.lat - lat0) * meridional
    dx = dlon * prime_vertical * np.cos((places.lat + lat0) / 2)
    result: npt.NDArray[np.float64] = np.hypot(dx, dy)
    return result


def distances_m(origin: Point, destinations: Sequence[Point] | npt.ArrayLike) -> npt.NDArray[np.float64]:
    """Distances from one point to many."""
    dest = np.asarray(destinations, dtype=np.float64).reshape(-1, 2)
    if not len(dest):
        return np.zeros(0)
    return pairwise_m(np.asarray(origin, dtype=np.float64)[None, :], dest)


@dataclass(frozen=True)
class TravelSettings:
    """A territory's driving: road distance = straight line × circuity; time = distance / speed + overhead."""

    circuity_factor: float = 1.3
    speed_kmh: float = 35.0
    stop_overhead_s: int = 120


class TravelTimes(Protocol):
    async def from_one(self, origin: Point, destinations: Sequence[Point] | Points) -> Seconds:
        """Seconds from the origin to each destination, in order (0 to the same point)."""
        ...

    async def to_one(self, origins: Sequence[Point] | Points, destination: Point) -> Seconds:
        """Seconds from each origin to the destination."""
        ...

    async def between(self, origins: Points, destinations: Points) -> Seconds:
        """Seconds from origins[i] to destinations[i], for [k, 2] arrays."""
        ...


class GeodesicTravel:
    def __init__(self, settings: TravelSettings) -> None:
        self.settings = settings

    def seconds(self, metres: npt.NDArray[np.float64]) -> Seconds:
        s = self.settings
        driving = metres * s.circuity_factor / (s.speed_kmh / 3.6)
        # Arriving where one already is costs nothing: no parking, no walk.
        result: Seconds = np.where(metres < 1.0, 0.0, driving + s.stop_overhead_s)
        return result

    async def from_one(self, origin: Point, destinations: Sequence[Point] | Points) -> Seconds:
        return self.seconds(distances_m(origin, destinations))

    async def to_one(self, origins: Sequence[Point] | Points, destination: Point) -> Seconds:
        return self.seconds(distances_m(destination, origins))  # the model is symmetric

    async def between(self, origins: Points, destinations: Points) -> Seconds:
        if not len(origins):
            return np.zeros(0)
        return self.seconds(pairwise_m(origins, destinations))


class FallbackReason(enum.StrEnum):
    """Why an estimate came from the straight-line model instead of the road router."""

    NO_ROUTE = "no_route"  # a null duration: a place snapped to a road piece nothing connects to
    CONNECTION = "connection"  # refused, dropped or reset (OSRM closes a reused one after 512)
    TIMEOUT = "timeout"
    SERVER_ERROR = "server_error"  # 5xx, or an answer that is not the table it should be
    REFUSED = "refused"  # a 4xx with an error code (NoSegment, TooBig, ...): asking again cannot help
    RESTING = "resting"  # the router failed twice in a row lately: not asked until it has rested


class TravelServiceError(RuntimeError):
    """The configured routing service failed; callers may fall back to the geodesic model."""

    def __init__(self, message: str, reason: FallbackReason) -> None:
        super().__init__(message)
        self.reason = reason


# Failures worth one more try: the next attempt gets a fresh connection or a less busy moment.
_TRANSIENT = frozenset({FallbackReason.CONNECTION, FallbackReason.TIMEOUT, FallbackReason.SERVER_ERROR})
# osrm-routed closes a connection idle for 5 s: let it go first, rather than race its close.
KEEPALIVE_S = 4.0
FALLBACK_LOG_EVERY_S = 60.0  # one warning per reason per minute, however many pings hit it
# A router that neither answers nor refuses (hung, or gone) would cost every technician's ETA two
# timeouts in turn, and a flush of many technicians minutes: after a request fails on its retry
# too, the model answers alone for this long, then the router is asked again.
REST_S = 30.0
_UNREACHABLE = frozenset({FallbackReason.CONNECTION, FallbackReason.TIMEOUT})


class OsrmTravel:
    """An OSRM-compatible `table` service (OSRM, or Valhalla/GraphHopper behind an adapter).

    One per process: its client keeps connections alive between requests (a ping's table takes
    about a millisecond; a new connection costs as much again). Alone it raises
    `TravelServiceError` after one retry and answers `inf` for a pair with no route; the travel
    the domain uses is `with_fallback(model)`, which turns both into the model's estimate."""

    def __init__(
        self,
        base_url: str,
        *,
        profile: str = "driving",
        stop_overhead_s: int = 120,
        client: httpx.AsyncClient | None = None,
        timeout_s: float = 2.0,
        on_fallback: Callable[[FallbackReason], None] | None = None,
    ) -> None:
        self.base_url = base_url.rstrip("/")
        self.profile = profile
        self.stop_overhead_s = stop_overhead_s
        self._client = client or httpx.AsyncClient(
            timeout=timeout_s, limits=httpx.Limits(max_keepalive_connections=20, keepalive_expiry=KEEPALIVE_S)
        )
        self._on_fallback = on_fallback
        self._resting_until = 0.0  # time.monotonic() before which the router is not asked
        self._logged_at: dict[FallbackReason, float] = {}
        self._unlogged: dict[FallbackReason, int] = {}

    def with_fallback(self, model: GeodesicTravel) -> RoutedTravel:
        return RoutedTravel(self, model)

    def fell_back(self, reason: FallbackReason, detail: str) -> None:
        """Count an estimate the model gave, and say so in the log at most once a minute per reason."""
        if self._on_fallback is not None:
            self._on_fallback(reason)
        now = time.monotonic()
        self._unlogged[reason] = self._unlogged.get(reason, 0) + 1
        last = self._logged_at.get(reason)
        if last is None or now - last >= FALLBACK_LOG_EVERY_S:
            log.warning(
                "road router: %d estimate(s) from the straight-line model (%s): %s",
                self._unlogged.pop(reason),
                reason.value,
                detail,
            )
            self._logged_at[reason] = now

    async def _ask(self, url: str, params: dict[str, str]) -> dict[str, object]:
        try:
            response = await self._client.get(url, params=params)
        except httpx.TimeoutException as error:
            raise TravelServiceError(
                f"no answer in time ({type(error).__name__})", FallbackReason.TIMEOUT
            ) from error
        except httpx.HTTPError as error:
            detail = f"{type(error).__name__} {error}".strip()
            raise TravelServiceError(detail, FallbackReason.CONNECTION) from error
        if response.status_code >= 500:
            raise TravelServiceError(f"HTTP {response.status_code}", FallbackReason.SERVER_ERROR)
        try:
            body = response.json()
        except ValueError as error:
            raise TravelServiceError(
                f"HTTP {response.status_code} without a JSON body", FallbackReason.SERVER_ERROR
            ) from error
        code = body.get("code") if isinstance(body, dict) else None
        if code != "Ok":
            message = body.get("message", "") if isinstance(body, dict) else ""
            reason = (
                FallbackReason.REFUSED if 400 <= response.status_code < 500 else FallbackReason.SERVER_ERROR
            )
            raise TravelServiceError(f"the routing service answered {code}: {message}", reason)
        answer: dict[str, object] = body
        return answer

    async def _get(self, service: str, points: Points, params: dict[str, str]) -> dict[str, object]:
        coordinates = ";".join(f"{lon:.6f},{lat:.6f}" for lat, lon in points)
        url = f"{self.base_url}/{service}/v1/{self.profile}/{coordinates}"
        # Without the snapped places and their hints the answer is ~40 times smaller (OSRM ≥ 5.25).
        params = {**params, "skip_waypoints": "true", "generate_hints": "false"}
        if time.monotonic() < self._resting_until:
            raise TravelServiceError("the router failed twice lately and is resting", FallbackReason.RESTING)
        try:
            return await self._ask(url, params)
        except TravelServiceError as error:
            if error.reason not in _TRANSIENT:
                raise
        try:
            # Once more: the pool drops a connection that failed, so this opens a fresh one.
            return await self._ask(url, params)
        except TravelServiceError as error:
            if error.reason in _UNREACHABLE:
                self._resting_until = time.monotonic() + REST_S
            raise

    async def _legs(self, points: Points) -> Seconds | None:
        """Seconds of each leg of one drive through `points` in order, from the route service:
        a search per leg, where OSRM's MLD table runs one per source (a 21-place chain costs
        ~20 times less). None when a leg has no route: the table then says which."""
        try:
            body = await self._get(
                "route", points, {"overview": "false", "steps": "false", "continue_straight": "false"}
            )
        except TravelServiceError as error:
            if error.reason is FallbackReason.REFUSED:
                return None
            raise
        try:
            routes = cast(list[dict[str, list[dict[str, float]]]], body["routes"])
            legs = np.asarray([float(leg["duration"]) for leg in routes[0]["legs"]], dtype=np.float64)
        except (KeyError, IndexError, TypeError, ValueError) as error:
            raise TravelServiceError(f"a route without legs: {error}", FallbackReason.SERVER_ERROR) from error
        if len(legs) != len(points) - 1:
            raise TravelServiceError("a route with the wrong number of legs", FallbackReason.SERVER_ERROR)
        result: Seconds = np.where(legs > 0, legs + self.stop_overhead_s, legs)
        return result

    async def routed_legs(self, points: Points) -> list[dict[str, object]] | None:
        """The legs of one drive through `points` in order, as the route service answers them
        with each segment's seconds and metres and each step's junctions, for learning and
        applying a time per road class (dispatch.travel.road_classes). None when it has no route."""
        params = {"overview": "false", "steps": "true", "annotations": "duration,distance"}
        try:
            body = await self._get("route", points, {**params, "continue_straight": "false"})
        except TravelServiceError as error:
            if error.reason is FallbackReason.REFUSED:
                return None
            raise
        try:
            legs = cast(list[dict[str, list[dict[str, object]]]], body["routes"])[0]["legs"]
        except (KeyError, IndexError, TypeError) as error:
            raise TravelServiceError(f"a route without legs: {error}", FallbackReason.SERVER_ERROR) from error
        if not isinstance(legs, list) or len(legs) != len(points) - 1:
            raise TravelServiceError("a route with the wrong number of legs", FallbackReason.SERVER_ERROR)
        return legs

    async def _table(self, points: Points, sources: list[int], destinations: list[int]) -> Seconds:
        """The durations matrix [sources, destinations] between the given points."""
        params = {
            "sources": ";".join(map(str, sources)),
            "destinations": ";".join(map(str, destinations)),
            "annotations": "duration",
        }
        durations = (await self._get("table", points, params)).get("durations")
        if not isinstance(durations, list):
            raise TravelServiceError("an Ok answer without durations", FallbackReason.SERVER_ERROR)
        # An unreachable destination comes back as null: treat it as unreachable, not as free.
        try:
            rows = [[math.inf if d is None else float(d) for d in row] for row in durations]
            matrix = np.asarray(rows, dtype=np.float64).reshape(len(sources), len(destinations))
        except (TypeError, ValueError) as error:
            raise TravelServiceError(
                f"a table of the wrong shape: {error}", FallbackReason.SERVER_ERROR
            ) from error
        result: Seconds = np.where(matrix > 0, matrix + self.stop_overhead_s, matrix)
        return result

    async def from_one(self, origin: Point, destinations: Sequence[Point] | Points) -> Seconds:
        dest = np.asarray(destinations, dtype=np.float64).reshape(-1, 2)
        if not len(dest):
            return np.zeros(0)
        unique, inverse = np.unique(dest, axis=0, return_inverse=True)
        points = np.concatenate([np.asarray(origin, dtype=np.float64)[None, :], unique])
        row = (await self._table(points, [0], list(range(1, len(points)))))[0]
        result: Seconds = row[inverse.ravel()]
        return result

    async def to_one(self, origins: Sequence[Point] | Points, destination: Point) -> Seconds:
        orig = np.asarray(origins, dtype=np.float64).reshape(-1, 2)
        if not len(orig):
            return np.zeros(0)
        unique, inverse = np.unique(orig, axis=0, return_inverse=True)
        points = np.concatenate([unique, np.asarray(destination, dtype=np.float64)[None, :]])
        column = (await self._table(points, list(range(len(unique))), [len(unique)]))[:, 0]
        result: Seconds = column[inverse.ravel()]
        return result

    async def between(self, origins: Points, destinations: Points) -> Seconds:
        if not len(origins):
            return np.zeros(0)
        if len(origins) > 1 and np.array_equal(origins[1:], destinations[:-1]):
            # A chain (the jobs ahead of a technician): its legs, rather than a matrix of them all.
            legs = await self._legs(np.concatenate([origins[:1], destinations]))
            if legs is not None:
                return legs
        # One matrix over the distinct places (a day's route has a handful), read at the pairs.
        unique, inverse = np.unique(np.concatenate([origins, destinations]), axis=0, return_inverse=True)
        inverse = inverse.ravel()
        k = len(origins)
        matrix = await self._table(unique, list(range(len(unique))), list(range(len(unique))))
        result: Seconds = matrix[inverse[:k], inverse[k:]]
        return result

    async def close(self) -> None:
        await self._client.aclose()


class RoutedTravel:
    """The road router with a territory's straight-line model behind it: a pair the router cannot
    route, or a router that fails twice, gets the model's estimate, so a ping is never lost to
    the router and no estimate is ever infinite."""

    def __init__(self, router: OsrmTravel, model: TravelTimes, *, via: TravelTimes | None = None) -> None:
        self.router = router
        self.model = model
        # What times the routed pairs: the router, or the router scaled by what was learned of it
        # (the model then carries what was learned of the model, never the router's factors).
        self.via: TravelTimes = via if via is not None else router

    async def _either(
        self, routed: Awaitable[Seconds], modelled: Callable[[], Awaitable[Seconds]]
    ) -> Seconds:
        """The router's answer; the model's, asked only when the router cannot give one."""
        try:
            seconds = await routed
        except TravelServiceError as error:
            self.router.fell_back(error.reason, str(error))
            return await modelled()
        missing = ~np.isfinite(seconds)
        if missing.any():
            self.router.fell_back(FallbackReason.NO_ROUTE, f"{int(missing.sum())} pair(s) without a route")
            seconds = np.where(missing, await modelled(), seconds)
        return seconds

    async def from_one(self, origin: Point, destinations: Sequence[Point] | Points) -> Seconds:
        return await self._either(
            self.via.from_one(origin, destinations), lambda: self.model.from_one(origin, destinations)
        )

    async def to_one(self, origins: Sequence[Point] | Points, destination: Point) -> Seconds:
        return await self._either(
            self.via.to_one(origins, destination), lambda: self.model.to_one(origins, destination)
        )

    async def between(self, origins: Points, destinations: Points) -> Seconds:
        return await self._either(
            self.via.between(origins, destinations), lambda: self.model.between(origins, destinations)
        )


def travel_source(settings: TravelSettings, routing_url: str | None) -> TravelTimes:
    """The configured routing service if there is one, else the geodesic model; nothing else
    reaches the network."""
    model = GeodesicTravel(settings)
    if routing_url:
        return OsrmTravel(routing_url, stop_overhead_s=settings.stop_overhead_s).with_fallback(model)
    return model
