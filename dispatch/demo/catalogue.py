"""What the demo company sells and services: parts, fitments, asset models, problems, people.

Plain data, so the generator stays a function of (seed, day) and a test can read the same facts
the data was built from. Door spring sizes follow the usual rule of thumb (heavier door per
spring -> thicker wire); glass part numbers and capacitor ratings are realistic, not a supplier's;
furnace filters come in the common residential sizes, each as often as builders fit its return.
"""

from __future__ import annotations

from dataclasses import dataclass, field

AttributeValue = str | int | float | bool

METRO = "Minneapolis-Saint Paul"
TIMEZONE = "America/Chicago"
# The metro's built-up area; sites and homes are drawn inside it, west of the split in one
# territory and east of it in the other.
LAT_RANGE = (44.86, 45.06)
LON_RANGE = (-93.42, -92.98)
TERRITORY_SPLIT_LON = -93.20


@dataclass(frozen=True)
class DemoTerritory:
    name: str
    city: str
    postal_codes: tuple[str, ...]
    streets: tuple[str, ...]
    depot_name: str
    depot_point: tuple[float, float]


TERRITORIES = (
    DemoTerritory(
        name="Minneapolis West",
        city="Minneapolis",
        postal_codes=("55405", "55408", "55409", "55410", "55416", "55419", "55422", "55426"),
        streets=(
            "Xerxes Ave S",
            "Lyndale Ave S",
            "Bryant Ave S",
            "Humboldt Ave S",
            "Penn Ave S",
            "France Ave S",
            "Zenith Ave S",
            "W 50th St",
            "W 54th St",
            "W 44th St",
            "Minnehaha Pkwy",
            "Lake Harriet Pkwy",
            "Vincent Ave N",
            "Russell Ave N",
            "Excelsior Blvd",
            "W 36th St",
        ),
        depot_name="St. Louis Park depot",
        depot_point=(44.9483, -93.3477),
    ),
    DemoTerritory(
        name="Saint Paul East",
        city="Saint Paul",
        postal_codes=("55104", "55105", "55106", "55116", "55117", "55119", "55102", "55108"),
        streets=(
            "Grand Ave",
            "Summit Ave",
            "Selby Ave",
            "Randolph Ave",
            "Snelling Ave S",
            "Hamline Ave S",
            "Cleveland Ave S",
            "Jefferson Ave",
            "Palace Ave",
            "Marshall Ave",
            "Como Ave",
            "Larpenteur Ave W",
            "White Bear Ave N",
            "Maryland Ave E",
            "Arcade St",
            "Payne Ave",
        ),
        depot_name="Midway depot",
        depot_point=(44.9563, -93.1669),
    ),
)


@dataclass(frozen=True)
class DemoPart:
    sku: str
    name: str
    unit_cost_cents: int
    sold_in_multiples_of: int = 1
    attributes: dict[str, AttributeValue] = field(default_factory=dict)
    # Parts added after the demo was first published take their ids and stock from a stream of
    # their own (company.py), so adding one leaves every other draw of the company as it was.
    own_stream: bool = False


SPRING_SIZES = ("207", "218", "225", "234", "243", "250")


@dataclass(frozen=True)
class GlassGeneration:
    """One windshield part number: a model's glass changes with the model year and with a rain sensor."""

    make: str
    model: str
    years: str  # a fitment range over the vehicle's model year, "2020.." or "..2019"
    rain_sensor: bool
    part: str
    cost_cents: int

    @property
    def years_label(self) -> str:
        low, high = self.years.split("..")
        return f"{low or 'up'} to {high}" if high else f"{low} on"


