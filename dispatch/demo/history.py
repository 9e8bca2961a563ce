"""Years of service visits, simulated per asset so the history has structure to learn from.

Each asset has a true state the visits act on; the records (its attributes, its make, the parts
written down) show it through the noise model of `dispatch.demo.noise`, so what the demo's own
figures measure is prediction from records as messy as a real company's.
"""

from __future__ import annotations

import math
import uuid
from dataclasses import dataclass
from datetime import UTC, date, datetime, time, timedelta

from dispatch.demo.catalogue import (
    HVAC_PROBLEMS_BY_TYPE,
    PROBLEM_CODES,
    PROBLEMS,
    AttributeValue,
    DemoProblem,
    DemoVariant,
    family_of,
)
from dispatch.demo.noise import Habit, Noise, faults
from dispatch.demo.state import (
    HISTORY_FROM,
    Asset,
    Builder,
    Tech,
    local,
)


def choose_variant(b: Builder, problem: DemoProblem) -> tuple[str | None, DemoVariant]:
    if None in problem.variants:
        return None, problem.variants[None]
    replace_share = 0.15 if problem.code == "windshield_chip" else 0.8
    choice = "replace" if b.rng.random() < replace_share else "repair"
    return choice, problem.variants[choice]


def required_skills(b: Builder, asset: Asset, choice: str | None, variant: DemoVariant) -> dict[str, int]:
    skills = dict(variant.skills)
    if choice == "replace" and asset.attributes.get("adas_camera") is True:
        skills["adas_calibration"] = 2  # the camera must be recalibrated behind new glass
    return skills


def technician_for(b: Builder, territory: int, skills: dict[str, int]) -> Tech | None:
    qualified = [t for t in b.techs if all(t.skills.get(s, 0) >= level for s, level in skills.items())]
    local_ones = [t for t in qualified if t.territory == territory]
    pool = local_ones or qualified
    return b.rng.choice(pool) if pool else None


def problems_for(b: Builder, asset: Asset) -> list[DemoProblem]:
    if asset.model.kind == "hvac_unit":
        codes = HVAC_PROBLEMS_BY_TYPE[str(asset.attributes["type"])]
        return [PROBLEM_CODES[c] for c in codes]
    return [p for p in PROBLEMS if p.asset_kind == asset.model.kind]


@dataclass
class History:
    """The noise model and each asset's hidden truth while the history is simulated."""

    noise: Noise
    habits: dict[uuid.UUID, Habit]
    truth: dict[uuid.UUID, dict[str, AttributeValue]]
    record: dict[uuid.UUID, dict[str, AttributeValue]]


def true_state(b: Builder, h: History, asset: Asset) -> None:
    truth = dict(asset.attributes)
    kind = asset.model.kind
    if kind == "garage_door":
        truth["spring_size"] = h.noise.installed_spring(int(truth["weight_lb"]), int(truth["springs"]))
        asset.true_spring_size = str(truth["spring_size"])
    elif kind == "vehicle_glass":
        truth = h.noise.vehicle_truth(truth)
    side = b.stream(f"asset:{asset.id}")
    if kind == "hvac_unit":
        truth["filter_size"] = h.noise.installed_filter(side)
    h.truth[asset.id] = truth
    h.record[asset.id] = h.noise.record_of(kind, truth, side)


def simulate_history(b: Builder) -> None:
    end = datetime.combine(b.today - timedelta(days=2), time(12), UTC)
    noise = Noise(b.rng)
    h = History(noise, {t.id: noise.habit() for t in b.techs}, {}, {})
    for site in b.sites:
        if not site.simulated:
            continue
        for asset in site.assets:
            true_state(b, h, asset)
            start = max(
                asset.installed_at + timedelta(days=30), datetime.combine(HISTORY_FROM, time(12), UTC)
            )
            stop = min(end, asset.removed_at) if asset.removed_at else end
            for moment, problem in faults(b.rng, problems_for(b, asset), start, stop):
                past_visit(b, h, asset, problem, moment.date())
            put_on_record(b, h, asset)


def put_on_record(b: Builder, h: History, asset: Asset) -> None:
    """The asset's row shows the record, not the truth: a make typed by hand, attributes as noted."""
    rows = b.world.rows["assets"]
    index = next(i for i in range(len(rows) - 1, -1, -1) if rows[i][0] == asset.id)
    asset.attributes = h.record[asset.id]
    make = h.noise.make_as_typed(asset.model.make)
    rows[index] = (*rows[index][:4], make, *rows[index][5:9], asset.attributes, rows[index][10])


