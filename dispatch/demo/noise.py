"""How real service records differ from what is installed and what was done: one noise model for
the demo's history and for the messy installed base the benchmarks import.

Every asset has a hidden true state (what the door really carries, which glass the car really
takes); the records show a noisy view of it. The kinds of noise are those a real garage-door,
HVAC and glass company's records showed: spring sizes missing or mistyped and seldom updated
after a replacement, installers who did not follow the weight chart, single-spring doors
converted to two, technicians adding a cable or rollers at their own call, opener and HVAC
faults with one outcome among several part families, glass that depends on the year and a rain
sensor nobody wrote down, makes typed several ways, paper-era visits whose parts were lost,
furnace filter sizes seldom on record and sometimes typed another way, racks upgraded to a
media cabinet while the record still names the 1-inch filter.

Pure and seeded: the caller's `random.Random` drives every draw, and each draw is counted so the
rates actually injected can be printed beside the figures they affect. The filters came later:
their draws come from each asset's own generator (`side`), so adding them left every other draw,
and every figure and test built on them, as it was.
"""

from __future__ import annotations

import random
from collections import Counter
from dataclasses import dataclass, field
from datetime import date, datetime, timedelta

from dispatch.demo.catalogue import (
    FILTER_SIZES,
    MEDIA_UPGRADE,
    SPRING_SIZES,
    AttributeValue,
    DemoProblem,
    DemoVariant,
    PartUse,
    fitting_part,
    spring_size_for,
)


@dataclass(frozen=True)
class NoiseRates:
    """Per opportunity: e.g. `spring_size_missing` of the doors, `paper_parts_lost` of paper-era visits."""

    spring_size_missing: float = 0.3
    spring_size_typo: float = 0.07  # of the sizes that are recorded
    installer_off_chart: float = 0.12  # the door was fitted one size off the weight chart
    record_updated_after_replace: float = 0.35
    converted_to_two_springs: float = 0.3  # of broken springs on single-spring doors
    make_typed_otherwise: float = 0.3
    vehicle_year_missing: float = 0.15
    rain_sensor_missing: float = 0.7
    capacitor_missing: float = 0.4
    # Few records name the filter: it is behind a grille nobody opens when the unit is written up.
    filter_size_missing: float = 0.45
    filter_size_typo: float = 0.06  # of the sizes that are recorded
    media_upgrade: float = 0.03  # per tune-up of a unit with a 1-inch rack: a media cabinet is sold
    record_updated_after_rack_change: float = 0.35
    paper_parts_lost: float = 0.35
    parts_lost: float = 0.03  # after the paper era
    # How often, on average, a technician adds each part beside a new spring at their own call;
    # each technician has their own habit around it.
    extra_beside_spring: tuple[tuple[str, float], ...] = (
        ("lift_cable", 0.3),
        ("roller", 0.15),
        ("end_bearing", 0.12),
    )


# Until then visits were written on paper and keyed in later, parts often left out.
PAPER_ERA_UNTIL = date(2018, 1, 1)
# Faults with several possible causes: a visit finds one of them (or none needing a part).
ONE_OUTCOME_PROBLEMS = frozenset({"opener_not_working", "no_cooling", "no_heat"})
NO_PART_SHARE = 0.15  # at least this share of them is an adjustment, a reset or a cleaning
# How makes turn up in records typed by hand, beside their own name, upper and lower case.
MAKE_SPELLINGS: dict[str, tuple[str, ...]] = {
    "Overhead Door": ("OHD", "Overhead", "overhead door", "Overhead Door Corp"),
    "Wayne Dalton": ("Wayne-Dalton", "WayneDalton", "wayne dalton"),
    "LiftMaster": ("Liftmaster", "Lift Master", "LM"),
    "Chamberlain": ("Chamberlin", "chamberlain"),
    "Clopay": ("clopay", "Clopay Corp"),
    "Chevrolet": ("Chevy", "chevy", "CHEVROLET"),
    "Carrier": ("carrier", "Carrier Corp"),
    "Goodman": ("goodman", "Goodman Mfg"),
}
# A size one step off, or its last two digits swapped (.234 typed .243).
SPRING_NEIGHBOURS = {s: SPRING_SIZES[max(0, i - 1) : i + 2] for i, s in enumerate(SPRING_SIZES)}
FAMILY_PREFIX = {"lift_cable": "CAB-", "roller": "ROL-", "end_bearing": "BRG-"}

Attributes = dict[str, AttributeValue]
PartLine = tuple[str, int]


