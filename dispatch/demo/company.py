"""The company itself: territories, depots, parts and fitments, technicians with vans and shifts, logins."""

from __future__ import annotations

import random
import uuid
from datetime import timedelta

from dispatch.demo.catalogue import (
    FITMENTS,
    PARTS,
    SKILL_PROFILES,
    TEAM,
    TERRITORIES,
    TIMEZONE,
    family_of,
)
from dispatch.demo.state import (
    EMAIL_DOMAIN,
    Builder,
    DemoUser,
    Tech,
    local,
)

OWN_STREAM = frozenset(part.sku for part in PARTS if part.own_stream)


def part_rng(b: Builder, sku: str) -> random.Random:
    """The generator a part's ids and stock are drawn from (see DemoPart.own_stream)."""
    return b.stream(f"part:{sku}") if sku in OWN_STREAM else b.rng


def company(b: Builder) -> None:
    for territory in TERRITORIES:
        territory_id = b.new_id()
        b.territory_ids.append(territory_id)
        b.world.add("territories", territory_id, territory.name, TIMEZONE)
    for part in PARTS:
        part_id = b.new_id(part_rng(b, part.sku))
        b.part_ids[part.sku] = part_id
        b.world.add(
            "parts",
            part_id,
            part.sku,
            part.name,
            part.unit_cost_cents,
            part.sold_in_multiples_of,
            {**part.attributes, "family": family_of(part.sku)},
        )
    for fit in FITMENTS:
        b.world.add(
            "fitments",
            b.new_id(part_rng(b, fit.sku)),
            b.part_ids[fit.sku],
            fit.asset_kind,
            fit.make,
            fit.model,
            fit.conditions,
            fit.quantity,
        )
    for index, territory in enumerate(TERRITORIES):
        lat, lon = territory.depot_point
        depot_id = b.new_id()
        b.world.add(
            "stock_locations",
            depot_id,
            "depot",
            territory.depot_name,
            b.territory_ids[index],
            None,
            lat,
            lon,
        )
        for part in PARTS:
            high = 6 if part.sku.startswith("GLS-") else 30
            level = part_rng(b, part.sku).randint(2, high)
            b.world.add("stock_levels", depot_id, b.part_ids[part.sku], level)


def technicians(b: Builder) -> None:
    number = 0
    for territory in range(len(TERRITORIES)):
        for profile_index in TEAM:
            number += 1
            profile = SKILL_PROFILES[profile_index]
            name = b.person_name()
            skills = {
                skill: max(1, min(5, level + (b.rng.choice((-1, 1)) if b.rng.random() < 0.3 else 0)))
                for skill, level in profile.skills.items()
            }
            tech = Tech(b.new_id(), name, territory, skills, set())
            lat, lon = b.point_in(territory)
            email = f"{name.lower().replace(' ', '.')}.{number:02d}@{EMAIL_DOMAIN}"
            b.world.add(
                "technicians",
                tech.id,
                f"T{number:03d}",
                name,
                email,
                f"+1 612 555 01{number:02d}",
                b.territory_ids[territory],
                lat,
                lon,
            )
            for skill, level in sorted(skills.items()):
                b.world.add("technician_skills", tech.id, skill, level)
            van_id = b.new_id()
            b.world.add("stock_locations", van_id, "van", f"Van of {name}", None, tech.id, None, None)
            for sku, quantity in profile.van:
                # Vans are restocked unevenly: sometimes a bin is short or empty.
                rng = part_rng(b, sku)
                held = max(0, quantity - (rng.randint(0, quantity) if rng.random() < 0.25 else 0))
                b.world.add("stock_levels", van_id, b.part_ids[sku], held)
                if held:
                    tech.van.add(sku)
            b.techs.append(tech)
            shifts(b, tech, lat, lon, number)


def shifts(b: Builder, tech: Tech, lat: float, lon: float, number: int) -> None:
    for offset in (0, 1):
        day = b.today + timedelta(days=offset)
        if offset == 1 and b.rng.random() < 0.1:
            continue  # a day off
        start_hour = (7.0, 8.0, 8.0, 9.0)[number % 4]
        shift_id = b.new_id()
        b.world.add(
            "shifts",
            shift_id,
            tech.id,
            local(day, start_hour),
            local(day, start_hour + 8.5),
            lat,
            lon,
            lat,
            lon,
            3600,
        )
        b.world.add(
            "shift_breaks",
            b.new_id(),
            shift_id,
            local(day, start_hour + 3.5),
            local(day, start_hour + 6.5),
            1800,
        )


def preferences(b: Builder) -> None:
    served: list[tuple[uuid.UUID, uuid.UUID]] = []
    for site in b.sites:
        tech = b.rng.choice(b.techs) if b.rng.random() < 0.1 else None
        if tech and tech.territory == site.territory:
            served.append((site.current_occupant, tech.id))
    for index, (customer_id, tech_id) in enumerate(served[:14]):
        preferred = index % 5 != 4
        b.world.add(
            "customer_technician_preferences",
            customer_id,
            tech_id,
            "preferred" if preferred else "excluded",
            "Asked for them again" if preferred else "Asked not to send them again",
        )


def users(b: Builder) -> None:
    words = (
        "spring",
        "cable",
        "glass",
        "rivet",
        "torque",
        "valve",
        "ember",
        "harbor",
        "maple",
        "prairie",
    )

    # A stream of their own: drawn from the shared generator, the passwords moved with the day
    # (how many of today's windows are left), so `truckroll demo --logins` could not print them
    # again. From the seed alone, they are the same every day.
    rng = b.stream("logins")

    def password() -> str:
        return f"{rng.choice(words)}-{rng.choice(words)}-{rng.randint(100, 999)}"

    b.world.users.append(DemoUser(f"admin@{EMAIL_DOMAIN}", password(), "admin"))
    b.world.users.append(DemoUser(f"dispatcher@{EMAIL_DOMAIN}", password(), "dispatcher"))
    for row in b.world.rows["technicians"]:
        tech_id, name, email = row[0], row[2], row[3]
        assert isinstance(tech_id, uuid.UUID)
        assert isinstance(name, str)
        assert isinstance(email, str)
        b.world.users.append(DemoUser(email, password(), "technician", tech_id, name))