def past_visit(b: Builder, h: History, asset: Asset, problem: DemoProblem, day: date) -> None:
    site = asset.site
    choice, variant = choose_variant(b, problem)
    skills = required_skills(b, asset, choice, variant)
    tech = technician_for(b, site.territory, skills)
    habit = h.habits[tech.id] if tech else Habit({})
    model = asset.model
    truth = h.truth[asset.id]
    side = b.stream(f"asset:{asset.id}")
    outcome = h.noise.visit(model.kind, model.make, model.model, truth, problem, variant, habit, side)
    used = outcome.used
    h.noise.update_record(h.record[asset.id], truth, used)
    if outcome.rack_changed:
        h.noise.record_rack_change(h.record[asset.id], truth, side)
    window_start = local(day, b.rng.choice((8, 10, 12, 14)))
    customer = site.occupant_at(window_start)
    parent: uuid.UUID | None = None
    # Nobody comes back for a filter: without the size on the van, the technician picks one up
    # at a supply house on the way or fits the spare the customer keeps.
    missing = [
        sku for sku, _ in used if tech is not None and sku not in tech.van and family_of(sku) != "air_filter"
    ]
    if missing and b.rng.random() < 0.5:
        # The first visit found the fault but not the part; the follow-up brought it.
        first_start = window_start + timedelta(minutes=b.rng.randint(0, 90))
        parent = past_job(
            b,
            asset,
            problem,
            choice,
            skills,
            variant,
            tech,
            customer,
            window_start,
            first_start,
            first_start + timedelta(minutes=b.rng.randint(20, 40)),
            status="incomplete",
            reason=f"missing part {missing[0]}",
        )
        window_start = local(day + timedelta(days=b.rng.randint(1, 3)), b.rng.choice((8, 10, 12)))
    started = window_start + timedelta(minutes=b.rng.randint(0, 110))
    minutes = variant.duration_s / 60 * asset.model.duration_factor * math.exp(b.rng.gauss(0, 0.22))
    finished = started + timedelta(minutes=max(10, round(minutes)))
    job_id = past_job(
        b,
        asset,
        problem,
        choice,
        skills,
        variant,
        tech,
        customer,
        window_start,
        started,
        finished,
        status="completed",
        parent=parent,
    )
    used = h.noise.parts_as_recorded(used, day)
    event_id = b.new_id()
    done = ", ".join(f"{q} × {sku}" for sku, q in used) if used else "no parts"
    b.world.add(
        "asset_events",
        event_id,
        asset.id,
        job_id,
        tech.id if tech else None,
        variant.event_kind,
        problem.code,
        f"{problem.name}: {'replaced' if used else 'fixed with'} {done}",
        finished,
    )
    for sku, quantity in used:
        b.world.add("asset_event_parts", event_id, b.part_ids[sku], quantity)


def past_job(
    b: Builder,
    asset: Asset,
    problem: DemoProblem,
    choice: str | None,
    skills: dict[str, int],
    variant: DemoVariant,
    tech: Tech | None,
    customer: uuid.UUID | None,
    window_start: datetime,
    started: datetime,
    finished: datetime,
    *,
    status: str,
    parent: uuid.UUID | None = None,
    reason: str = "",
) -> uuid.UUID:
    job_id = b.new_id()
    b.job_seq += 1
    created = window_start - timedelta(hours=b.rng.randint(4, 72))
    b.world.add(
        "jobs",
        job_id,
        f"J{b.job_seq:06d}",
        asset.site.id,
        asset.id,
        customer,
        parent,
        problem.code,
        problem.name,
        choice,
        skills,
        variant.duration_s,
        "catalogue",
        window_start,
        window_start + timedelta(hours=2),
        3,
        status,
        tech.id if tech else None,
        started,
        started,
        finished,
        created,
        finished,
    )
    actor = tech.name if tech else "dispatch"
    b.world.add("job_events", job_id, "created", None, "new", "dispatch", "", {}, created)
    b.world.add("job_events", job_id, "on_site", "en_route", "on_site", actor, "", {}, started)
    b.world.add("job_events", job_id, status, "on_site", status, actor, reason, {}, finished)
    return job_id
