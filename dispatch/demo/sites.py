"""Sites with their owners over the years and what is installed there."""

from __future__ import annotations

import uuid
from datetime import UTC, date, datetime, time, timedelta

from assets.addresses import address_key
from dispatch.demo.catalogue import (
    ACCESS_NOTES,
    DOOR_MODELS,
    HVAC_MODELS,
    OPENER_MODELS,
    TERRITORIES,
    VEHICLE_MODELS,
    AttributeValue,
    DemoModel,
    spring_size_for,
)
from dispatch.demo.state import (
    Asset,
    Builder,
    Occupancy,
    Site,
)


def customer(b: Builder) -> uuid.UUID:
    customer_id = b.new_id()
    name = b.person_name()
    handle = name.lower().replace(" ", ".")
    number = len(b.world.rows["customers"]) + 1
    b.world.add(
        "customers",
        customer_id,
        f"C{number:05d}",
        name,
        f"{handle}{number}@example.com",
        f"+1 651 555 {number % 10000:04d}",
    )
    return customer_id


def new_address(b: Builder, territory: int) -> tuple[str, str, str]:
    spec = TERRITORIES[territory]
    while True:
        line = f"{b.rng.randint(100, 5999)} {b.rng.choice(spec.streets)}"
        if line not in b.used_addresses:
            b.used_addresses.add(line)
            return line, spec.city, b.rng.choice(spec.postal_codes)


def occupancies(b: Builder, moves: int) -> list[Occupancy]:
    first = datetime(b.rng.randint(2006, 2014), b.rng.randint(1, 12), 1, 12, tzinfo=UTC)
    horizon = datetime.combine(b.today - timedelta(days=60), time(12), UTC)
    result: list[Occupancy] = []
    start = first
    for index in range(moves + 1):
        remaining = moves - index
        if remaining:
            latest = horizon - timedelta(days=400 * remaining)
            end = start + (latest - start) * b.rng.uniform(0.3, 0.9) if latest > start else None
        else:
            end = None
        result.append(Occupancy(customer(b), start, end))
        if end is None:
            break
        start = end
    return result


def add_site(
    b: Builder, territory: int, *, moves: int | None = None, address: tuple[str, str, str] | None = None
) -> Site:
    lat, lon = b.point_in(territory)
    line, city, postal = address or new_address(b, territory)
    if moves is None:
        moves = b.rng.choices((0, 1, 2), (0.62, 0.3, 0.08))[0]
    site = Site(b.new_id(), territory, lat, lon, occupancies(b, moves))
    number = len(b.sites) + 1
    b.world.add(
        "sites",
        site.id,
        f"S{number:05d}",
        b.territory_ids[territory],
        line,
        city,
        postal,
        address_key(line, city, postal),
        lat,
        lon,
        b.rng.choice(ACCESS_NOTES),
    )
    for occ in site.occupancies:
        b.world.add("site_occupancies", b.new_id(), site.id, occ.customer_id, occ.started_at, occ.ended_at)
    b.sites.append(site)
    return site


def install(
    b: Builder,
    site: Site,
    model: DemoModel,
    installed_at: datetime,
    attributes: dict[str, AttributeValue],
    *,
    true_spring_size: str | None = None,
    by_us: bool,
    removed_at: datetime | None = None,
) -> Asset:
    asset = Asset(b.new_id(), site, model, attributes, true_spring_size, installed_at, removed_at)
    warranty_years = {"garage_door": 10, "garage_door_opener": 5, "hvac_unit": 10}.get(model.kind)
    warranty = (
        date(installed_at.year + warranty_years, installed_at.month, 1) if by_us and warranty_years else None
    )
    serial = "".join(b.rng.choices("ABCDEFGHJKLMNPRSTUVWXYZ0123456789", k=10))
    number = len(b.world.rows["assets"]) + 1
    b.world.add(
        "assets",
        asset.id,
        f"A{number:05d}",
        site.id,
        model.kind,
        model.make,
        model.model,
        serial,
        installed_at,
        warranty,
        attributes,
        removed_at,
    )
    site.assets.append(asset)
    if by_us:
        b.world.add(
            "asset_events",
            b.new_id(),
            asset.id,
            None,
            None,
            "install",
            None,
            f"Installed {model.make} {model.model}",
            installed_at,
        )
    return asset


def door(b: Builder, site: Site, *, installed: datetime | None = None, width: int | None = None) -> Asset:
    model = b.pick_model(DOOR_MODELS)
    width = width or b.rng.choice((9, 9, 16))
    springs = 2 if width == 16 else b.rng.choice((1, 1, 2))
    weight = b.rng.randint(150, 260) if width == 16 else b.rng.randint(70, 140)
    height = b.rng.choice((7, 7, 7, 8))
    size = spring_size_for(weight, springs)
    attributes: dict[str, AttributeValue] = {
        "width_ft": width,
        "height_ft": height,
        "weight_lb": weight,
        "springs": springs,
    }
    # Older records lack the spring size; the door's own history or its weight must tell it.
    if b.rng.random() > 0.12:
        attributes["spring_size"] = size
    when = installed or b.random_moment(date(2008, 1, 1), date(2023, 6, 1))
    return install(b, site, model, when, attributes, true_spring_size=size, by_us=b.rng.random() < 0.65)


def furnish(b: Builder, site: Site) -> None:
    if b.rng.random() < 0.72:
        door(b, site)
        if b.rng.random() < 0.06:
            door(b, site)  # a second garage: intake has to ask which door
        if b.rng.random() < 0.75:
            model = b.pick_model(OPENER_MODELS)
            when = b.random_moment(date(2012, 1, 1), date(2024, 6, 1))
            install(b, site, model, when, dict(model.attributes), by_us=b.rng.random() < 0.6)
    if b.rng.random() < 0.55 or not site.assets:
        model = b.pick_model(HVAC_MODELS)
        when = b.random_moment(date(2008, 1, 1), date(2024, 6, 1))
        install(b, site, model, when, dict(model.attributes), by_us=b.rng.random() < 0.5)
    for occ in site.occupancies:
        # Vehicles leave with their owners; the door and the furnace stay with the house.
        if b.rng.random() < (0.42 if occ.ended_at is None else 0.3):
            vehicle(b, site, occ.started_at, occ.ended_at)


def vehicle(b: Builder, site: Site, since: datetime, until: datetime | None) -> Asset:
    model = b.pick_model(VEHICLE_MODELS)
    attributes: dict[str, AttributeValue] = {
        **model.attributes,
        "year": b.rng.randint(since.year - 4, since.year),
    }
    # On record from when its owner moved in until they moved out with it.
    return install(b, site, model, since, attributes, by_us=False, removed_at=until)