GLASS = tuple(
    GlassGeneration(make, model, years, rain, f"FW{number + rain:05d}", cost + 4000 * rain)
    for make, model, generations in (
        ("Subaru", "Outback", (("..2019", 4010, 41000), ("2020..", 5065, 46000))),
        ("Toyota", "Camry", (("..2017", 3895, 28000), ("2018..", 4567, 31000))),
        ("Honda", "CR-V", (("..2016", 3650, 27000), ("2017..", 4443, 29000))),
        ("Ford", "F-150", (("..2020", 4154, 33000), ("2021..", 5320, 36000))),
        ("Chevrolet", "Equinox", (("..2017", 3104, 26000), ("2018..", 4772, 30000))),
    )
    for years, number, cost in generations
    for rain in (False, True)
)
# Furnace filters by face and depth, with the share of installations whose return takes each. The
# size is the return grille's or the filter rack's, not the unit's: any furnace can sit behind any
# of them. Builders fit 1-inch racks, 16x25 and 20x25 most of all; a media cabinet (4-inch) came
# with about one install in six, or later as an upgrade.
FILTER_SIZES = (
    ("16x25x1", 0.27),
    ("20x25x1", 0.22),
    ("16x20x1", 0.13),
    ("20x20x1", 0.12),
    ("14x25x1", 0.08),
    ("16x25x4", 0.10),
    ("20x25x4", 0.08),
)
# A 1-inch rack upgraded to a media cabinet takes the cabinet that fits its return.
MEDIA_UPGRADE = {
    "16x25x1": "16x25x4",
    "20x25x1": "20x25x4",
    "16x20x1": "16x25x4",
    "20x20x1": "20x25x4",
    "14x25x1": "16x25x4",
}
# Run capacitors by rating (uF, compressor/fan): a condenser takes the one on its label.
CAPACITORS = ("30/5", "35/5", "40/5", "45/5")

PARTS: tuple[DemoPart, ...] = (
    *(
        DemoPart(
            f"SPR-{size}",
            f"Torsion spring .{size} wire, oil tempered",
            4200 + 600 * i,
            1,
            {"wire": f".{size}"},
        )
        for i, size in enumerate(SPRING_SIZES)
    ),
    DemoPart("CAB-7", "Lift cables for 7 ft doors (pair)", 2400, attributes={"door_height_ft": 7}),
    DemoPart("CAB-8", "Lift cables for 8 ft doors (pair)", 2600, attributes={"door_height_ft": 8}),
    DemoPart("ROL-NYL", "Nylon roller, sealed bearing", 450),
    DemoPart("BRG-END", "End bearing plate", 1300, 2),
    DemoPart("LB-8500W", "Logic board, wall-mount opener", 12900),
    DemoPart("LB-B970", "Logic board, belt-drive opener", 9900),
    DemoPart("LB-7155", "Logic board, screw-drive opener", 8900),
    DemoPart("GEAR-41C", "Drive gear and sprocket kit", 3200),
    DemoPart("SENS-41A", "Safety reversing sensors (pair)", 4500),
    DemoPart("SENS-GNE", "Safe-T-Beam sensors (pair)", 4300),
    DemoPart("RES-KIT", "Windshield chip resin kit", 900),
    DemoPart("URE-KIT", "Urethane adhesive kit", 3500),
    *(
        DemoPart(
            f"GLS-{g.part}",
            f"Windshield, {g.make} {g.model} {g.years_label}{', rain sensor' if g.rain_sensor else ''}",
            g.cost_cents,
        )
        for g in GLASS
    ),
    *(
        DemoPart(f"CAP-{r.replace('/', '-')}", f"Dual run capacitor {r} uF", 2400 + 100 * i)
        for i, r in enumerate(CAPACITORS)
    ),
    DemoPart("CON-1P30", "Contactor, single pole 30 A", 2200),
    DemoPart("IGN-HSI", "Hot surface igniter", 4100),
    DemoPart("FLS-01", "Flame sensor", 1800),
    *(
        DemoPart(
            f"FLT-{size}",
            f"Media filter {size}, MERV 11" if size.endswith("x4") else f"Pleated air filter {size}, MERV 8",
            3800 if size.endswith("x4") else 700 + 100 * (size.startswith("20x25")),
            # The first filter stood for them all until the sizes came in.
            own_stream=size != FILTER_SIZES[0][0],
        )
        for size, _ in FILTER_SIZES
    ),
)


# A catalogue groups parts by what they do; a job needs "a torsion spring", the asset decides which.
FAMILIES = {
    "SPR-": "torsion_spring",
    "CAB-": "lift_cable",
    "ROL-": "roller",
    "BRG-": "end_bearing",
    "LB-": "logic_board",
    "GEAR-": "drive_gear",
    "SENS-": "safety_sensor",
    "RES-": "resin_kit",
    "URE-": "urethane_kit",
    "GLS-": "windshield",
    "CAP-": "capacitor",
    "CON-": "contactor",
    "IGN-": "igniter",
    "FLS-": "flame_sensor",
    "FLT-": "air_filter",
}


def family_of(sku: str) -> str:
    return next(family for prefix, family in FAMILIES.items() if sku.startswith(prefix))


