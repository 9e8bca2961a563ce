"""A Denver garage-door, HVAC and glass company over twelve years, generated from a seed: sites,
owners, assets with a hidden true state, and every visit made to them (see tests/bench/messy_base.py)."""

from __future__ import annotations

import math
import random
from datetime import date, datetime, timedelta

from dispatch.demo.catalogue import (
    DOOR_MODELS,
    FIRST_NAMES,
    FITMENTS,
    HVAC_MODELS,
    HVAC_PROBLEMS_BY_TYPE,
    LAST_NAMES,
    OPENER_MODELS,
    PARTS,
    PROBLEM_CODES,
    PROBLEMS,
    VEHICLE_MODELS,
    AttributeValue,
    DemoModel,
    DemoProblem,
    family_of,
    fitting_part,
)
from dispatch.demo.noise import Noise, faults
from tests.bench.messy_files import TZ, Asset, Base, RowSink, attributes_text, parts_text

HISTORY_FROM = date(2014, 12, 1)
HISTORY_TO = date(2026, 11, 30)
TECHNICIANS = 80
# Springs a van carries; any other size, and glass or boards ordered for the job, may need a
# second visit when the first one finds the fault.
VAN_SPRINGS = frozenset({"SPR-218", "SPR-225", "SPR-234"})
NOT_ON_VANS = ("LB-", "IGN-", "GEAR-")
PLACES = (
    ("Denver", ("80205", "80206", "80207", "80210", "80211", "80212", "80219", "80220", "80224")),
    ("Aurora", ("80010", "80011", "80012", "80013", "80014")),
    ("Lakewood", ("80214", "80215", "80226", "80227", "80228")),
    ("Littleton", ("80120", "80122", "80123", "80128")),
    ("Arvada", ("80002", "80003", "80004", "80005")),
    ("Englewood", ("80110", "80111", "80113")),
    ("Westminster", ("80030", "80031", "80234")),
)
STREETS = (
    "S Colorado Blvd",
    "E Colfax Ave",
    "W 38th Ave",
    "S Broadway",
    "E Evans Ave",
    "S Federal Blvd",
    "W Alameda Ave",
    "E Hampden Ave",
    "S Wadsworth Blvd",
    "W Jewell Ave",
    "E Iliff Ave",
    "S Monaco Pkwy",
    "W 44th Ave",
    "S Kipling St",
    "E Yale Ave",
    "W Bowles Ave",
    "S Holly St",
    "E Mississippi Ave",
    "W 72nd Ave",
    "S University Blvd",
)


