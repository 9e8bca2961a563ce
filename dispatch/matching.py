"""Ranking technicians for one job: who may take it, where it fits in their day, what it costs.

Every term of the score is in minutes of a dispatcher's time, so the weights read as "how many
minutes of driving is this worth": added driving (a depot detour's included), lateness risk (the
slack the day keeps after the job, under an hour costs half a minute per minute missing), parts
(an uncovered probable part costs an hour: the price of coming back), over-qualification (five
minutes per skill level above what the job needs), continuity (twenty minutes off for who served
this asset before, thirty for the customer's preferred technician) and workload (thirty minutes
times the share of the shift already booked). Lower is better.

Everything across technicians is computed on arrays; only the candidates shown get their reasons
written out.
"""

from __future__ import annotations

import math
from collections import Counter
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime
from uuid import UUID
from zoneinfo import ZoneInfo

import msgspec
import numpy as np
import numpy.typing as npt

from dispatch.eligibility import Exclusion, lacks_skill
from dispatch.route_plan import Day, Insertions, RoutePlans, build
from dispatch.route_queries import DepotRow, TechnicianRow
from dispatch.travel import Point, TravelTimes, distances_m

Array = npt.NDArray[np.float64]
FIVE_MIN = 300


@dataclass(frozen=True)
class Weights:
    travel: float = 1.0
    lateness: float = 1.0
    parts: float = 1.0
    overqualification: float = 1.0
    continuity: float = 1.0
    workload: float = 1.0


@dataclass(frozen=True)
class MatchSettings:
    weights: Weights = field(default_factory=Weights)
    reach_km: float = 15.0  # how far outside their territory a technician may be sent
    arrival_window_s: int = 1800  # the arrival window a customer is promised
    risk_horizon_s: int = 3600  # slack under this counts as risk
    detour_min_probability: float = 0.5  # parts at least this likely are worth fetching
    depot_pickup_s: int = 600


@dataclass(frozen=True)
class NeededPart:
    part_id: UUID
    sku: str
    name: str
    quantity: int
    probability: float


@dataclass(frozen=True)
class JobToPlace:
    id: UUID
    point: Point
    earliest: float  # seconds since the epoch: the start must fall in [earliest, latest]
    latest: float
    duration_s: float
    required_skills: Mapping[str, int]
    territory_id: UUID | None
    timezone: str = "UTC"
    parts: Sequence[NeededPart] = ()
    asset_label: str = "this asset"
    excluded: frozenset[UUID] = frozenset()
    preferred: frozenset[UUID] = frozenset()
    served: Mapping[UUID, datetime] = field(default_factory=dict)


class ScoreBreakdown(msgspec.Struct, frozen=True, kw_only=True):
    """Each term in minutes; the score is their sum (lower is better)."""

    travel: float
    lateness_risk: float
    parts: float
    overqualification: float
    continuity: float
    workload: float


class DepotDetour(msgspec.Struct, frozen=True, kw_only=True):
    depot_id: UUID
    name: str
    skus: list[str]
    added_min: float  # minutes the detour adds over driving straight to the job


class PartsPlan(msgspec.Struct, frozen=True, kw_only=True):
    coverage: float  # probability-weighted share of the predicted parts that will be there
    on_van: list[str]
    missing: list[str]
    detour: DepotDetour | None


class Candidate(msgspec.Struct, frozen=True, kw_only=True):
    technician_id: UUID
    name: str
    score: float
    reason: str
    breakdown: ScoreBreakdown
    shift_id: UUID
    position: int  # where in the day's visits the job goes (0 = first)
    drive_min: float  # from the previous place (or the depot) to the job
    added_travel_min: float
    planned_start_at: datetime
    arrival_window_start_at: datetime
    arrival_window_end_at: datetime
    slack_min: float
    parts: PartsPlan
    served_asset_at: datetime | None
    preferred: bool


class Ranking(msgspec.Struct, frozen=True, kw_only=True):
    considered: int
    eligible: int
    excluded: dict[str, int]
    candidates: list[Candidate]


@dataclass(frozen=True)
class Placement:
    """The chosen row (a technician's shift) and position, for assignment."""

    row: int
    position: int
    start: float
    arrive: float
    depot: DepotRow | None


