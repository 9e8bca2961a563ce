"""Ranking technicians for one job: who may take it, where it fits in their day, what it costs.

The hard rules are dispatch.matching.eligibility's and the score's terms dispatch.matching.match_cost's: added
driving, lateness risk, parts, over-qualification, continuity and workload, each in minutes of
a dispatcher's time. Lower is better.

Everything across technicians is computed on arrays; only the candidates shown get their reasons
written out.
"""

from __future__ import annotations

import math
from collections import Counter
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime
from uuid import UUID
from zoneinfo import ZoneInfo

import numpy as np
import numpy.typing as npt

from dispatch.matching import match_cost
from dispatch.matching.candidates import (
    Candidate,
    DepotDetour,
    JobToPlace,
    MatchSettings,
    NeededPart,
    PartsPlan,
    Ranking,
    ScoreBreakdown,
)
from dispatch.matching.eligibility import (
    Exclusion,
    counted,
    fits_shift,
)
from dispatch.matching.fleet_view import FleetView, first_broken_static, screen_static
from dispatch.matching.route_plan import Insertions, RoutePlans
from dispatch.matching.route_queries import DepotRow
from dispatch.travel.sources import (
    TravelTimes,
)

Array = npt.NDArray[np.float64]
INF = np.inf
FIVE_MIN = 300


def _clock(ts: float, zone: ZoneInfo) -> str:
    return datetime.fromtimestamp(ts, zone).strftime("%-H:%M")


def arrival_window(start: float, job: JobToPlace, length_s: int) -> tuple[float, float]:
    """The window the customer is told: from the planned start rounded down to 5 minutes, as long
    as configured (shorter if the job's own window ends sooner), never shorter than 15 minutes."""
    begin = max(job.earliest, math.floor(start / FIVE_MIN) * FIVE_MIN)
    end = min(max(job.latest, begin + 900), begin + max(900, length_s))
    return begin, end


@dataclass
class _Choice:
    """Per row, the best way found so far to fit the job (vectors over rows)."""

    cost: Array
    position: npt.NDArray[np.int64]
    added: Array
    drive: Array
    start: Array
    slack: Array
    coverage: Array
    depot: npt.NDArray[np.int64]  # index into the depots, -1 for none


