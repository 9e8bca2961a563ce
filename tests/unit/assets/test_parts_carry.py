"""What to carry: the carry value of each line, and sizes either side read off the fitment rules."""

from __future__ import annotations

import math
from uuid import uuid4

import pytest

from assets.part_neighbours import size_neighbours
from assets.parts_carry import Option, carry_values, coverage_chance
from assets.parts_prediction import PartRef


def _spring(size: str) -> PartRef:
    return PartRef(uuid4(), f"SPR-{size}", f"Torsion spring .{size}", "torsion_spring")


def test_a_certain_family_with_one_part_is_worth_carrying_at_almost_any_cost() -> None:
    # p = 0.999 (capped): log(1 / 0.001) / (1 − 0.999) = 6.9 / 0.001 = 6,908.
    values = carry_values(1.0, [Option("spring", 1.0)])
    assert values["spring"] == pytest.approx(math.log(1000) / 0.001)


def test_a_part_used_one_visit_in_three_is_carried_only_while_a_line_costs_little() -> None:
    # Coverage goes from 2/3 to 1: log(1.5) = 0.405, for 2/3 of an extra line: 0.608.
    values = carry_values(1 / 3, [Option("cable", 1.0)])
    assert values["cable"] == pytest.approx(math.log(1.5) / (2 / 3))


def test_the_second_size_of_an_uncertain_spring_is_worth_less_than_the_first() -> None:
    # p = 0.9; the first size (share 0.7) takes coverage from 0.1 to 0.73: log(7.3) / 0.37 = 5.37;
    # the second (share 0.3) from 0.73 to 1.0: log(1 / 0.73) / 0.73 = 0.431.
    values = carry_values(0.9, [Option("225", 0.3), Option("218", 0.7)])
    assert values["218"] == pytest.approx(math.log(0.73 / 0.1) / 0.37)
    assert values["225"] == pytest.approx(math.log(1 / 0.73) / 0.73)


def test_a_later_option_never_outranks_an_earlier_one() -> None:
    values = carry_values(0.5, [Option("a", 0.5), Option("b", 0.5)])
    assert values["b"] <= values["a"]


def test_the_chance_of_covering_a_visit_multiplies_over_families() -> None:
    # Spring certain and carried; cable one in three and not carried: 1 × (2/3).
    assert coverage_chance([(1.0, 1.0), (1 / 3, 0.0)]) == pytest.approx(2 / 3)


def test_springs_a_wire_size_apart_on_rules_for_the_same_spring_count_are_neighbours() -> None:
    s207, s218, s225, s234 = (_spring(s) for s in ("207", "218", "225", "234"))
    single = _spring("243")
    rules = [
        (s218, "garage_door", {"spring_size": "218", "springs": 2}),
        (s207, "garage_door", {"spring_size": "207", "springs": 2}),
        (s234, "garage_door", {"spring_size": "234", "springs": 2}),
        (s225, "garage_door", {"spring_size": "225", "springs": 2}),
        # A one-spring door's rule is another ladder; a range orders nothing.
        (single, "garage_door", {"spring_size": "243", "springs": 1}),
        (s225, "garage_door", {"weight_lb": "181..220", "springs": 2}),
    ]

    near = size_neighbours(rules)

    assert near[s218.part_id] == [s207, s225]
    assert near[s207.part_id] == [s218]
    assert near[s234.part_id] == [s225]
    assert single.part_id not in near
