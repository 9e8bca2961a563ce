"""Years of service visits, simulated per asset so the history has structure to learn from."""

from __future__ import annotations

import math
import uuid
from datetime import UTC, date, datetime, time, timedelta

from dispatch.demo_catalogue import (
    FITMENTS,
    HVAC_PROBLEMS_BY_TYPE,
    PARTS,
    PROBLEM_CODES,
    PROBLEMS,
    DemoProblem,
    DemoVariant,
)
from dispatch.demo_state import (
    HISTORY_FROM,
    Asset,
    Builder,
    Tech,
    local,
)


def fitting(b: Builder, asset: Asset, prefix: str) -> tuple[str, int] | None:
    attributes = dict(asset.attributes)
    if asset.true_spring_size is not None:
        attributes["spring_size"] = asset.true_spring_size  # the technician sees the real spring
    for fit in FITMENTS:
        if (
            fit.sku.startswith(prefix)
            and fit.asset_kind == asset.model.kind
            and fit.make in (None, asset.model.make)
            and fit.model in (None, asset.model.model)
            and all(attributes.get(k) == v for k, v in fit.conditions.items())
        ):
            return fit.sku, fit.quantity
    return None


def parts_used(b: Builder, asset: Asset, variant: DemoVariant) -> list[tuple[str, int]]:
    used: list[tuple[str, int]] = []
    for use in variant.parts:
        if b.rng.random() >= use.probability:
            continue
        if use.part.startswith("fitment:"):
            found = fitting(b, asset, use.part.removeprefix("fitment:"))
            if found is None:
                continue
            sku, quantity = found
            if sku.startswith("SPR-") and b.rng.random() < 0.08:
                # Noise a model must survive: a technician fitted the next size up.
                sizes = [p.sku for p in PARTS if p.sku.startswith("SPR-")]
                sku = sizes[min(len(sizes) - 1, sizes.index(sku) + 1)]
        else:
            sku, quantity = use.part, 2 if use.part == "BRG-END" else 1
        used.append((sku, quantity))
    return used


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


def simulate_history(b: Builder) -> None:
    end = datetime.combine(b.today - timedelta(days=2), time(12), UTC)
    for site in b.sites:
        if not site.simulated:
            continue
        for asset in site.assets:
            start = max(
                asset.installed_at + timedelta(days=30), datetime.combine(HISTORY_FROM, time(12), UTC)
            )
            stop = min(end, asset.removed_at) if asset.removed_at else end
            for problem in problems_for(b, asset):
                moment = start
                while True:
                    moment += timedelta(days=365 * b.rng.expovariate(problem.frequency_per_year))
                    if moment >= stop:
                        break
                    past_visit(b, asset, problem, moment.date())


def past_visit(b: Builder, asset: Asset, problem: DemoProblem, day: date) -> None:
    site = asset.site
    choice, variant = choose_variant(b, problem)
    skills = required_skills(b, asset, choice, variant)
    tech = technician_for(b, site.territory, skills)
    used = parts_used(b, asset, variant)
    window_start = local(day, b.rng.choice((8, 10, 12, 14)))
    customer = site.occupant_at(window_start)
    parent: uuid.UUID | None = None
    missing = [sku for sku, _ in used if tech is not None and sku not in tech.van]
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
    if b.rng.random() < 0.05:
        used = []  # paperwork that never recorded the parts
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