@dataclass(frozen=True)
class DemoFitment:
    sku: str
    asset_kind: str
    quantity: int
    make: str | None = None
    model: str | None = None
    conditions: dict[str, AttributeValue] = field(default_factory=dict)


@dataclass(frozen=True)
class DemoModel:
    kind: str
    make: str
    model: str
    weight: float  # how often this model turns up among installs of its kind
    # Some models take longer to work on (a TorqueMaster spring is enclosed in a tube), which is
    # what duration learning should discover from history.
    duration_factor: float = 1.0
    attributes: dict[str, AttributeValue] = field(default_factory=dict)


DOOR_MODELS = (
    DemoModel("garage_door", "Clopay", "Classic Steel 4050", 0.30),
    DemoModel("garage_door", "Amarr", "Heritage 3000", 0.22),
    DemoModel("garage_door", "Wayne Dalton", "9100 TorqueMaster", 0.18, 1.45),
    DemoModel("garage_door", "Raynor", "Showcase", 0.15, 1.1),
    DemoModel("garage_door", "CHI", "2283", 0.15),
    DemoModel("garage_door", "Overhead Door", "Thermacore 595", 0.12, 1.1),
)

OPENER_MODELS = (
    DemoModel("garage_door_opener", "LiftMaster", "8500W", 0.35, 1.2, {"drive": "jackshaft"}),
    DemoModel("garage_door_opener", "Chamberlain", "B970", 0.40, 1.0, {"drive": "belt"}),
    DemoModel("garage_door_opener", "Genie", "7155", 0.25, 0.9, {"drive": "screw"}),
)

# Which glass a vehicle takes depends on its year and rain sensor too (see GLASS).
VEHICLE_MODELS = (
    DemoModel("vehicle_glass", "Subaru", "Outback", 0.22, 1.2, {"adas_camera": True}),
    DemoModel("vehicle_glass", "Toyota", "Camry", 0.24, 1.0, {"adas_camera": True}),
    DemoModel("vehicle_glass", "Honda", "CR-V", 0.22, 1.0, {"adas_camera": False}),
    DemoModel("vehicle_glass", "Ford", "F-150", 0.17, 1.15, {"adas_camera": False}),
    DemoModel("vehicle_glass", "Chevrolet", "Equinox", 0.15, 1.0, {"adas_camera": True}),
)

HVAC_MODELS = (
    DemoModel("hvac_unit", "Carrier", "24ACC636", 0.2, 1.0, {"type": "air_conditioner", "capacitor": "45/5"}),
    DemoModel("hvac_unit", "Carrier", "24ACC624", 0.1, 1.0, {"type": "air_conditioner", "capacitor": "40/5"}),
    DemoModel(
        "hvac_unit", "Goodman", "GSX140361", 0.15, 0.9, {"type": "air_conditioner", "capacitor": "35/5"}
    ),
    DemoModel(
        "hvac_unit", "Goodman", "GSX140241", 0.1, 0.9, {"type": "air_conditioner", "capacitor": "30/5"}
    ),
    DemoModel("hvac_unit", "Lennox", "ML180", 0.25, 1.1, {"type": "furnace"}),
    DemoModel("hvac_unit", "Trane", "S9V2", 0.2, 1.25, {"type": "furnace"}),
)


# Heaviest door share (lb per spring) each wire size carries; the last size takes anything heavier.
SPRING_LIMITS = ((70, "207"), (90, "218"), (110, "225"), (135, "234"), (165, "243"))


def spring_size_for(weight_lb: int, springs: int) -> str:
    """The wire size a torsion spring needs for its share of the door's weight."""
    per_spring = weight_lb / springs
    for limit, size in SPRING_LIMITS:
        if per_spring <= limit:
            return size
    return "250"


def weight_ranges(springs: int) -> list[tuple[str, str]]:
    """(size, "lo..hi") door weights, in whole pounds, that each size suits for this spring count."""
    ranges: list[tuple[str, str]] = []
    low = ""
    for limit, size in SPRING_LIMITS:
        ranges.append((size, f"{low}..{limit * springs}"))
        low = str(limit * springs + 1)
    ranges.append(("250", f"{low}.."))
    return ranges


