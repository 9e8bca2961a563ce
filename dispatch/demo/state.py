"""Shared state of the demo builder: the rows being collected, the seeded generator, the plain records."""

from __future__ import annotations

import random
import uuid
from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, time, timedelta
from zoneinfo import ZoneInfo

from dispatch.demo.catalogue import (
    FIRST_NAMES,
    LAST_NAMES,
    LAT_RANGE,
    LON_RANGE,
    TERRITORY_SPLIT_LON,
    TIMEZONE,
    AttributeValue,
    DemoModel,
)

TZ = ZoneInfo(TIMEZONE)
HISTORY_FROM = date(2016, 1, 1)
SITES = 500
OPEN_JOBS = 60
EMAIL_DOMAIN = "demo.truckroll.test"

_COLUMN_LISTS = {
    "territories": "id name timezone",
    "parts": "id sku name unit_cost_cents sold_in_multiples_of attributes",
    "fitments": "id part_id asset_kind make model conditions quantity",
    "technicians": "id external_id name email phone territory_id home_latitude home_longitude",
    "technician_skills": "technician_id skill level",
    "stock_locations": "id kind name territory_id technician_id latitude longitude",
    "stock_levels": "location_id part_id quantity",
    "shifts": (
        "id technician_id starts_at ends_at start_latitude start_longitude end_latitude "
        "end_longitude overtime_limit_s"
    ),
    "shift_breaks": "id shift_id earliest_start_at latest_end_at duration_s",
    "customers": "id external_id name email phone",
    "sites": (
        "id external_id territory_id address_line city postal_code address_key latitude "
        "longitude access_notes"
    ),
    "site_occupancies": "id site_id customer_id started_at ended_at",
    "customer_technician_preferences": "customer_id technician_id preference reason",
    "assets": (
        "id external_id site_id kind make model serial installed_at warranty_until attributes removed_at"
    ),
    "jobs": (
        "id external_id site_id asset_id customer_id parent_job_id problem_code "
        "problem_description customer_choice required_skills duration_s duration_source "
        "window_start_at window_end_at priority status technician_id planned_start_at "
        "started_at finished_at created_at updated_at"
    ),
    "job_events": "job_id kind from_status to_status actor reason data occurred_at",
    "asset_events": "id asset_id job_id technician_id kind problem_code summary occurred_at",
    "asset_event_parts": "asset_event_id part_id quantity",
}
COLUMNS: dict[str, tuple[str, ...]] = {t: tuple(c.split()) for t, c in _COLUMN_LISTS.items()}
# Inserted in this order so every foreign key points at a row that is already there.
TABLES = tuple(COLUMNS)

Row = tuple[object, ...]


@dataclass(frozen=True)
class DemoUser:
    email: str
    password: str
    role: str
    technician_id: uuid.UUID | None = None
    technician_name: str | None = None


@dataclass
class DemoWorld:
    rows: dict[str, list[Row]] = field(default_factory=lambda: {t: [] for t in TABLES})
    users: list[DemoUser] = field(default_factory=list)
    # The two stories of the product, so a caller (or a test) can find them.
    garage_door_site_id: uuid.UUID | None = None
    windshield_site_id: uuid.UUID | None = None

    def add(self, table: str, *values: object) -> None:
        assert len(values) == len(COLUMNS[table]), table
        self.rows[table].append(values)


@dataclass
class Tech:
    id: uuid.UUID
    name: str
    territory: int
    skills: dict[str, int]
    van: set[str]


@dataclass
class Asset:
    id: uuid.UUID
    site: Site
    model: DemoModel
    attributes: dict[str, AttributeValue]  # what is on record
    true_spring_size: str | None  # what the door really takes, even when not on record
    installed_at: datetime
    removed_at: datetime | None


@dataclass
class Occupancy:
    customer_id: uuid.UUID
    started_at: datetime
    ended_at: datetime | None


@dataclass
class Site:
    id: uuid.UUID
    territory: int
    latitude: float
    longitude: float
    occupancies: list[Occupancy]
    assets: list[Asset] = field(default_factory=list)
    simulated: bool = True  # the story sites keep exactly the history they are written with

    def occupant_at(self, moment: datetime) -> uuid.UUID | None:
        for occ in self.occupancies:
            if occ.started_at <= moment and (occ.ended_at is None or moment < occ.ended_at):
                return occ.customer_id
        return None

    @property
    def current_occupant(self) -> uuid.UUID:
        return self.occupancies[-1].customer_id


def local(day: date, hour: float) -> datetime:
    """A wall-clock time in the metro, as an aware UTC instant (DST handled by zoneinfo)."""
    minutes = round(hour * 60)
    return datetime.combine(day, time(minutes // 60, minutes % 60), TZ).astimezone(UTC)


class Builder:
    """The seeded generator and everything built so far; the demo_* modules add to it in order."""

    def __init__(self, seed: int, today: date, now: datetime) -> None:
        self.seed = seed
        self.rng = random.Random(seed)
        self.streams: dict[str, random.Random] = {}
        self.today = today
        self.now = now
        self.world = DemoWorld()
        self.territory_ids: list[uuid.UUID] = []
        self.part_ids: dict[str, uuid.UUID] = {}
        self.techs: list[Tech] = []
        self.sites: list[Site] = []
        self.used_addresses: set[str] = set()
        self.used_names: set[str] = set()
        self.job_seq = 0

    def new_id(self, rng: random.Random | None = None) -> uuid.UUID:
        return uuid.UUID(int=(rng or self.rng).getrandbits(128), version=4)

    def stream(self, key: str) -> random.Random:
        """A generator of its own for `key`, from the seed: what draws from it leaves `rng` alone."""
        found = self.streams.get(key)
        if found is None:
            found = self.streams[key] = random.Random(f"{self.seed}:{key}")
        return found

    def point_in(self, territory: int) -> tuple[float, float]:
        lon_lo, lon_hi = (
            (LON_RANGE[0], TERRITORY_SPLIT_LON) if territory == 0 else (TERRITORY_SPLIT_LON, LON_RANGE[1])
        )
        lat = self.rng.uniform(*LAT_RANGE)
        lon = self.rng.uniform(lon_lo + 0.01, lon_hi - 0.01)
        return round(lat, 6), round(lon, 6)

    def person_name(self) -> str:
        while True:
            name = f"{self.rng.choice(FIRST_NAMES)} {self.rng.choice(LAST_NAMES)}"
            if name not in self.used_names or len(self.used_names) > 900:
                self.used_names.add(name)
                return name

    def random_moment(self, start: date, end: date) -> datetime:
        day = start + timedelta(days=self.rng.randint(0, max(0, (end - start).days)))
        return local(day, self.rng.uniform(8, 16))

    def pick_model(self, models: Sequence[DemoModel]) -> DemoModel:
        return self.rng.choices(models, [m.weight for m in models])[0]