class Matcher:
    """One job against the fleet's days."""

    def __init__(self, job: JobToPlace, settings: MatchSettings, travel: TravelTimes) -> None:
        self.job = job
        self.settings = settings
        self.travel = travel

    def _insert(self, plans: RoutePlans, to_job: Array, from_job: Array) -> Insertions:
        return plans.insert(
            earliest=self.job.earliest,
            latest=self.job.latest,
            duration_s=self.job.duration_s,
            to_job=to_job,
            from_job=from_job,
        )

    def _cost(self, added: Array, slack: Array, coverage: Array) -> Array:
        return match_cost.placement(
            added, slack, coverage, self.settings.risk_horizon_s, self.settings.weights
        )

    def _static(self, fleet: FleetView) -> tuple[npt.NDArray[np.bool_], Counter[Exclusion]]:
        """Technicians passing the rules that need no route; the others counted by first rule broken."""
        first = first_broken_static(fleet.roster, fleet.homes, self.job, reach_km=self.settings.reach_km)
        return first < 0, counted(first)

    def _parts(
        self, fleet: FleetView, vans: Mapping[UUID, Mapping[UUID, int]]
    ) -> tuple[Array, npt.NDArray[np.bool_], Array]:
        """Per technician: van coverage, the likely parts the van lacks [T, P], and what they hold."""
        parts = self.job.parts
        count = len(fleet.technicians)
        held = np.zeros((count, len(parts)))
        columns = {p.part_id: j for j, p in enumerate(parts)}
        for tech_id, stock in vans.items():
            row = fleet.index.get(tech_id)
            if row is None:
                continue
            for part_id, held_quantity in stock.items():
                if part_id in columns:
                    held[row, columns[part_id]] = held_quantity
        if not parts:
            return np.ones(count), np.zeros((count, 0), dtype=bool), held
        quantity = np.array([p.quantity for p in parts], dtype=np.float64)
        probability = np.array([p.probability for p in parts], dtype=np.float64)
        share = np.minimum(1.0, held / quantity)
        coverage = share @ probability / max(probability.sum(), 1e-9)
        # A part the van should carry and lacks may be fetched at a depot on the way.
        short = np.array([p.carry for p in parts], dtype=bool)[None, :] & (held < quantity)
        return coverage, short, held

    async def choose(
        self,
        fleet: FleetView,
        rows: npt.NDArray[np.bool_],
        vans: Mapping[UUID, Mapping[UUID, int]],
        depots: Sequence[DepotRow],
    ) -> _Choice:
        """For every row the cheapest way to fit the job, straight or via a depot (cost inf: none)."""
        job, plans = self.job, fleet.plans
        count = plans.size[0]
        to_job, from_job = await fleet.around(self.travel, job.point)
        plain = self._insert(plans, to_job, from_job)
        position, ok = plain.best()
        ok &= rows
        pick = (np.arange(count), position)
        coverage_t, short_t, _ = self._parts(fleet, vans)
        coverage = coverage_t[fleet.row_tech]
        choice = _Choice(
            cost=np.where(ok, self._cost(plain.added[pick], plain.slack[pick], coverage), INF),
            position=position,
            added=plain.added[pick],
            drive=to_job[pick],
            start=plain.start[pick],
            slack=plain.slack[pick],
            coverage=coverage,
            depot=np.full(count, -1, dtype=np.int64),
        )
        short = short_t[fleet.row_tech]
        needs = rows & short.any(axis=1)
        if not needs.any():
            return choice
        parts = self.job.parts
        quantity = np.array([p.quantity for p in parts], dtype=np.float64)
        probability = np.array([p.probability for p in parts], dtype=np.float64)
        _, _, held_t = self._parts(fleet, vans)
        held = held_t[fleet.row_tech]
        for d, depot in enumerate(depots):
            has = np.array([depot.stock.get(p.part_id, 0) >= p.quantity for p in parts], dtype=bool)
            serves = needs & ~(short & ~has[None, :]).any(axis=1)
            if not serves.any():
                continue
            to_depot, _ = await fleet.around(self.travel, depot.point)
            onward = float((await self.travel.from_one(depot.point, [job.point]))[0])
            via = self._insert(plans, to_depot + self.settings.depot_pickup_s + onward, from_job)
            via_position, via_ok = via.best()
            via_ok &= serves
            pick = (np.arange(count), via_position)
            fetched = np.where(short, 1.0, np.minimum(1.0, held / quantity))
            via_coverage = fetched @ probability / max(probability.sum(), 1e-9)
            cost = np.where(via_ok, self._cost(via.added[pick], via.slack[pick], via_coverage), INF)
            better = cost < choice.cost
            choice.cost = np.where(better, cost, choice.cost)
            choice.position = np.where(better, via_position, choice.position)
            choice.added = np.where(better, via.added[pick], choice.added)
            choice.drive = np.where(better, onward, choice.drive)
            choice.start = np.where(better, via.start[pick], choice.start)
            choice.slack = np.where(better, via.slack[pick], choice.slack)
            choice.coverage = np.where(better, via_coverage, choice.coverage)
            choice.depot = np.where(better, d, choice.depot)
        return choice

    async def rank(
        self,
        fleet: FleetView,
        vans: Mapping[UUID, Mapping[UUID, int]],
        depots: Sequence[DepotRow],
        *,
        limit: int = 10,
        only: frozenset[UUID] | None = None,
    ) -> Ranking:
        """Candidates best first, with how many technicians each hard rule excluded."""
        job, w, plans = self.job, self.settings.weights, fleet.plans
        allowed, counts = self._static(fleet)
        considered = len(fleet.technicians)
        if only is not None:
            allowed &= fleet.ids(only)
            counts = self._static_only(fleet, only)
            considered = len(only)
        fits = fits_shift(
            plans.start_at,
            plans.end_latest,
            earliest=job.earliest,
            latest=job.latest,
            duration_s=job.duration_s,
        )
        rows = allowed[fleet.row_tech] & fits if len(fleet.row_tech) else np.zeros(0, dtype=bool)
        count = len(fleet.technicians)
        with_shift = np.zeros(count, dtype=bool)
        with_shift[fleet.row_tech[rows]] = True
        counts[Exclusion.OFF_SHIFT] += int((allowed & ~with_shift).sum())
        choice = await self.choose(fleet, rows, vans, depots) if rows.any() else None
        if choice is None:
            return Ranking(
                considered=considered,
                eligible=0,
                excluded={k.value: counts[k] for k in Exclusion if counts[k]},
                candidates=[],
            )
        # Each technician's cheapest row (a day, when the window spans several).
        order = np.lexsort((choice.cost, fleet.row_tech))
        first = np.ones(len(order), dtype=bool)
        first[1:] = fleet.row_tech[order][1:] != fleet.row_tech[order][:-1]
        best_rows = order[first & np.isfinite(choice.cost[order])]
        placed = np.zeros(count, dtype=bool)
        placed[fleet.row_tech[best_rows]] = True
        counts[Exclusion.NO_ROOM] += int((with_shift & ~placed).sum())
        techs = fleet.row_tech[best_rows]
        over = fleet.roster.skills.excess(job.required_skills)[techs].astype(np.float64)
        served = fleet.ids(frozenset(job.served))[techs].astype(np.float64)
        preferred = fleet.ids(job.preferred)[techs].astype(np.float64)
        terms = {
            "travel": match_cost.travel(choice.added[best_rows], w),
            "lateness_risk": match_cost.lateness_risk(
                choice.slack[best_rows], self.settings.risk_horizon_s, w
            ),
            "parts": match_cost.parts(choice.coverage[best_rows], w),
            "overqualification": match_cost.overqualification(over, w),
            "continuity": match_cost.continuity(served, preferred, w),
            "workload": match_cost.workload(
                fleet.booked[best_rows], job.duration_s, fleet.shift_s[best_rows], w
            ),
        }
        rounded = {name: np.round(values, 2) for name, values in terms.items()}
        total: Array = np.sum(list(rounded.values()), axis=0)
        # Ties go to the technician first by name (the fleet is read in name order).
        ranked = np.lexsort((techs, total))
        candidates = []
        for k in ranked[:limit]:
            row = int(best_rows[k])
            breakdown = ScoreBreakdown(**{name: float(values[k]) for name, values in rounded.items()})
            candidates.append(self._candidate(fleet, row, choice, depots, vans, float(total[k]), breakdown))
        return Ranking(
            considered=considered,
            eligible=len(best_rows),
            excluded={k.value: counts[k] for k in Exclusion if counts[k]},
            candidates=candidates,
        )

    def _static_only(self, fleet: FleetView, only: frozenset[UUID]) -> Counter[Exclusion]:
        """The rules that need no route, counted for the named technicians only."""
        named = [fleet.technicians[int(i)] for i in np.flatnonzero(fleet.ids(only))]
        return screen_static(named, self.job, reach_km=self.settings.reach_km)[1]

    def _candidate(
        self,
        fleet: FleetView,
        row: int,
        choice: _Choice,
        depots: Sequence[DepotRow],
        vans: Mapping[UUID, Mapping[UUID, int]],
        total: float,
        breakdown: ScoreBreakdown,
    ) -> Candidate:
        job, plans = self.job, fleet.plans
        tech = fleet.technicians[int(fleet.row_tech[row])]
        zone = ZoneInfo(job.timezone)
        held = vans.get(tech.id, {})
        depot = depots[int(choice.depot[row])] if choice.depot[row] >= 0 else None
        likely = [p for p in job.parts if p.carry]
        on_van = [p.sku for p in job.parts if held.get(p.part_id, 0) >= p.quantity]
        fetched = [p.sku for p in likely if p.sku not in on_van] if depot is not None else []
        missing = [p.sku for p in job.parts if p.sku not in on_van and p.sku not in fetched]
        start, slack = float(choice.start[row]), float(choice.slack[row])
        added, drive = float(choice.added[row]), float(choice.drive[row])
        begin, end = arrival_window(start, job, self.settings.arrival_window_s)
        detour = None
        if depot is not None:
            detour = DepotDetour(
                depot_id=depot.id, name=depot.name, skus=fetched, added_min=round(added / 60, 1)
            )
        words = [f"{round(drive / 60)} min away"]
        if job.parts:
            if likely and all(p.sku in on_van for p in likely):
                words.append("carries " + ("both parts" if len(likely) == 2 else _parts_words(likely)))
            elif depot is not None:
                words.append(f"picks up {', '.join(fetched)} at {depot.name}")
            elif lacking := [p.sku for p in likely if p.sku not in on_van]:
                # Unlikely parts missing from the van are in the score, not worth a dispatcher's read.
                words.append(f"lacks {', '.join(lacking)}")
        served = job.served.get(tech.id)
        if served is not None:
            words.append(f"worked on {job.asset_label} in {served.astimezone(zone).year}")
        if tech.id in job.preferred:
            words.append("the customer's preferred technician")
        if breakdown.overqualification >= 10:
            words.append("more qualified than the job needs")
        words.append(f"arrives {_clock(begin, zone)}–{_clock(end, zone)}")
        position = int(choice.position[row])
        return Candidate(
            technician_id=tech.id,
            name=tech.name,
            score=round(total, 2),
            reason=", ".join(words),
            breakdown=breakdown,
            shift_id=plans.days[row].shift_id,
            position=sum(1 for s in plans.stops[row][:position] if s.visit is not None),
            drive_min=round(drive / 60, 1),
            added_travel_min=round(added / 60, 1),
            planned_start_at=datetime.fromtimestamp(start, UTC),
            arrival_window_start_at=datetime.fromtimestamp(begin, UTC),
            arrival_window_end_at=datetime.fromtimestamp(end, UTC),
            slack_min=round(min(slack, 24 * 3600) / 60, 1),
            parts=PartsPlan(
                coverage=round(float(choice.coverage[row]), 3), on_van=on_van, missing=missing, detour=detour
            ),
            served_asset_at=served,
            preferred=tech.id in job.preferred,
        )


def _parts_words(parts: Sequence[NeededPart]) -> str:
    if len(parts) == 1:
        return parts[0].name
    return f"all {len(parts)} parts"