FITMENTS: tuple[DemoFitment, ...] = (
    # A door with two springs has them replaced as a pair; conditions must all match the door.
    *(
        DemoFitment(f"SPR-{size}", "garage_door", count, conditions={"spring_size": size, "springs": count})
        for size in SPRING_SIZES
        for count in (1, 2)
    ),
    # Where the record lacks the spring size, the door's weight still tells it.
    *(
        DemoFitment(f"SPR-{size}", "garage_door", count, conditions={"weight_lb": weights, "springs": count})
        for count in (1, 2)
        for size, weights in weight_ranges(count)
    ),
    DemoFitment("CAB-7", "garage_door", 1, conditions={"height_ft": 7}),
    DemoFitment("CAB-8", "garage_door", 1, conditions={"height_ft": 8}),
    DemoFitment("ROL-NYL", "garage_door", 10, conditions={"width_ft": 9}),
    DemoFitment("ROL-NYL", "garage_door", 14, conditions={"width_ft": 16}),
    DemoFitment("BRG-END", "garage_door", 2),
    DemoFitment("LB-8500W", "garage_door_opener", 1, "LiftMaster", "8500W"),
    DemoFitment("LB-B970", "garage_door_opener", 1, "Chamberlain", "B970"),
    DemoFitment("LB-7155", "garage_door_opener", 1, "Genie", "7155"),
    DemoFitment("GEAR-41C", "garage_door_opener", 1, "Chamberlain"),
    DemoFitment("SENS-41A", "garage_door_opener", 1, "Chamberlain"),
    DemoFitment("SENS-41A", "garage_door_opener", 1, "LiftMaster"),
    DemoFitment("SENS-GNE", "garage_door_opener", 1, "Genie"),
    DemoFitment("RES-KIT", "vehicle_glass", 1),
    DemoFitment("URE-KIT", "vehicle_glass", 1),
    # The plain glass fits every car of its years; a rain sensor needs the glass with its bracket.
    *(
        DemoFitment(
            f"GLS-{g.part}",
            "vehicle_glass",
            1,
            g.make,
            g.model,
            {"year": g.years, "rain_sensor": True} if g.rain_sensor else {"year": g.years},
        )
        for g in GLASS
    ),
    *(
        DemoFitment(f"CAP-{r.replace('/', '-')}", "hvac_unit", 1, conditions={"capacitor": r})
        for r in CAPACITORS
    ),
    DemoFitment("CON-1P30", "hvac_unit", 1, conditions={"type": "air_conditioner"}),
    DemoFitment("IGN-HSI", "hvac_unit", 1, conditions={"type": "furnace"}),
    DemoFitment("FLS-01", "hvac_unit", 1, conditions={"type": "furnace"}),
    *(
        DemoFitment(f"FLT-{size}", "hvac_unit", 1, conditions={"filter_size": size})
        for size, _ in FILTER_SIZES
    ),
)


def condition_holds(value: AttributeValue | None, expected: AttributeValue) -> bool:
    """The database's rule (fitment_holds): "lo..hi" is a range, ends included; else values are equal."""
    if isinstance(expected, str) and ".." in expected:
        low, _, high = expected.partition("..")
        if not isinstance(value, int | float) or isinstance(value, bool):
            return False
        return (not low.strip() or value >= float(low)) and (not high.strip() or value <= float(high))
    return value == expected


def fitting_part(
    kind: str, make: str, model: str, attributes: dict[str, AttributeValue], prefix: str
) -> tuple[str, int] | None:
    """The part (and quantity) of a SKU prefix these attributes take; the most specific rule wins."""
    matches = [
        fit
        for fit in FITMENTS
        if fit.sku.startswith(prefix)
        and fit.asset_kind == kind
        and fit.make in (None, make)
        and fit.model in (None, model)
        and all(condition_holds(attributes.get(k), v) for k, v in fit.conditions.items())
    ]
    if not matches:
        return None
    best = max(matches, key=lambda fit: len(fit.conditions))
    return best.sku, best.quantity


@dataclass(frozen=True)
class PartUse:
    """A part this fix uses with this probability; "fitment:<prefix>" means the asset's fitting part."""

    part: str
    probability: float


@dataclass(frozen=True)
class DemoVariant:
    skills: dict[str, int]
    duration_s: int
    parts: tuple[PartUse, ...]
    event_kind: str = "repair"


@dataclass(frozen=True)
class DemoProblem:
    code: str
    asset_kind: str
    name: str
    frequency_per_year: float  # per asset, how often the fault happens
    variants: dict[str | None, DemoVariant]  # customer choice -> what the job needs; None = no choice


# A chip or a crack: replacing the glass is the same job either way.
NEW_WINDSHIELD = DemoVariant(
    {"auto_glass_replace": 2}, 120 * 60, (PartUse("fitment:GLS-", 0.99), PartUse("URE-KIT", 0.99)), "replace"
)