def screen_static(
    technicians: Sequence[TechnicianRow], job: JobToPlace, *, reach_km: float
) -> tuple[list[TechnicianRow], Counter[Exclusion]]:
    """The rules that need no route: active, skill level, the customer's exclusions, reach."""
    excluded: Counter[Exclusion] = Counter()
    homes = np.array([t.home for t in technicians], dtype=np.float64).reshape(-1, 2)
    distances_km = distances_m(job.point, homes) / 1000 if len(homes) else np.zeros(0)
    kept: list[TechnicianRow] = []
    for tech, km in zip(technicians, distances_km.tolist(), strict=True):
        if not tech.active:
            excluded[Exclusion.INACTIVE] += 1
        elif lacks_skill(tech.skills, job.required_skills):
            excluded[Exclusion.SKILL] += 1
        elif tech.id in job.excluded:
            excluded[Exclusion.EXCLUDED_BY_CUSTOMER] += 1
        elif job.territory_id is not None and tech.territory_id != job.territory_id and km > reach_km:
            excluded[Exclusion.OUT_OF_REACH] += 1
        else:
            kept.append(tech)
    return kept, excluded


def _fits_window(day: Day, job: JobToPlace) -> bool:
    start = max(day.start_at, job.earliest)
    return start <= job.latest and start + job.duration_s <= day.end_latest


def _coverage(parts: Sequence[NeededPart], held: Mapping[UUID, int], fetched: frozenset[UUID]) -> float:
    total = sum(p.probability for p in parts)
    if total <= 0:
        return 1.0
    covered = sum(
        p.probability * (1.0 if p.part_id in fetched else min(1.0, held.get(p.part_id, 0) / p.quantity))
        for p in parts
    )
    return covered / total


def _clock(ts: float, zone: ZoneInfo) -> str:
    return datetime.fromtimestamp(ts, zone).strftime("%-H:%M")


def arrival_window(start: float, job: JobToPlace, length_s: int) -> tuple[float, float]:
    """The window the customer is told: from the planned start rounded down to 5 minutes, as long
    as configured (shorter if the job's own window ends sooner), never shorter than 15 minutes."""
    begin = max(job.earliest, math.floor(start / FIVE_MIN) * FIVE_MIN)
    end = min(max(job.latest, begin + 900), begin + max(900, length_s))
    return begin, end


@dataclass
class _Option:
    row: int
    position: int
    added: float
    drive: float
    start: float
    arrive: float
    slack: float
    coverage: float
    depot: DepotRow | None
    fetched: frozenset[UUID]
    cost: float = 0.0


