"""A synthetic fleet for the benchmarks: technicians spread over a metro area, each with a shift,
a lunch break and a day of planned visits near home. The same rows feed the database or, as
`Day`s, the matcher directly."""

from __future__ import annotations

import random
import uuid
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from zoneinfo import ZoneInfo

from dispatch.matching.route_plan import BreakSlot, Day, Visit
from dispatch.matching.route_queries import TechnicianRow
from infra.db import Connection

ZONE = ZoneInfo("America/Chicago")
CENTRE = (44.97, -93.26)
KM_LAT = 1 / 111.2
KM_LON = 1 / 78.7  # at 45 degrees north


def local(day: datetime, hours: float) -> datetime:
    return day + timedelta(hours=hours)


@dataclass
class Fleet:
    territory_id: uuid.UUID
    day: datetime
    technicians: list[TechnicianRow] = field(default_factory=list)
    shifts: list[tuple[uuid.UUID, uuid.UUID]] = field(default_factory=list)  # (shift, technician)
    sites: list[tuple[uuid.UUID, float, float]] = field(default_factory=list)
    jobs: list[tuple[uuid.UUID, uuid.UUID, uuid.UUID, datetime, datetime, int, datetime]] = field(
        default_factory=list
    )  # (job, site, technician, window start, window end, duration, planned start)

    def point(self, rng: random.Random, centre: tuple[float, float], km: float) -> tuple[float, float]:
        return (
            centre[0] + rng.uniform(-km, km) * KM_LAT,
            centre[1] + rng.uniform(-km, km) * KM_LON,
        )

    def days(self) -> list[Day]:
        """The fleet's day as the matcher sees it before the shift starts."""
        by_tech: dict[uuid.UUID, list[Visit]] = {}
        sites = {s[0]: (s[1], s[2]) for s in self.sites}
        for job_id, site_id, tech_id, start, end, duration, planned in self.jobs:
            by_tech.setdefault(tech_id, []).append(
                Visit(
                    job_id,
                    sites[site_id],
                    start.timestamp(),
                    end.timestamp(),
                    float(duration),
                    planned_start=planned.timestamp(),
                )
            )
        homes = {t.id: t.home for t in self.technicians}
        return [
            Day(
                technician_id=tech_id,
                shift_id=shift_id,
                start_point=homes[tech_id],
                end_point=homes[tech_id],
                start_at=local(self.day, 8).timestamp(),
                end_latest=local(self.day, 17).timestamp(),
                shift_s=9 * 3600,
                visits=by_tech.get(tech_id, []),
                breaks=[
                    BreakSlot(local(self.day, 11.5).timestamp(), local(self.day, 13.5).timestamp(), 1800)
                ],
            )
            for shift_id, tech_id in self.shifts
        ]


def make_fleet(technicians: int, stops: int, *, seed: int = 1, radius_km: float = 25.0) -> Fleet:
    rng = random.Random(seed)
    fleet = Fleet(territory_id=uuid.uuid4(), day=datetime(2026, 12, 1, tzinfo=ZONE))
    for number in range(technicians):
        home = fleet.point(rng, CENTRE, radius_km)
        tech = TechnicianRow(
            id=uuid.uuid4(),
            name=f"Technician {number:04d}",
            territory_id=fleet.territory_id,
            active=True,
            home=home,
            skills={"garage_door": rng.randint(2, 5), "garage_door_springs": rng.randint(2, 5)},
        )
        fleet.technicians.append(tech)
        fleet.shifts.append((uuid.uuid4(), tech.id))
        for i in range(stops):
            site_id = uuid.uuid4()
            lat, lon = fleet.point(rng, home, 4.0)
            fleet.sites.append((site_id, lat, lon))
            planned = local(fleet.day, 8.25 + i * (8 / max(stops, 1)))
            fleet.jobs.append(
                (
                    uuid.uuid4(),
                    site_id,
                    tech.id,
                    planned - timedelta(minutes=30),
                    planned + timedelta(minutes=90),
                    2400,
                    planned,
                )
            )
    return fleet


async def store(conn: Connection, fleet: Fleet) -> None:
    """Write the fleet with COPY: thousands of rows in a moment."""
    await conn.execute(
        "INSERT INTO territories (id, name, timezone) VALUES ($1, $2, 'America/Chicago')",
        fleet.territory_id,
        f"Bench metro {fleet.territory_id.hex[:6]}",
    )
    await conn.copy_records_to_table(
        "technicians",
        records=[(t.id, t.name, fleet.territory_id, t.home[0], t.home[1]) for t in fleet.technicians],
        columns=["id", "name", "territory_id", "home_latitude", "home_longitude"],
    )
    await conn.copy_records_to_table(
        "technician_skills",
        records=[(t.id, skill, level) for t in fleet.technicians for skill, level in t.skills.items()],
        columns=["technician_id", "skill", "level"],
    )
    homes = {t.id: t.home for t in fleet.technicians}
    await conn.copy_records_to_table(
        "shifts",
        records=[
            (s, t, local(fleet.day, 8), local(fleet.day, 17), *homes[t], *homes[t]) for s, t in fleet.shifts
        ],
        columns=[
            "id",
            "technician_id",
            "starts_at",
            "ends_at",
            "start_latitude",
            "start_longitude",
            "end_latitude",
            "end_longitude",
        ],
    )
    await conn.copy_records_to_table(
        "shift_breaks",
        records=[
            (uuid.uuid4(), s, local(fleet.day, 11.5), local(fleet.day, 14), 1800) for s, _ in fleet.shifts
        ],
        columns=["id", "shift_id", "earliest_start_at", "latest_end_at", "duration_s"],
    )
    await conn.copy_records_to_table(
        "sites",
        records=[
            (s, fleet.territory_id, f"{i} Bench Street", f"{i} bench street||", lat, lon)
            for i, (s, lat, lon) in enumerate(fleet.sites)
        ],
        columns=["id", "territory_id", "address_line", "address_key", "latitude", "longitude"],
    )
    await conn.copy_records_to_table(
        "jobs",
        records=[
            (j, site, tech, "broken_spring", d, ws, we, "scheduled", planned)
            for j, site, tech, ws, we, d, planned in fleet.jobs
        ],
        columns=[
            "id",
            "site_id",
            "technician_id",
            "problem_code",
            "duration_s",
            "window_start_at",
            "window_end_at",
            "status",
            "planned_start_at",
        ],
    )
    # COPY has no binary jsonb here; the default of no required skills is set afterwards.
    await conn.execute("""UPDATE jobs SET required_skills = '{"garage_door_springs": 2}'""")
    await conn.execute("ANALYZE")