PROBLEMS: tuple[DemoProblem, ...] = (
    DemoProblem(
        "broken_spring",
        "garage_door",
        "Broken torsion spring",
        0.11,
        {
            None: DemoVariant(
                {"garage_door_springs": 3},
                75 * 60,
                (PartUse("fitment:SPR-", 0.96), PartUse("fitment:CAB-", 0.3), PartUse("BRG-END", 0.1)),
                "replace",
            )
        },
    ),
    DemoProblem(
        "cable_snapped",
        "garage_door",
        "Snapped lift cable",
        0.04,
        {
            None: DemoVariant(
                {"garage_door": 2}, 60 * 60, (PartUse("fitment:CAB-", 0.95), PartUse("ROL-NYL", 0.2))
            )
        },
    ),
    DemoProblem(
        "door_off_track",
        "garage_door",
        "Door off its track",
        0.05,
        {
            None: DemoVariant(
                {"garage_door": 3}, 90 * 60, (PartUse("fitment:ROL-", 0.6), PartUse("fitment:CAB-", 0.4))
            )
        },
    ),
    DemoProblem(
        "noisy_door",
        "garage_door",
        "Noisy door",
        0.05,
        {None: DemoVariant({"garage_door": 1}, 45 * 60, (PartUse("fitment:ROL-", 0.5),), "maintenance")},
    ),
    DemoProblem(
        "opener_not_working",
        "garage_door_opener",
        "Opener does not open the door",
        0.09,
        {
            None: DemoVariant(
                {"garage_door_opener": 2},
                60 * 60,
                (PartUse("fitment:LB-", 0.4), PartUse("fitment:SENS-", 0.35), PartUse("fitment:GEAR-", 0.25)),
            )
        },
    ),
    DemoProblem(
        "windshield_chip",
        "vehicle_glass",
        "Chip in the windshield",
        0.12,
        {
            "repair": DemoVariant({"auto_glass_repair": 1}, 30 * 60, (PartUse("RES-KIT", 0.98),)),
            "replace": NEW_WINDSHIELD,
        },
    ),
    DemoProblem(
        "windshield_crack",
        "vehicle_glass",
        "Crack across the windshield",
        0.06,
        {
            "repair": DemoVariant({"auto_glass_repair": 3}, 45 * 60, (PartUse("RES-KIT", 0.98),)),
            "replace": NEW_WINDSHIELD,
        },
    ),
    DemoProblem(
        "no_cooling",
        "hvac_unit",
        "Air conditioner runs but does not cool",
        0.12,
        {
            None: DemoVariant(
                {"hvac": 2, "hvac_refrigerant": 1},
                90 * 60,
                (PartUse("fitment:CAP-", 0.45), PartUse("fitment:CON-", 0.3)),
            )
        },
    ),
    DemoProblem(
        "no_heat",
        "hvac_unit",
        "Furnace does not heat",
        0.12,
        {
            None: DemoVariant(
                {"hvac": 2}, 75 * 60, (PartUse("fitment:IGN-", 0.4), PartUse("fitment:FLS-", 0.35))
            )
        },
    ),
    DemoProblem(
        "annual_maintenance",
        "hvac_unit",
        "Yearly tune-up",
        0.35,
        {None: DemoVariant({"hvac": 1}, 60 * 60, (PartUse("fitment:FLT-", 0.97),), "maintenance")},
    ),
)

PROBLEM_CODES: dict[str, DemoProblem] = {p.code: p for p in PROBLEMS}
# An air conditioner does not stop heating, nor a furnace cooling.
HVAC_PROBLEMS_BY_TYPE = {
    "air_conditioner": ("no_cooling", "annual_maintenance"),
    "furnace": ("no_heat", "annual_maintenance"),
}


@dataclass(frozen=True)
class SkillProfile:
    name: str
    skills: dict[str, int]
    van: tuple[tuple[str, int], ...]  # sku, quantity on the van