def local(day: date, hour: float) -> datetime:
    minutes = round(hour * 60)
    return datetime(day.year, day.month, day.day, minutes // 60, minutes % 60, tzinfo=TZ)


def moment_between(rng: random.Random, start: date, end: date) -> datetime:
    return local(start + timedelta(days=rng.randint(0, max(0, (end - start).days))), rng.uniform(8, 16))


def catalogue(base: RowSink) -> None:
    for part in PARTS:
        base.add(
            "parts.csv",
            sku=part.sku,
            name=part.name,
            unit_cost_cents=part.unit_cost_cents,
            sold_in_multiples_of=part.sold_in_multiples_of,
            family=family_of(part.sku),
        )
    for fit in FITMENTS:
        base.add(
            "fitments.csv",
            sku=fit.sku,
            asset_kind=fit.asset_kind,
            make=fit.make,
            model=fit.model,
            conditions=attributes_text(fit.conditions),
            quantity=fit.quantity,
        )


def owners(base: Base, site_id: str) -> list[tuple[datetime, datetime | None]]:
    """The occupancies of a site: a third changed owners once or more over the years."""
    rng = base.rng
    moves = rng.choices((0, 1, 2, 3), (0.6, 0.28, 0.09, 0.03))[0]
    start = moment_between(rng, date(1998, 1, 1), date(2016, 1, 1))
    spans: list[tuple[datetime, datetime | None]] = []
    for index in range(moves + 1):
        end: datetime | None = None
        if index < moves:
            room = (datetime(2026, 6, 1, tzinfo=TZ) - start).days // (moves - index + 1)
            end = start + timedelta(days=rng.randint(max(1, room // 3), max(2, room)))
        number = len(base.rows["customers.csv"]) + 1
        name = f"{rng.choice(FIRST_NAMES)} {rng.choice(LAST_NAMES)}"
        email = f"{name.lower().replace(' ', '.')}{number}@example.com" if rng.random() < 0.7 else ""
        customer = f"C{number:07d}"
        phone = f"+1 303 555 {number % 10000:04d}"
        base.add("customers.csv", external_id=customer, name=name, email=email, phone=phone)
        base.add(
            "occupancies.csv",
            site_external_id=site_id,
            customer_external_id=customer,
            started_at=start,
            ended_at=end,
        )
        spans.append((start, end))
        if end is None:
            break
        start = end
    return spans


def add_asset(
    base: Base,
    site_id: str,
    model: DemoModel,
    truth: dict[str, AttributeValue],
    installed_at: datetime,
    leaves_at: datetime | None = None,
) -> Asset:
    rng, noise = base.rng, base.noise
    number = len(base.truth_assets) + 1
    external_id = f"A{number:07d}"
    side = random.Random(f"{base.seed}:{external_id}")
    if model.kind == "hvac_unit":
        truth["filter_size"] = noise.installed_filter(side)
    asset = Asset(
        external_id,
        model,
        truth,
        noise.record_of(model.kind, truth, side),
        noise.make_as_typed(model.make),
        installed_at,
        leaves_at,
        side,
    )
    by_us = model.kind != "vehicle_glass" and rng.random() < 0.5
    if by_us:
        base.add(
            "asset_events.csv",
            external_id=f"E-{asset.external_id}-0",
            asset_external_id=asset.external_id,
            kind="install",
            occurred_at=installed_at,
            summary=f"Installed {model.make} {model.model}",
        )
    if leaves_at is not None:
        base.add(
            "asset_events.csv",
            external_id=f"E-{asset.external_id}-9",
            asset_external_id=asset.external_id,
            kind="removal",
            occurred_at=leaves_at,
            summary="Left with its owner",
        )
    visits(base, asset)
    record_against_truth(base, asset)
    warranty = date(installed_at.year + 10, installed_at.month, 1) if by_us else None
    # Installs by others before the records began often have no date.
    installed = installed_at if by_us or rng.random() < 0.7 else None
    serial = "".join(rng.choices("ABCDEFGHJKLMNPRSTUVWXYZ0123456789", k=10)) if rng.random() < 0.6 else ""
    base.add(
        "assets.csv",
        external_id=asset.external_id,
        site_external_id=site_id,
        kind=model.kind,
        make=asset.recorded_make,
        model=model.model,
        serial=serial,
        installed_at=installed,
        warranty_until=warranty,
        attributes=attributes_text(asset.record),
    )
    base.truth_assets.append(
        [
            asset.external_id,
            model.make,
            model.model,
            attributes_text(asset.truth),
            attributes_text(asset.record),
        ]
    )
    return asset


def record_against_truth(base: Base, asset: Asset) -> None:
    """Counts, once the history is written, how far the record has drifted from the asset."""
    kind = asset.model.kind
    base.facts[f"assets:{kind}"] += 1
    if kind == "garage_door":
        recorded = asset.record.get("spring_size")
        base.facts["door size missing"] += recorded is None
        base.facts["door size wrong"] += recorded is not None and recorded != asset.truth["spring_size"]
        base.facts["door spring count wrong"] += asset.record["springs"] != asset.truth["springs"]
    if kind == "hvac_unit":
        recorded = asset.record.get("filter_size")
        base.facts["filter size missing"] += recorded is None
        base.facts["filter size wrong"] += recorded is not None and recorded != asset.truth["filter_size"]
        base.facts["filter rack changed"] += bool(asset.rack_changed)
    prefixes = {"garage_door": ("SPR-",), "vehicle_glass": ("GLS-",), "hvac_unit": ("CAP-", "FLT-")}
    for prefix in prefixes.get(kind, ()):
        if prefix == "CAP-" and "capacitor" not in asset.truth:
            continue
        model = asset.model
        truth = fitting_part(kind, model.make, model.model, asset.truth, prefix)
        # The make as typed: a fitment names the make as the catalogue spells it.
        record = fitting_part(kind, asset.recorded_make, model.model, asset.record, prefix)
        base.facts[f"fitment cases:{prefix}"] += 1
        base.facts[f"fitment misses:{prefix}"] += record != truth


def furnish(base: Base, site_id: str, spans: list[tuple[datetime, datetime | None]]) -> None:
    rng, noise = base.rng, base.noise
    for _ in range(1 + (rng.random() < 0.08) if rng.random() < 0.82 else 0):
        model = rng.choices(DOOR_MODELS, [m.weight for m in DOOR_MODELS])[0]
        width = rng.choice((9, 9, 16))
        springs = 2 if width == 16 else rng.choice((1, 1, 2))
        weight = rng.randint(150, 260) if width == 16 else rng.randint(70, 140)
        truth: dict[str, AttributeValue] = {
            "width_ft": width,
            "height_ft": rng.choice((7, 7, 7, 8)),
            "weight_lb": weight,
            "springs": springs,
            "spring_size": noise.installed_spring(weight, springs),
        }
        add_asset(base, site_id, model, truth, moment_between(rng, date(1995, 1, 1), date(2025, 6, 1)))
        if rng.random() < 0.7:
            opener = rng.choices(OPENER_MODELS, [m.weight for m in OPENER_MODELS])[0]
            add_asset(
                base,
                site_id,
                opener,
                dict(opener.attributes),
                moment_between(rng, date(2005, 1, 1), date(2025, 6, 1)),
            )
    for kind_share in (("furnace", 0.66), ("air_conditioner", 0.45)):
        if rng.random() < kind_share[1]:
            choices = [m for m in HVAC_MODELS if m.attributes["type"] == kind_share[0]]
            model = rng.choices(choices, [m.weight for m in choices])[0]
            add_asset(
                base,
                site_id,
                model,
                dict(model.attributes),
                moment_between(rng, date(1998, 1, 1), date(2025, 6, 1)),
            )
    for start, end in spans:
        if rng.random() < 0.3:
            model = rng.choices(VEHICLE_MODELS, [m.weight for m in VEHICLE_MODELS])[0]
            # A car on record is one its owner had while living there: never newer than the move out.
            latest = min(2026, max(start.year, 2012) + 2, end.year if end else 2026)
            year = rng.randint(min(latest, max(2004, start.year - 6)), latest)
            since = max(start, local(date(year - 1, 9, 1), 12))
            if end is not None and since >= end - timedelta(days=30):
                continue
            truth = noise.vehicle_truth({**model.attributes, "year": year})
            add_asset(base, site_id, model, truth, since, end)


def problems_for(asset: Asset) -> list[DemoProblem]:
    if asset.model.kind == "hvac_unit":
        return [PROBLEM_CODES[c] for c in HVAC_PROBLEMS_BY_TYPE[str(asset.model.attributes["type"])]]
    return [p for p in PROBLEMS if p.asset_kind == asset.model.kind]


def visits(base: Base, asset: Asset) -> None:
    rng = base.rng
    start = max(asset.installed_at + timedelta(days=30), local(HISTORY_FROM, 12))
    stop = min(asset.leaves_at or local(HISTORY_TO, 12), local(HISTORY_TO, 12))
    for moment, problem in faults(rng, problems_for(asset), start, stop):
        visit(base, asset, problem, moment.date())


def visit(base: Base, asset: Asset, problem: DemoProblem, day: date) -> None:
    rng, noise = base.rng, base.noise
    choice: str | None = None
    if None not in problem.variants:
        choice = (
            "replace" if rng.random() < (0.15 if problem.code == "windshield_chip" else 0.8) else "repair"
        )
    variant = problem.variants[choice]
    model = asset.model
    outcome = noise.visit(
        model.kind,
        model.make,
        model.model,
        asset.truth,
        problem,
        variant,
        rng.choice(base.habits),
        asset.side,
    )
    needed = outcome.used
    if outcome.rack_changed:
        asset.rack_changed = True
        noise.record_rack_change(asset.record, asset.truth, asset.side)
    ordered = fitting_part(model.kind, model.make, model.model, asset.record, "GLS-")
    lacking = [
        sku
        for sku, _ in needed
        if (sku.startswith("SPR-") and sku not in VAN_SPRINGS)
        or sku.startswith(NOT_ON_VANS)
        or (sku.startswith("GLS-") and (ordered is None or ordered[0] != sku))
    ]
    noise.update_record(asset.record, asset.truth, needed)
    recorded = noise.parts_as_recorded(needed, day)
    number = len(base.truth_visits) + 1
    job_id = f"W{number:07d}"
    started = local(day, rng.choice((8, 10, 12, 14)) + rng.uniform(0, 1.8))
    first: str = ""
    if lacking and rng.random() < 0.6:
        # The first visit found the fault without the part; a second one brought it.
        first = f"{job_id}-1"
        base.add(
            "jobs.csv",
            external_id=first,
            asset_external_id=asset.external_id,
            problem_code=problem.code,
            choice=choice,
            started_at=started,
            finished_at=started + timedelta(minutes=rng.randint(20, 40)),
            status="incomplete",
            summary=f"needs {lacking[0]}",
        )
        started = local(
            day + timedelta(days=rng.randint(1, 4)), rng.choice((8, 10, 12)) + rng.uniform(0, 1.8)
        )
        base.facts["follow_ups"] += 1
    minutes = variant.duration_s / 60 * model.duration_factor * math.exp(rng.gauss(0, 0.25))
    finished = started + timedelta(minutes=max(10, round(minutes)))
    summary = f"{problem.name}: {'replaced ' + parts_text(recorded) if recorded else 'done'}"
    base.add(
        "jobs.csv",
        external_id=job_id,
        asset_external_id=asset.external_id,
        problem_code=problem.code,
        choice=choice,
        started_at=started,
        finished_at=finished,
        status="completed",
        follow_up_of=first,
        parts=parts_text(recorded),
        summary=summary,
    )
    base.truth_visits.append(
        [
            job_id,
            asset.external_id,
            problem.code,
            parts_text(needed),
            parts_text(recorded),
            "yes" if outcome.converted else "",
        ]
    )
    base.facts["visits"] += 1
    base.facts["visits_parts_lost"] += bool(needed) and not recorded


def site(base: Base, number: int) -> None:
    rng = base.rng
    city, codes = rng.choice(PLACES)
    site_id = f"S{number:06d}"
    notes = rng.choice(("", "", "", "Gate code 2231", "Dog in the yard", "Call on arrival", "Alley access"))
    base.add(
        "sites.csv",
        external_id=site_id,
        address_line=f"{rng.randint(100, 19999)} {rng.choice(STREETS)}",
        city=city,
        postal_code=rng.choice(codes),
        country="US",
        latitude=round(rng.uniform(39.56, 39.92), 6),
        longitude=round(rng.uniform(-105.12, -104.76), 6),
        access_notes=notes,
    )
    furnish(base, site_id, owners(base, site_id))


def generate(sites: int, seed: int) -> Base:
    rng = random.Random(seed)
    base = Base(rng, Noise(rng), seed)
    base.habits = [base.noise.habit() for _ in range(TECHNICIANS)]
    catalogue(base)
    for number in range(1, sites + 1):
        site(base, number)
    return base