def faults(
    rng: random.Random, problems: list[DemoProblem], start: datetime, stop: datetime
) -> list[tuple[datetime, DemoProblem]]:
    """When each fault happens to one asset (a Poisson process per problem), in time order, so a
    door converted to two springs takes two from then on."""
    found: list[tuple[datetime, DemoProblem]] = []
    for problem in problems:
        moment = start
        while True:
            moment += timedelta(days=365 * rng.expovariate(problem.frequency_per_year))
            if moment >= stop:
                break
            found.append((moment, problem))
    return sorted(found, key=lambda f: f[0])


@dataclass(frozen=True)
class Habit:
    """A technician's own call on what to add beside a new spring: family -> how often."""

    extra: dict[str, float]


@dataclass
class Outcome:
    """What a visit really fitted; `converted` when a single-spring door left with two."""

    used: list[PartLine]
    converted: bool = False
    rack_changed: bool = False  # a 1-inch filter rack was replaced by a media cabinet


@dataclass
class Noise:
    rng: random.Random
    rates: NoiseRates = field(default_factory=NoiseRates)
    drawn: Counter[str] = field(default_factory=Counter)
    injected: Counter[str] = field(default_factory=Counter)

    def draw(self, kind: str, probability: float, rng: random.Random | None = None) -> bool:
        """One chance of a kind of noise, counted; drawn from `rng` when given (an asset's own)."""
        self.drawn[kind] += 1
        hit = (rng or self.rng).random() < probability
        self.injected[kind] += hit
        return hit

    def summary(self) -> list[tuple[str, int, int]]:
        """(kind, injected, chances), by kind."""
        return [(kind, self.injected[kind], self.drawn[kind]) for kind in sorted(self.drawn)]

    # -- the true state ---------------------------------------------------------------------

    def installed_spring(self, weight_lb: int, springs: int) -> str:
        """The size the installer fitted: the weight chart's, or a step off it by their own judgement."""
        chart = spring_size_for(weight_lb, springs)
        if not self.draw("installer_off_chart", self.rates.installer_off_chart):
            return chart
        index = SPRING_SIZES.index(chart)
        step = self.rng.choice((-1, 1)) if 0 < index < len(SPRING_SIZES) - 1 else (1 if index == 0 else -1)
        return SPRING_SIZES[index + step]

    def installed_filter(self, side: random.Random) -> str:
        """The filter size of a new installation's return, drawn from the asset's own generator."""
        return side.choices([s for s, _ in FILTER_SIZES], [w for _, w in FILTER_SIZES])[0]

    def habit(self) -> Habit:
        # Spread so some technicians often add a part and others never do.
        extra = self.rates.extra_beside_spring
        return Habit({family: min(1.0, mean * 2 * self.rng.random()) for family, mean in extra})

    def vehicle_truth(self, attributes: Attributes) -> Attributes:
        """A vehicle's true state: rain sensors came with newer cars and better trims."""
        year = int(attributes.get("year", 2015))
        return {**attributes, "rain_sensor": self.rng.random() < (0.55 if year >= 2018 else 0.25)}

    # -- the records ------------------------------------------------------------------------

    def make_as_typed(self, make: str) -> str:
        others = sorted({*MAKE_SPELLINGS.get(make, ()), make.upper(), make.lower()} - {make})
        if not others or not self.draw("make_typed_otherwise", self.rates.make_typed_otherwise):
            return make
        return self.rng.choice(others)

    def spring_size_as_typed(self, size: str) -> str | None:
        if self.draw("spring_size_missing", self.rates.spring_size_missing):
            return None
        if not self.draw("spring_size_typo", self.rates.spring_size_typo):
            return size
        if self.rng.random() < 0.5:
            return size[0] + size[2] + size[1]
        return self.rng.choice([s for s in SPRING_NEIGHBOURS[size] if s != size])

    def filter_size_as_typed(self, size: str, side: random.Random) -> str | None:
        if self.draw("filter_size_missing", self.rates.filter_size_missing, side):
            return None
        if not self.draw("filter_size_typo", self.rates.filter_size_typo, side):
            return size
        width, height, depth = size.split("x")
        way = side.random()
        if way < 1 / 3:
            return f"{height}x{width}x{depth}"  # read off the frame the other way round
        if way < 2 / 3:
            return f"{width}x{height}"  # the depth left out
        # The size of another unit, or one the customer bought that nearly fitted.
        return side.choice([s for s, _ in FILTER_SIZES if s != size and s.endswith(f"x{depth}")])

    def record_of(self, kind: str, truth: Attributes, side: random.Random | None = None) -> Attributes:
        """What the records say of an asset whose true attributes are `truth`; `side`, the asset's
        own generator, draws the filter's noise."""
        record = dict(truth)
        if kind == "garage_door":
            size = self.spring_size_as_typed(str(truth["spring_size"]))
            record.pop("spring_size")
            if size is not None:
                record["spring_size"] = size
        elif kind == "vehicle_glass":
            if self.draw("vehicle_year_missing", self.rates.vehicle_year_missing):
                record.pop("year", None)
            if self.draw("rain_sensor_missing", self.rates.rain_sensor_missing):
                record.pop("rain_sensor", None)
        elif kind == "hvac_unit":
            if "capacitor" in truth and self.draw("capacitor_missing", self.rates.capacitor_missing):
                record.pop("capacitor")
            if "filter_size" in truth:
                size = self.filter_size_as_typed(str(record.pop("filter_size")), side or self.rng)
                if size is not None:
                    record["filter_size"] = size
        return record

    def update_record(self, record: Attributes, truth: Attributes, used: list[PartLine]) -> None:
        """After a replacement the office sometimes puts what was fitted on record."""
        changed = [k for k in ("spring_size", "springs", "rain_sensor", "year") if k in truth]
        if not any(sku.startswith(("SPR-", "GLS-")) for sku, _ in used) or not changed:
            return
        if self.draw("record_updated_after_replace", self.rates.record_updated_after_replace):
            for key in changed:
                record[key] = truth[key]

    def record_rack_change(self, record: Attributes, truth: Attributes, side: random.Random) -> None:
        """A media cabinet fitted: the office sometimes puts its size on record."""
        if self.draw("record_updated_after_rack_change", self.rates.record_updated_after_rack_change, side):
            record["filter_size"] = truth["filter_size"]

    def parts_as_recorded(self, used: list[PartLine], day: date) -> list[PartLine]:
        if not used:
            return used
        if day < PAPER_ERA_UNTIL:
            lost = self.draw("paper_parts_lost", self.rates.paper_parts_lost)
        else:
            lost = self.draw("parts_lost", self.rates.parts_lost)
        return [] if lost else used

    # -- a visit ----------------------------------------------------------------------------

    def visit(
        self,
        kind: str,
        make: str,
        model: str,
        truth: Attributes,
        problem: DemoProblem,
        variant: DemoVariant,
        habit: Habit,
        side: random.Random | None = None,
    ) -> Outcome:
        """What the visit really fitted, from the true state; `truth` changes when the asset does.
        `side`, the asset's own generator, draws whether its filter rack changes."""
        outcome = Outcome([])
        uses = variant.parts
        if problem.code in ONE_OUTCOME_PROBLEMS:
            uses = self._one_cause(uses)
        for use in uses:
            if problem.code == "broken_spring" and not use.part.startswith("fitment:SPR-"):
                continue  # beside the spring, what is added is the technician's call (below)
            if problem.code not in ONE_OUTCOME_PROBLEMS and self.rng.random() >= use.probability:
                continue
            if use.part == "fitment:FLT-":
                outcome.rack_changed = self._media_upgrade(truth, side or self.rng)
            line = self._part(kind, make, model, truth, use)
            if line is None:
                continue
            if (
                line[0].startswith("SPR-")
                and truth.get("springs") == 1
                and self.draw("converted_to_two_springs", self.rates.converted_to_two_springs)
            ):
                truth["springs"] = 2
                truth["spring_size"] = spring_size_for(int(truth["weight_lb"]), 2)
                outcome.converted = True
                line = (f"SPR-{truth['spring_size']}", 2)
            outcome.used.append(line)
        if problem.code == "broken_spring":
            for family, probability in habit.extra.items():
                if self.draw(f"tech_adds_{family}", probability):
                    found = fitting_part(kind, make, model, truth, FAMILY_PREFIX[family])
                    if found is not None:
                        outcome.used.append(found)
        return outcome

    def _media_upgrade(self, truth: Attributes, side: random.Random) -> bool:
        """A tune-up sells a media cabinet to a 1-inch rack now and then; it takes 4-inch filters."""
        upgrade = MEDIA_UPGRADE.get(str(truth.get("filter_size")))
        if upgrade is None or not self.draw("media_upgrade", self.rates.media_upgrade, side):
            return False
        truth["filter_size"] = upgrade
        return True

    def _one_cause(self, uses: tuple[PartUse, ...]) -> tuple[PartUse, ...]:
        weights = [u.probability for u in uses]
        none = max(NO_PART_SHARE, 1 - sum(weights))
        pick = self.rng.choices([*uses, None], [*weights, none])[0]
        return () if pick is None else (pick,)

    def _part(self, kind: str, make: str, model: str, truth: Attributes, use: PartUse) -> PartLine | None:
        if use.part.startswith("fitment:"):
            return fitting_part(kind, make, model, truth, use.part.removeprefix("fitment:"))
        return use.part, 2 if use.part == "BRG-END" else 1