SKILL_PROFILES = (
    SkillProfile(
        "door master",
        {"garage_door": 5, "garage_door_springs": 5, "garage_door_opener": 4},
        (("SPR-218", 4), ("SPR-225", 4), ("SPR-234", 2), ("CAB-7", 2), ("ROL-NYL", 20), ("BRG-END", 2)),
    ),
    SkillProfile(
        "door technician",
        {"garage_door": 4, "garage_door_springs": 3, "garage_door_opener": 3},
        (("SPR-218", 2), ("SPR-225", 2), ("CAB-7", 2), ("CAB-8", 1), ("ROL-NYL", 10), ("SENS-41A", 1)),
    ),
    SkillProfile(
        "door apprentice",
        {"garage_door": 2, "garage_door_springs": 1, "garage_door_opener": 2},
        (("CAB-7", 1), ("ROL-NYL", 10), ("SENS-41A", 1)),
    ),
    SkillProfile(
        "opener specialist",
        {"garage_door_opener": 4, "garage_door": 1, "electrical": 3},
        (("LB-B970", 1), ("LB-8500W", 1), ("GEAR-41C", 2), ("SENS-41A", 2), ("SENS-GNE", 1)),
    ),
    SkillProfile(
        "glass lead",
        {"auto_glass_repair": 5, "auto_glass_replace": 4, "adas_calibration": 3},
        (("RES-KIT", 6), ("URE-KIT", 3), ("GLS-FW04567", 1), ("GLS-FW04443", 1)),
    ),
    SkillProfile(
        "glass technician",
        {"auto_glass_repair": 3, "auto_glass_replace": 2},
        (("RES-KIT", 6), ("URE-KIT", 2), ("GLS-FW04772", 1)),
    ),
    SkillProfile(
        "chip repair",
        {"auto_glass_repair": 2},
        (("RES-KIT", 8),),
    ),
    SkillProfile(
        "hvac lead",
        {"hvac": 4, "hvac_refrigerant": 3, "electrical": 3},
        (
            ("CAP-45-5", 2),
            ("CAP-35-5", 2),
            ("CON-1P30", 2),
            ("IGN-HSI", 1),
            ("FLS-01", 2),
            ("FLT-16x25x1", 6),
            ("FLT-20x25x1", 4),
            ("FLT-16x20x1", 2),
            ("FLT-20x20x1", 2),
        ),
    ),
    SkillProfile(
        "hvac technician",
        {"hvac": 2, "hvac_refrigerant": 1},
        (("CAP-45-5", 1), ("CON-1P30", 1), ("FLS-01", 1), ("FLT-16x25x1", 6), ("FLT-20x25x1", 4)),
    ),
    SkillProfile(
        "all-rounder",
        {"garage_door": 2, "garage_door_springs": 2, "hvac": 2, "appliance": 3, "electrical": 2},
        (("SPR-218", 2), ("CAB-7", 1), ("FLT-16x25x1", 4), ("CAP-45-5", 1), ("FLT-20x25x1", 2)),
    ),
)
# Fifteen technicians per territory: the profile of each, in the same order in both.
TEAM = (0, 1, 1, 2, 3, 1, 4, 5, 6, 5, 7, 8, 8, 9, 2)

FIRST_NAMES = (
    "Maria",
    "James",
    "Aisha",
    "Tom",
    "Lena",
    "Carlos",
    "Priya",
    "Ben",
    "Hannah",
    "Omar",
    "Grace",
    "Luis",
    "Mei",
    "Erik",
    "Fatima",
    "Noah",
    "Sofia",
    "Daniel",
    "Ingrid",
    "Kwame",
    "Rosa",
    "Lars",
    "Yuki",
    "Sam",
    "Amara",
    "Jonas",
    "Elena",
    "Marcus",
    "Nora",
    "Hamza",
    "Olivia",
    "Pete",
    "Tuyet",
    "Ana",
    "Sven",
    "Leah",
)
LAST_NAMES = (
    "Johnson",
    "Nguyen",
    "Olson",
    "Hassan",
    "Larson",
    "Garcia",
    "Anderson",
    "Xiong",
    "Peterson",
    "Ali",
    "Carlson",
    "Schmidt",
    "Lee",
    "Vang",
    "Hansen",
    "Martinez",
    "Berg",
    "Thompson",
    "Mohamed",
    "Lindqvist",
    "Kowalski",
    "Okafor",
    "Rivera",
    "Johansson",
    "Her",
    "Moua",
    "Brown",
    "Nielsen",
    "Ortiz",
    "Warsame",
)
ACCESS_NOTES = (
    "",
    "",
    "",
    "Side door code 4412; dog in the yard is friendly.",
    "Park on the street, the driveway is shared.",
    "Garage keypad 1970#. Please text on arrival.",
    "Alley access behind the house.",
    "Ring twice; the bell is weak.",
    "Gate latch sticks, lift and push.",
)