class Matcher:
    """One job against a set of technicians' days."""

    def __init__(self, job: JobToPlace, settings: MatchSettings, travel: TravelTimes) -> None:
        self.job = job
        self.settings = settings
        self.travel = travel

    async def _travel_grid(self, plans: RoutePlans) -> tuple[Array, Array]:
        rows, width = plans.size
        before = np.stack(plans.places_before(), axis=-1).reshape(-1, 2)
        after = np.stack(plans.places_after(), axis=-1).reshape(-1, 2)
        to_job = (await self.travel.to_one(before, self.job.point)).reshape(rows, width)
        from_job = (await self.travel.from_one(self.job.point, after)).reshape(rows, width)
        return to_job, from_job

    def _insert(self, plans: RoutePlans, to_job: Array, from_job: Array) -> Insertions:
        return plans.insert(
            earliest=self.job.earliest,
            latest=self.job.latest,
            duration_s=self.job.duration_s,
            to_job=to_job,
            from_job=from_job,
        )

    async def options(
        self,
        plans: RoutePlans,
        vans: Mapping[UUID, Mapping[UUID, int]],
        depots: Sequence[DepotRow],
    ) -> list[_Option | None]:
        """Per row (technician-shift) the best way to fit the job, or None."""
        job, s = self.job, self.settings
        rows, _ = plans.size
        if rows == 0:
            return []
        to_job, from_job = await self._travel_grid(plans)
        plain = self._insert(plans, to_job, from_job)
        plain_pos, plain_ok = plain.best()
        # Parts the van lacks that are likely enough to fetch, per row.
        short: list[frozenset[UUID]] = []
        for day in plans.days:
            held = vans.get(day.technician_id, {})
            short.append(
                frozenset(
                    p.part_id
                    for p in job.parts
                    if p.probability >= s.detour_min_probability and held.get(p.part_id, 0) < p.quantity
                )
            )
        detours: list[tuple[DepotRow, Insertions, npt.NDArray[np.int64], npt.NDArray[np.bool_], Array]] = []
        wanted = {part for missing in short for part in missing}
        quantities = {p.part_id: p.quantity for p in job.parts}
        if wanted:
            before = np.stack(plans.places_before(), axis=-1).reshape(-1, 2)
            for depot in depots:
                if not any(depot.stock.get(part, 0) >= quantities[part] for part in wanted):
                    continue
                to_depot = (await self.travel.to_one(before, depot.point)).reshape(to_job.shape)
                depot_to_job = float((await self.travel.from_one(depot.point, [job.point]))[0])
                via = to_depot + s.depot_pickup_s + depot_to_job
                found = self._insert(plans, via, from_job)
                pos, ok = found.best()
                detours.append((depot, found, pos, ok, np.full(rows, depot_to_job)))
        options: list[_Option | None] = []
        for r, day in enumerate(plans.days):
            held = vans.get(day.technician_id, {})
            best: _Option | None = None
            if plain_ok[r]:
                p = int(plain_pos[r])
                best = _Option(
                    r,
                    p,
                    float(plain.added[r, p]),
                    float(to_job[r, p]),
                    float(plain.start[r, p]),
                    float(plain.arrive[r, p]),
                    float(plain.slack[r, p]),
                    _coverage(job.parts, held, frozenset()),
                    None,
                    frozenset(),
                )
                best.cost = self._cost(best)
            if short[r]:
                for depot, found, pos, ok, onward in detours:
                    if not ok[r] or any(depot.stock.get(part, 0) < quantities[part] for part in short[r]):
                        continue
                    p = int(pos[r])
                    option = _Option(
                        r,
                        p,
                        float(found.added[r, p]),
                        float(onward[r]),
                        float(found.start[r, p]),
                        float(found.arrive[r, p]),
                        float(found.slack[r, p]),
                        _coverage(job.parts, held, short[r]),
                        depot,
                        short[r],
                    )
                    option.cost = self._cost(option)
                    if best is None or option.cost < best.cost:
                        best = option
            options.append(best)
        return options

    def _cost(self, option: _Option) -> float:
        w, s = self.settings.weights, self.settings
        return (
            w.travel * option.added / 60
            + w.lateness * 0.5 * max(0.0, s.risk_horizon_s - option.slack) / 60
            + w.parts * 60 * (1 - option.coverage)
        )

    async def rank(
        self,
        technicians: Sequence[TechnicianRow],
        days: Sequence[Day],
        vans: Mapping[UUID, Mapping[UUID, int]],
        depots: Sequence[DepotRow],
        *,
        excluded: Counter[Exclusion] | None = None,
        considered: int | None = None,
        limit: int = 10,
    ) -> tuple[Ranking, RoutePlans, dict[UUID, _Option]]:
        """Candidates best first; `technicians` passed the static rules, `days` are their shifts."""
        job, w = self.job, self.settings.weights
        counts: Counter[Exclusion] = Counter(excluded or {})
        fitting = [d for d in days if _fits_window(d, job)]
        plans = await build(fitting, self.travel)
        options = await self.options(plans, vans, depots)
        best: dict[UUID, _Option] = {}
        for option in options:
            if option is None:
                continue
            tech_id = plans.days[option.row].technician_id
            if tech_id not in best or option.cost < best[tech_id].cost:
                best[tech_id] = option
        with_shift = {d.technician_id for d in fitting}
        for tech in technicians:
            if tech.id not in with_shift:
                counts[Exclusion.OFF_SHIFT] += 1
            elif tech.id not in best:
                counts[Exclusion.NO_ROOM] += 1
        by_id = {t.id: t for t in technicians}
        scored: list[tuple[float, UUID, ScoreBreakdown]] = []
        for tech_id, option in best.items():
            tech = by_id[tech_id]
            day = plans.days[option.row]
            booked = sum(v.duration_s for v in day.visits) + job.duration_s
            over = sum(tech.skills.get(skill, 0) - level for skill, level in job.required_skills.items())
            bonus = (20.0 if tech_id in job.served else 0.0) + (30.0 if tech_id in job.preferred else 0.0)
            s = self.settings
            breakdown = ScoreBreakdown(
                travel=round(w.travel * option.added / 60, 2),
                lateness_risk=round(w.lateness * 0.5 * max(0.0, s.risk_horizon_s - option.slack) / 60, 2),
                parts=round(w.parts * 60 * (1 - option.coverage), 2),
                overqualification=round(w.overqualification * 5.0 * max(0, over), 2),
                continuity=round(-w.continuity * bonus, 2),
                workload=round(w.workload * 30.0 * min(1.0, booked / max(day.shift_s, 1.0)), 2),
            )
            total = sum(msgspec.structs.astuple(breakdown))
            scored.append((total, tech_id, breakdown))
        scored.sort(key=lambda item: (item[0], by_id[item[1]].name, str(item[1])))
        candidates = [
            self._candidate(by_id[tech_id], plans, best[tech_id], vans, total, breakdown)
            for total, tech_id, breakdown in scored[:limit]
        ]
        ranking = Ranking(
            considered=considered if considered is not None else len(technicians),
            eligible=len(best),
            excluded={reason.value: counts[reason] for reason in Exclusion if counts[reason]},
            candidates=candidates,
        )
        return ranking, plans, best

    def _candidate(
        self,
        tech: TechnicianRow,
        plans: RoutePlans,
        option: _Option,
        vans: Mapping[UUID, Mapping[UUID, int]],
        total: float,
        breakdown: ScoreBreakdown,
    ) -> Candidate:
        job = self.job
        zone = ZoneInfo(job.timezone)
        held = vans.get(tech.id, {})
        on_van = [p.sku for p in job.parts if held.get(p.part_id, 0) >= p.quantity]
        fetched = [p.sku for p in job.parts if p.part_id in option.fetched]
        missing = [p.sku for p in job.parts if p.sku not in on_van and p.sku not in fetched]
        begin, end = arrival_window(option.start, job, self.settings.arrival_window_s)
        detour = None
        if option.depot is not None:
            detour = DepotDetour(
                depot_id=option.depot.id,
                name=option.depot.name,
                skus=fetched,
                added_min=round(option.added / 60, 1),
            )
        words = [f"{round(option.drive / 60)} min away"]
        if job.parts:
            likely = [p for p in job.parts if p.probability >= self.settings.detour_min_probability]
            if likely and all(p.sku in on_van for p in likely):
                words.append("carries " + ("both parts" if len(likely) == 2 else _parts_words(likely)))
            elif option.depot is not None:
                words.append(f"picks up {', '.join(fetched)} at {option.depot.name}")
            elif missing:
                words.append(f"lacks {', '.join(missing)}")
        served = job.served.get(tech.id)
        if served is not None:
            words.append(f"worked on {job.asset_label} in {served.astimezone(zone).year}")
        if tech.id in job.preferred:
            words.append("the customer's preferred technician")
        if breakdown.overqualification >= 10:
            words.append("more qualified than the job needs")
        words.append(f"arrives {_clock(begin, zone)}–{_clock(end, zone)}")
        return Candidate(
            technician_id=tech.id,
            name=tech.name,
            score=round(total, 2),
            reason=", ".join(words),
            breakdown=breakdown,
            shift_id=plans.days[option.row].shift_id,
            position=sum(1 for s in plans.stops[option.row][: option.position] if s.visit is not None),
            drive_min=round(option.drive / 60, 1),
            added_travel_min=round(option.added / 60, 1),
            planned_start_at=datetime.fromtimestamp(option.start, UTC),
            arrival_window_start_at=datetime.fromtimestamp(begin, UTC),
            arrival_window_end_at=datetime.fromtimestamp(end, UTC),
            slack_min=round(min(option.slack, 24 * 3600) / 60, 1),
            parts=PartsPlan(
                coverage=round(option.coverage, 3), on_van=on_van, missing=missing, detour=detour
            ),
            served_asset_at=served,
            preferred=tech.id in job.preferred,
        )


def _parts_words(parts: Sequence[NeededPart]) -> str:
    if len(parts) == 1:
        return parts[0].name
    return f"all {len(parts)} parts"
