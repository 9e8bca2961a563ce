"""A whole demo company, built in memory from a seed and a day: no I/O, so it is tested directly.

Rows come out as tuples in the column order of `COLUMNS`, ready for one bulk insert per table.
History is simulated rather than drawn at random per row, so it has the structure the dispatch
logic learns from: springs that wear out and are replaced by size, models that take longer,
first visits that lacked a part and needed a second one, owners who moved out while the door stayed.
"""

from __future__ import annotations

import math
import random
import uuid
from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, time, timedelta
from zoneinfo import ZoneInfo

from assets.addresses import address_key
from dispatch.demo_catalogue import (
    ACCESS_NOTES,
    DOOR_MODELS,
    FIRST_NAMES,
    FITMENTS,
    HVAC_MODELS,
    HVAC_PROBLEMS_BY_TYPE,
    LAST_NAMES,
    LAT_RANGE,
    LON_RANGE,
    OPENER_MODELS,
    PARTS,
    PROBLEM_CODES,
    PROBLEMS,
    SKILL_PROFILES,
    TEAM,
    TERRITORIES,
    TERRITORY_SPLIT_LON,
    TIMEZONE,
    VEHICLE_MODELS,
    AttributeValue,
    DemoModel,
    DemoProblem,
    DemoVariant,
    spring_size_for,
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
class _Tech:
    id: uuid.UUID
    name: str
    territory: int
    skills: dict[str, int]
    van: set[str]


@dataclass
class _Asset:
    id: uuid.UUID
    site: _Site
    model: DemoModel
    attributes: dict[str, AttributeValue]  # what is on record
    true_spring_size: str | None  # what the door really takes, even when not on record
    installed_at: datetime
    removed_at: datetime | None


@dataclass
class _Occupancy:
    customer_id: uuid.UUID
    started_at: datetime
    ended_at: datetime | None


@dataclass
class _Site:
    id: uuid.UUID
    territory: int
    latitude: float
    longitude: float
    occupancies: list[_Occupancy]
    assets: list[_Asset] = field(default_factory=list)
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


class _Builder:
    def __init__(self, seed: int, today: date, now: datetime) -> None:
        self.rng = random.Random(seed)
        self.today = today
        self.now = now
        self.world = DemoWorld()
        self.territory_ids: list[uuid.UUID] = []
        self.part_ids: dict[str, uuid.UUID] = {}
        self.techs: list[_Tech] = []
        self.sites: list[_Site] = []
        self.used_addresses: set[str] = set()
        self.used_names: set[str] = set()
        self.job_seq = 0

    def new_id(self) -> uuid.UUID:
        return uuid.UUID(int=self.rng.getrandbits(128), version=4)

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

    # -- the company -------------------------------------------------------------------------

    def company(self) -> None:
        for territory in TERRITORIES:
            territory_id = self.new_id()
            self.territory_ids.append(territory_id)
            self.world.add("territories", territory_id, territory.name, TIMEZONE)
        for part in PARTS:
            part_id = self.new_id()
            self.part_ids[part.sku] = part_id
            self.world.add(
                "parts",
                part_id,
                part.sku,
                part.name,
                part.unit_cost_cents,
                part.sold_in_multiples_of,
                part.attributes,
            )
        for fit in FITMENTS:
            self.world.add(
                "fitments",
                self.new_id(),
                self.part_ids[fit.sku],
                fit.asset_kind,
                fit.make,
                fit.model,
                fit.conditions,
                fit.quantity,
            )
        for index, territory in enumerate(TERRITORIES):
            lat, lon = territory.depot_point
            depot_id = self.new_id()
            self.world.add(
                "stock_locations",
                depot_id,
                "depot",
                territory.depot_name,
                self.territory_ids[index],
                None,
                lat,
                lon,
            )
            for part in PARTS:
                high = 6 if part.sku.startswith("GLS-") else 30
                self.world.add("stock_levels", depot_id, self.part_ids[part.sku], self.rng.randint(2, high))

    def technicians(self) -> None:
        number = 0
        for territory in range(len(TERRITORIES)):
            for profile_index in TEAM:
                number += 1
                profile = SKILL_PROFILES[profile_index]
                name = self.person_name()
                skills = {
                    skill: max(
                        1, min(5, level + (self.rng.choice((-1, 1)) if self.rng.random() < 0.3 else 0))
                    )
                    for skill, level in profile.skills.items()
                }
                tech = _Tech(self.new_id(), name, territory, skills, set())
                lat, lon = self.point_in(territory)
                email = f"{name.lower().replace(' ', '.')}.{number:02d}@{EMAIL_DOMAIN}"
                self.world.add(
                    "technicians",
                    tech.id,
                    f"T{number:03d}",
                    name,
                    email,
                    f"+1 612 555 01{number:02d}",
                    self.territory_ids[territory],
                    lat,
                    lon,
                )
                for skill, level in sorted(skills.items()):
                    self.world.add("technician_skills", tech.id, skill, level)
                van_id = self.new_id()
                self.world.add("stock_locations", van_id, "van", f"Van of {name}", None, tech.id, None, None)
                for sku, quantity in profile.van:
                    # Vans are restocked unevenly: sometimes a bin is short or empty.
                    held = max(
                        0, quantity - (self.rng.randint(0, quantity) if self.rng.random() < 0.25 else 0)
                    )
                    self.world.add("stock_levels", van_id, self.part_ids[sku], held)
                    if held:
                        tech.van.add(sku)
                self.techs.append(tech)
                self.shifts(tech, lat, lon, number)

    def shifts(self, tech: _Tech, lat: float, lon: float, number: int) -> None:
        for offset in (0, 1):
            day = self.today + timedelta(days=offset)
            if offset == 1 and self.rng.random() < 0.1:
                continue  # a day off
            start_hour = (7.0, 8.0, 8.0, 9.0)[number % 4]
            shift_id = self.new_id()
            self.world.add(
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
            self.world.add(
                "shift_breaks",
                self.new_id(),
                shift_id,
                local(day, start_hour + 3.5),
                local(day, start_hour + 6.5),
                1800,
            )

    # -- sites, owners, assets ---------------------------------------------------------------

    def customer(self) -> uuid.UUID:
        customer_id = self.new_id()
        name = self.person_name()
        handle = name.lower().replace(" ", ".")
        number = len(self.world.rows["customers"]) + 1
        self.world.add(
            "customers",
            customer_id,
            f"C{number:05d}",
            name,
            f"{handle}{number}@example.com",
            f"+1 651 555 {number % 10000:04d}",
        )
        return customer_id

    def address(self, territory: int) -> tuple[str, str, str]:
        spec = TERRITORIES[territory]
        while True:
            line = f"{self.rng.randint(100, 5999)} {self.rng.choice(spec.streets)}"
            if line not in self.used_addresses:
                self.used_addresses.add(line)
                return line, spec.city, self.rng.choice(spec.postal_codes)

    def occupancies(self, moves: int) -> list[_Occupancy]:
        first = datetime(self.rng.randint(2006, 2014), self.rng.randint(1, 12), 1, 12, tzinfo=UTC)
        horizon = datetime.combine(self.today - timedelta(days=60), time(12), UTC)
        result: list[_Occupancy] = []
        start = first
        for index in range(moves + 1):
            remaining = moves - index
            if remaining:
                latest = horizon - timedelta(days=400 * remaining)
                end = start + (latest - start) * self.rng.uniform(0.3, 0.9) if latest > start else None
            else:
                end = None
            result.append(_Occupancy(self.customer(), start, end))
            if end is None:
                break
            start = end
        return result

    def site(
        self, territory: int, *, moves: int | None = None, address: tuple[str, str, str] | None = None
    ) -> _Site:
        lat, lon = self.point_in(territory)
        line, city, postal = address or self.address(territory)
        if moves is None:
            moves = self.rng.choices((0, 1, 2), (0.62, 0.3, 0.08))[0]
        site = _Site(self.new_id(), territory, lat, lon, self.occupancies(moves))
        number = len(self.sites) + 1
        self.world.add(
            "sites",
            site.id,
            f"S{number:05d}",
            self.territory_ids[territory],
            line,
            city,
            postal,
            address_key(line, city, postal),
            lat,
            lon,
            self.rng.choice(ACCESS_NOTES),
        )
        for occ in site.occupancies:
            self.world.add(
                "site_occupancies", self.new_id(), site.id, occ.customer_id, occ.started_at, occ.ended_at
            )
        self.sites.append(site)
        return site

    def pick_model(self, models: Sequence[DemoModel]) -> DemoModel:
        return self.rng.choices(models, [m.weight for m in models])[0]

    def install(
        self,
        site: _Site,
        model: DemoModel,
        installed_at: datetime,
        attributes: dict[str, AttributeValue],
        *,
        true_spring_size: str | None = None,
        by_us: bool,
        removed_at: datetime | None = None,
    ) -> _Asset:
        asset = _Asset(self.new_id(), site, model, attributes, true_spring_size, installed_at, removed_at)
        warranty_years = {"garage_door": 10, "garage_door_opener": 5, "hvac_unit": 10}.get(model.kind)
        warranty = (
            date(installed_at.year + warranty_years, installed_at.month, 1)
            if by_us and warranty_years
            else None
        )
        serial = "".join(self.rng.choices("ABCDEFGHJKLMNPRSTUVWXYZ0123456789", k=10))
        number = len(self.world.rows["assets"]) + 1
        self.world.add(
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
            self.world.add(
                "asset_events",
                self.new_id(),
                asset.id,
                None,
                None,
                "install",
                None,
                f"Installed {model.make} {model.model}",
                installed_at,
            )
        return asset

    def door(self, site: _Site, *, installed: datetime | None = None, width: int | None = None) -> _Asset:
        model = self.pick_model(DOOR_MODELS)
        width = width or self.rng.choice((9, 9, 16))
        springs = 2 if width == 16 else self.rng.choice((1, 1, 2))
        weight = self.rng.randint(150, 260) if width == 16 else self.rng.randint(70, 140)
        height = self.rng.choice((7, 7, 7, 8))
        size = spring_size_for(weight, springs)
        attributes: dict[str, AttributeValue] = {
            "width_ft": width,
            "height_ft": height,
            "weight_lb": weight,
            "springs": springs,
        }
        # Older records lack the spring size; the door's own history or its weight must tell it.
        if self.rng.random() > 0.12:
            attributes["spring_size"] = size
        when = installed or self.random_moment(date(2008, 1, 1), date(2023, 6, 1))
        return self.install(
            site, model, when, attributes, true_spring_size=size, by_us=self.rng.random() < 0.65
        )

    def random_moment(self, start: date, end: date) -> datetime:
        day = start + timedelta(days=self.rng.randint(0, max(0, (end - start).days)))
        return local(day, self.rng.uniform(8, 16))

    def furnish(self, site: _Site) -> None:
        if self.rng.random() < 0.72:
            self.door(site)
            if self.rng.random() < 0.06:
                self.door(site)  # a second garage: intake has to ask which door
            if self.rng.random() < 0.75:
                model = self.pick_model(OPENER_MODELS)
                when = self.random_moment(date(2012, 1, 1), date(2024, 6, 1))
                self.install(site, model, when, dict(model.attributes), by_us=self.rng.random() < 0.6)
        if self.rng.random() < 0.55 or not site.assets:
            model = self.pick_model(HVAC_MODELS)
            when = self.random_moment(date(2008, 1, 1), date(2024, 6, 1))
            self.install(site, model, when, dict(model.attributes), by_us=self.rng.random() < 0.5)
        for occ in site.occupancies:
            # Vehicles leave with their owners; the door and the furnace stay with the house.
            if self.rng.random() < (0.42 if occ.ended_at is None else 0.3):
                self.vehicle(site, occ.started_at, occ.ended_at)

    def vehicle(self, site: _Site, since: datetime, until: datetime | None) -> _Asset:
        model = self.pick_model(VEHICLE_MODELS)
        attributes: dict[str, AttributeValue] = {
            **model.attributes,
            "year": self.rng.randint(since.year - 4, since.year),
        }
        # On record from when its owner moved in until they moved out with it.
        return self.install(site, model, since, attributes, by_us=False, removed_at=until)

    # -- history ------------------------------------------------------------------------------

    def fitting(self, asset: _Asset, prefix: str) -> tuple[str, int] | None:
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

    def parts_used(self, asset: _Asset, variant: DemoVariant) -> list[tuple[str, int]]:
        used: list[tuple[str, int]] = []
        for use in variant.parts:
            if self.rng.random() >= use.probability:
                continue
            if use.part.startswith("fitment:"):
                found = self.fitting(asset, use.part.removeprefix("fitment:"))
                if found is None:
                    continue
                sku, quantity = found
                if sku.startswith("SPR-") and self.rng.random() < 0.08:
                    # Noise a model must survive: a technician fitted the next size up.
                    sizes = [p.sku for p in PARTS if p.sku.startswith("SPR-")]
                    sku = sizes[min(len(sizes) - 1, sizes.index(sku) + 1)]
            else:
                sku, quantity = use.part, 2 if use.part == "BRG-END" else 1
            used.append((sku, quantity))
        return used

    def choose_variant(self, problem: DemoProblem) -> tuple[str | None, DemoVariant]:
        if None in problem.variants:
            return None, problem.variants[None]
        replace_share = 0.15 if problem.code == "windshield_chip" else 0.8
        choice = "replace" if self.rng.random() < replace_share else "repair"
        return choice, problem.variants[choice]

    def required_skills(self, asset: _Asset, choice: str | None, variant: DemoVariant) -> dict[str, int]:
        skills = dict(variant.skills)
        if choice == "replace" and asset.attributes.get("adas_camera") is True:
            skills["adas_calibration"] = 2  # the camera must be recalibrated behind new glass
        return skills

    def technician_for(self, territory: int, skills: dict[str, int]) -> _Tech | None:
        qualified = [t for t in self.techs if all(t.skills.get(s, 0) >= level for s, level in skills.items())]
        local_ones = [t for t in qualified if t.territory == territory]
        pool = local_ones or qualified
        return self.rng.choice(pool) if pool else None

    def problems_for(self, asset: _Asset) -> list[DemoProblem]:
        if asset.model.kind == "hvac_unit":
            codes = HVAC_PROBLEMS_BY_TYPE[str(asset.attributes["type"])]
            return [PROBLEM_CODES[c] for c in codes]
        return [p for p in PROBLEMS if p.asset_kind == asset.model.kind]

    def history(self) -> None:
        end = datetime.combine(self.today - timedelta(days=2), time(12), UTC)
        for site in self.sites:
            if not site.simulated:
                continue
            for asset in site.assets:
                start = max(
                    asset.installed_at + timedelta(days=30), datetime.combine(HISTORY_FROM, time(12), UTC)
                )
                stop = min(end, asset.removed_at) if asset.removed_at else end
                for problem in self.problems_for(asset):
                    moment = start
                    while True:
                        moment += timedelta(days=365 * self.rng.expovariate(problem.frequency_per_year))
                        if moment >= stop:
                            break
                        self.past_visit(asset, problem, moment.date())

    def past_visit(self, asset: _Asset, problem: DemoProblem, day: date) -> None:
        site = asset.site
        choice, variant = self.choose_variant(problem)
        skills = self.required_skills(asset, choice, variant)
        tech = self.technician_for(site.territory, skills)
        used = self.parts_used(asset, variant)
        window_start = local(day, self.rng.choice((8, 10, 12, 14)))
        customer = site.occupant_at(window_start)
        parent: uuid.UUID | None = None
        missing = [sku for sku, _ in used if tech is not None and sku not in tech.van]
        if missing and self.rng.random() < 0.5:
            # The first visit found the fault but not the part; the follow-up brought it.
            first_start = window_start + timedelta(minutes=self.rng.randint(0, 90))
            parent = self.past_job(
                asset,
                problem,
                choice,
                skills,
                variant,
                tech,
                customer,
                window_start,
                first_start,
                first_start + timedelta(minutes=self.rng.randint(20, 40)),
                status="incomplete",
                reason=f"missing part {missing[0]}",
            )
            window_start = local(day + timedelta(days=self.rng.randint(1, 3)), self.rng.choice((8, 10, 12)))
        started = window_start + timedelta(minutes=self.rng.randint(0, 110))
        minutes = variant.duration_s / 60 * asset.model.duration_factor * math.exp(self.rng.gauss(0, 0.22))
        finished = started + timedelta(minutes=max(10, round(minutes)))
        job_id = self.past_job(
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
        if self.rng.random() < 0.05:
            used = []  # paperwork that never recorded the parts
        event_id = self.new_id()
        done = ", ".join(f"{q} × {sku}" for sku, q in used) if used else "no parts"
        self.world.add(
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
            self.world.add("asset_event_parts", event_id, self.part_ids[sku], quantity)

    def past_job(
        self,
        asset: _Asset,
        problem: DemoProblem,
        choice: str | None,
        skills: dict[str, int],
        variant: DemoVariant,
        tech: _Tech | None,
        customer: uuid.UUID | None,
        window_start: datetime,
        started: datetime,
        finished: datetime,
        *,
        status: str,
        parent: uuid.UUID | None = None,
        reason: str = "",
    ) -> uuid.UUID:
        job_id = self.new_id()
        self.job_seq += 1
        created = window_start - timedelta(hours=self.rng.randint(4, 72))
        self.world.add(
            "jobs",
            job_id,
            f"J{self.job_seq:06d}",
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
        self.world.add("job_events", job_id, "created", None, "new", "dispatch", "", {}, created)
        self.world.add("job_events", job_id, "on_site", "en_route", "on_site", actor, "", {}, started)
        self.world.add("job_events", job_id, status, "on_site", status, actor, reason, {}, finished)
        return job_id

    # -- the two stories and today's work ----------------------------------------------------

    def garage_door_story(self) -> None:
        """A spring breaks on a door the company installed for the previous owners."""
        site = self.site(0, moves=1, address=("4217 Xerxes Ave S", "Minneapolis", "55410"))
        site.simulated = False
        moved_in = datetime(2022, 5, 1, 17, tzinfo=UTC)
        site.occupancies[0].ended_at = moved_in
        site.occupancies[1].started_at = moved_in
        rows = self.world.rows["site_occupancies"]
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
        door = self.install(
            site, door_model, local(date(2017, 4, 12), 9), attributes, true_spring_size="218", by_us=True
        )
        spring = PROBLEM_CODES["broken_spring"]
        tech = self.technician_for(0, spring.variants[None].skills)
        job_id = self.past_job(
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
        event_id = self.new_id()
        self.world.add(
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
        self.world.add("asset_event_parts", event_id, self.part_ids["SPR-218"], 2)
        self.world.garage_door_site_id = site.id

    def windshield_story(self) -> None:
        site = self.site(1, moves=0, address=("1580 Grand Ave", "Saint Paul", "55105"))
        site.simulated = False
        model = VEHICLE_MODELS[0]
        self.install(
            site, model, datetime(2021, 3, 1, 12, tzinfo=UTC), {**model.attributes, "year": 2021}, by_us=False
        )
        self.world.windshield_site_id = site.id

    def slots(self, day: date) -> list[tuple[datetime, datetime]]:
        windows = [(local(day, h), local(day, h + 2)) for h in (8, 10, 12, 14, 16)]
        windows += [(local(day, 8), local(day, 12)), (local(day, 12), local(day, 16))]
        # Today only offers windows that are still ahead.
        return [(s, e) for s, e in windows if s >= self.now + timedelta(minutes=30)]

    def open_jobs(self) -> None:
        tomorrow = self.today + timedelta(days=1)
        today_slots, tomorrow_slots = self.slots(self.today), self.slots(tomorrow)
        story = [
            (self.sites[0], "broken_spring", None, (today_slots or tomorrow_slots)[0], 2),
            (self.sites[1], "windshield_crack", "replace", tomorrow_slots[5], 3),
        ]
        for site, code, choice, window, priority in story:
            asset = next(a for a in site.assets if a.model.kind == PROBLEM_CODES[code].asset_kind)
            self.open_job(site, asset, PROBLEM_CODES[code], choice, window, priority)
        candidates = [s for s in self.sites[2:] if s.assets]
        for index, site in enumerate(self.rng.sample(candidates, OPEN_JOBS - len(story))):
            live = [a for a in site.assets if a.removed_at is None]
            asset = self.rng.choice(live)
            problem = self.rng.choice(self.problems_for(asset))
            choice, _ = self.choose_variant(problem)
            slots = today_slots if index % 2 == 0 and today_slots else tomorrow_slots
            priority = {"no_heat": 1, "broken_spring": 2, "annual_maintenance": 5}.get(problem.code, 3)
            self.open_job(site, asset, problem, choice, self.rng.choice(slots), priority)

    def open_job(
        self,
        site: _Site,
        asset: _Asset,
        problem: DemoProblem,
        choice: str | None,
        window: tuple[datetime, datetime],
        priority: int,
    ) -> None:
        variant = problem.variants[choice]
        job_id = self.new_id()
        self.job_seq += 1
        created = self.now - timedelta(minutes=self.rng.randint(10, 600))
        self.world.add(
            "jobs",
            job_id,
            f"J{self.job_seq:06d}",
            site.id,
            asset.id,
            site.current_occupant,
            None,
            problem.code,
            problem.name,
            choice,
            self.required_skills(asset, choice, variant),
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
        self.world.add("job_events", job_id, "created", None, "new", "dispatch", "", {}, created)

    def preferences(self) -> None:
        served: list[tuple[uuid.UUID, uuid.UUID]] = []
        for site in self.sites:
            tech = self.rng.choice(self.techs) if self.rng.random() < 0.1 else None
            if tech and tech.territory == site.territory:
                served.append((site.current_occupant, tech.id))
        for index, (customer_id, tech_id) in enumerate(served[:14]):
            preferred = index % 5 != 4
            self.world.add(
                "customer_technician_preferences",
                customer_id,
                tech_id,
                "preferred" if preferred else "excluded",
                "Asked for them again" if preferred else "Asked not to send them again",
            )

    def users(self) -> None:
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

        def password() -> str:
            return f"{self.rng.choice(words)}-{self.rng.choice(words)}-{self.rng.randint(100, 999)}"

        self.world.users.append(DemoUser(f"admin@{EMAIL_DOMAIN}", password(), "admin"))
        self.world.users.append(DemoUser(f"dispatcher@{EMAIL_DOMAIN}", password(), "dispatcher"))
        for row in self.world.rows["technicians"]:
            tech_id, name, email = row[0], row[2], row[3]
            assert isinstance(tech_id, uuid.UUID)
            assert isinstance(name, str)
            assert isinstance(email, str)
            self.world.users.append(DemoUser(email, password(), "technician", tech_id, name))


def build_world(seed: int, today: date, now: datetime) -> DemoWorld:
    """The company on `today` (a metro date); `now` decides which of today's windows are left."""
    builder = _Builder(seed, today, now)
    builder.company()
    builder.technicians()
    builder.garage_door_story()
    builder.windshield_story()
    while len(builder.sites) < SITES:
        site = builder.site(len(builder.sites) % 2)
        builder.furnish(site)
    builder.history()
    builder.open_jobs()
    builder.preferences()
    builder.users()
    return builder.world
