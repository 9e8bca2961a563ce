"""A whole demo company, built in memory from a seed and a day: no I/O, so it is tested directly.

Rows come out as tuples in the column order of `COLUMNS`, ready for one bulk insert per table.
History is simulated rather than drawn at random per row, so it has the structure the dispatch
logic learns from: springs that wear out and are replaced by size, models that take longer,
first visits that lacked a part and needed a second one, owners who moved out while the door stayed.
"""

from __future__ import annotations

from datetime import UTC, date, datetime, timedelta

from dispatch.demo.catalogue import (
    DOOR_MODELS,
    PROBLEM_CODES,
    VEHICLE_MODELS,
    AttributeValue,
    DemoProblem,
)
from dispatch.demo.company import company, preferences, technicians, users
from dispatch.demo.history import (
    choose_variant,
    past_job,
    problems_for,
    required_skills,
    simulate_history,
    technician_for,
)
from dispatch.demo.sites import add_site, furnish, install
from dispatch.demo.state import (
    OPEN_JOBS,
    SITES,
    Asset,
    Builder,
    DemoWorld,
    Site,
    local,
)


def garage_door_story(b: Builder) -> None:
    """A spring breaks on a door the company installed for the previous owners."""
    site = add_site(b, 0, moves=1, address=("4217 Xerxes Ave S", "Minneapolis", "55410"))
    site.simulated = False
    moved_in = datetime(2022, 5, 1, 17, tzinfo=UTC)
    site.occupancies[0].ended_at = moved_in
    site.occupancies[1].started_at = moved_in
    rows = b.world.rows["site_occupancies"]
    rows[-2] = (*rows[-2][:4], moved_in)
    rows[-1] = (*rows[-1][:3], moved_in, None)
    door_model = DOOR_MODELS[0]
    attributes: dict[str, AttributeValue] = {
        "width_ft": 16,
        "height_ft": 7,
        "weight_lb": 170,
        "springs": 2,
        "spring_size": "218",
    }
    door = install(
        b, site, door_model, local(date(2017, 4, 12), 9), attributes, true_spring_size="218", by_us=True
    )
    spring = PROBLEM_CODES["broken_spring"]
    tech = technician_for(b, 0, spring.variants[None].skills)
    job_id = past_job(
        b,
        door,
        spring,
        None,
        spring.variants[None].skills,
        spring.variants[None],
        tech,
        site.occupancies[0].customer_id,
        local(date(2019, 11, 4), 8),
        local(date(2019, 11, 4), 8.5),
        local(date(2019, 11, 4), 9.75),
        status="completed",
    )
    event_id = b.new_id()
    b.world.add(
        "asset_events",
        event_id,
        door.id,
        job_id,
        tech.id if tech else None,
        "replace",
        "broken_spring",
        "Broken torsion spring: replaced 2 × SPR-218",
        local(date(2019, 11, 4), 9.75),
    )
    b.world.add("asset_event_parts", event_id, b.part_ids["SPR-218"], 2)
    b.world.garage_door_site_id = site.id


def windshield_story(b: Builder) -> None:
    site = add_site(b, 1, moves=0, address=("1580 Grand Ave", "Saint Paul", "55105"))
    site.simulated = False
    model = VEHICLE_MODELS[0]
    install(
        b, site, model, datetime(2021, 3, 1, 12, tzinfo=UTC), {**model.attributes, "year": 2021}, by_us=False
    )
    b.world.windshield_site_id = site.id


def open_windows(b: Builder, day: date) -> list[tuple[datetime, datetime]]:
    windows = [(local(day, h), local(day, h + 2)) for h in (8, 10, 12, 14, 16)]
    windows += [(local(day, 8), local(day, 12)), (local(day, 12), local(day, 16))]
    # Today only offers windows that are still ahead.
    return [(s, e) for s, e in windows if s >= b.now + timedelta(minutes=30)]


def open_jobs(b: Builder) -> None:
    tomorrow = b.today + timedelta(days=1)
    today_slots, tomorrow_slots = open_windows(b, b.today), open_windows(b, tomorrow)
    story = [
        (b.sites[0], "broken_spring", None, (today_slots or tomorrow_slots)[0], 2),
        (b.sites[1], "windshield_crack", "replace", tomorrow_slots[5], 3),
    ]
    for site, code, choice, window, priority in story:
        asset = next(a for a in site.assets if a.model.kind == PROBLEM_CODES[code].asset_kind)
        open_job(b, site, asset, PROBLEM_CODES[code], choice, window, priority)
    candidates = [s for s in b.sites[2:] if s.assets]
    for index, site in enumerate(b.rng.sample(candidates, OPEN_JOBS - len(story))):
        live = [a for a in site.assets if a.removed_at is None]
        asset = b.rng.choice(live)
        problem = b.rng.choice(problems_for(b, asset))
        choice, _ = choose_variant(b, problem)
        slots = today_slots if index % 2 == 0 and today_slots else tomorrow_slots
        priority = {"no_heat": 1, "broken_spring": 2, "annual_maintenance": 5}.get(problem.code, 3)
        open_job(b, site, asset, problem, choice, b.rng.choice(slots), priority)


def open_job(
    b: Builder,
    site: Site,
    asset: Asset,
    problem: DemoProblem,
    choice: str | None,
    window: tuple[datetime, datetime],
    priority: int,
) -> None:
    variant = problem.variants[choice]
    job_id = b.new_id()
    b.job_seq += 1
    created = b.now - timedelta(minutes=b.rng.randint(10, 600))
    b.world.add(
        "jobs",
        job_id,
        f"J{b.job_seq:06d}",
        site.id,
        asset.id,
        site.current_occupant,
        None,
        problem.code,
        problem.name,
        choice,
        required_skills(b, asset, choice, variant),
        variant.duration_s,
        "catalogue",
        window[0],
        window[1],
        priority,
        "new",
        None,
        None,
        None,
        None,
        created,
        created,
    )
    b.world.add("job_events", job_id, "created", None, "new", "dispatch", "", {}, created)


def build_world(seed: int, today: date, now: datetime) -> DemoWorld:
    """The company on `today` (a metro date); `now` decides which of today's windows are left."""
    b = Builder(seed, today, now)
    company(b)
    technicians(b)
    garage_door_story(b)
    windshield_story(b)
    while len(b.sites) < SITES:
        furnish(b, add_site(b, len(b.sites) % 2))
    simulate_history(b)
    open_jobs(b)
    preferences(b)
    users(b)
    return b.world
