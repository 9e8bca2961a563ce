"""Parts prediction, one rule per test, with numbers worked out by hand."""

from __future__ import annotations

from dataclasses import replace
from datetime import UTC, datetime
from uuid import UUID, uuid4

import pytest

from assets.parts_backtest import backtest
from assets.parts_evidence import EvidenceBook, Visit
from assets.parts_prediction import (
    Evidence,
    Fitting,
    OwnUse,
    PartRef,
    UsageCounts,
    family_probability,
    predict_parts,
    round_to_pack,
)

SPR_218 = PartRef(uuid4(), "SPR-218", "Torsion spring .218", "torsion_spring")
SPR_225 = PartRef(uuid4(), "SPR-225", "Torsion spring .225", "torsion_spring")
CABLE = PartRef(uuid4(), "CAB-7", "Lift cables 7 ft", "lift_cable")
BEARING = PartRef(uuid4(), "BRG-END", "End bearing plate", "end_bearing", sold_in_multiples_of=2)
PARTS = {p.part_id: p for p in (SPR_218, SPR_225, CABLE, BEARING)}
SPRINGS = frozenset({"torsion_spring", "lift_cable"})
NOV_2019 = datetime(2019, 11, 4, tzinfo=UTC)


def evidence(
    *,
    fleet: UsageCounts | None = None,
    model: UsageCounts | None = None,
    own: list[OwnUse] | None = None,
    fittings: list[Fitting] | None = None,
    usual: frozenset[str] = SPRINGS,
) -> Evidence:
    return Evidence(
        usual_families=usual,
        fleet=fleet or UsageCounts(),
        model=model or UsageCounts(),
        own_history=own or [],
        fittings=fittings or [],
        parts=PARTS,
        make_model="Clopay Classic Steel 4050",
    )


def test_with_no_history_a_usual_family_is_a_coin_flip_and_an_unusual_one_rare() -> None:
    assert family_probability("torsion_spring", evidence()) == pytest.approx(0.5)
    assert family_probability("end_bearing", evidence()) == pytest.approx(0.02)


def test_the_fleet_rate_is_smoothed_by_the_catalogue_prior() -> None:
    # (96 + 2 × 0.5) / (100 + 2) = 0.951; no jobs of this model, so the fleet's rate stands.
    fleet = UsageCounts(jobs=100, family_jobs={"torsion_spring": 96})
    assert family_probability("torsion_spring", evidence(fleet=fleet)) == pytest.approx(97 / 102)


def test_a_model_with_few_jobs_is_pulled_toward_the_fleet() -> None:
    # fleet: (10 + 0.04) / 102 = 0.0984; model 3 of 5: (3 + 5 × 0.0984) / 10 = 0.349.
    fleet = UsageCounts(jobs=100, family_jobs={"end_bearing": 10})
    model = UsageCounts(jobs=5, family_jobs={"end_bearing": 3})
    expected = (3 + 5 * (10 + 2 * 0.02) / 102) / 10
    assert family_probability("end_bearing", evidence(fleet=fleet, model=model)) == pytest.approx(expected)


def test_the_asset_history_and_its_fitment_agreeing_give_one_confident_spring_pair() -> None:
    fleet = UsageCounts(jobs=100, family_jobs={"torsion_spring": 96})
    own = [OwnUse(part=SPR_218, quantity=2, occurred_at=NOV_2019)]
    fit = [Fitting(part=SPR_218, quantity=2, rule="spring_size = 218, springs = 2")]

    predicted = predict_parts(evidence(fleet=fleet, own=own, fittings=fit))

    spring = predicted[0]
    assert (spring.part.sku, spring.quantity) == ("SPR-218", 2)
    assert spring.probability == pytest.approx(round(97 / 102, 3))
    assert spring.reasons == (
        "replaced 2 × SPR-218 on this asset in 2019-11",
        "fits this asset (spring_size = 218, springs = 2): 2 × SPR-218",
        "to carry: with it the van has the right torsion spring on 100% of such visits",
    )


def test_conflicting_evidence_splits_the_family_between_two_springs() -> None:
    fleet = UsageCounts(jobs=100, family_jobs={"torsion_spring": 96})
    own = [OwnUse(part=SPR_225, quantity=2, occurred_at=NOV_2019)]
    fit = [Fitting(part=SPR_218, quantity=2, rule="spring_size = 218")]

    predicted = {
        p.part.sku: p.probability for p in predict_parts(evidence(fleet=fleet, own=own, fittings=fit))
    }

    # votes 4 (own history) : 3 (fitment) of the family's 0.951
    assert predicted["SPR-225"] == pytest.approx(round(97 / 102 * 4 / 7, 3))
    assert predicted["SPR-218"] == pytest.approx(round(97 / 102 * 3 / 7, 3))


def test_without_a_fitment_the_model_history_names_the_part() -> None:
    fleet = UsageCounts(jobs=40, family_jobs={"lift_cable": 12})
    model = UsageCounts(
        jobs=20,
        family_jobs={"lift_cable": 8},
        part_jobs={CABLE.part_id: 8},
        part_quantities={CABLE.part_id: {1: 8}},
    )
    cable = predict_parts(evidence(fleet=fleet, model=model))[0]
    assert cable.part.sku == "CAB-7"
    assert cable.reasons == (
        "used in 8 of 20 such jobs on Clopay Classic Steel 4050",
        "to carry: with it the van has the right lift cable on 100% of such visits",
    )


def test_parts_sold_in_pairs_come_in_pairs() -> None:
    assert round_to_pack(1, 2) == 2
    assert round_to_pack(3, 2) == 4
    assert round_to_pack(2, 1) == 2
    fit = [Fitting(part=BEARING, quantity=1, rule="")]
    fleet = UsageCounts(jobs=10, family_jobs={"end_bearing": 9})
    bearing = predict_parts(evidence(fleet=fleet, fittings=fit, usual=frozenset({"end_bearing"})))[0]
    assert bearing.quantity == 2


def test_second_visits_are_named_in_the_reasons() -> None:
    model = UsageCounts(jobs=10, family_jobs={"lift_cable": 5}, second_visit_jobs={"lift_cable": 3})
    fit = [Fitting(part=CABLE, quantity=1, rule="height_ft = 7")]
    cable = predict_parts(evidence(model=model, fittings=fit))[0]
    assert "3 past job(s) had to come back for a lift cable" in cable.reasons


def visit(asset: UUID, parts: list[tuple[PartRef, int]], day: int) -> Visit:
    return Visit(
        job_id=uuid4(),
        asset_id=asset,
        make="Clopay",
        model="Classic Steel 4050",
        problem_code="broken_spring",
        choice=None,
        finished_at=datetime(2020, 1, day, tzinfo=UTC),
        parts=parts,
    )


def test_the_evidence_book_counts_jobs_families_and_quantities() -> None:
    book = EvidenceBook(usual_families={("broken_spring", ""): SPRINGS})
    door = uuid4()
    book.add(visit(door, [(SPR_218, 2), (CABLE, 1)], 1))
    book.add(visit(uuid4(), [(SPR_225, 2)], 2))
    found = book.evidence(
        asset_id=door,
        make="Clopay",
        model="Classic Steel 4050",
        problem_code="broken_spring",
        choice=None,
        fittings=[],
    )
    assert (found.model.jobs, found.model.family_jobs) == (2, {"torsion_spring": 2, "lift_cable": 1})
    assert found.model.part_quantities[SPR_218.part_id] == {2: 1}
    assert [u.part.sku for u in found.own_history] == ["SPR-218", "CAB-7"]


def test_the_backtest_predicts_each_visit_only_from_the_ones_before_it() -> None:
    doors = [uuid4() for _ in range(6)]
    fittings = {d: [Fitting(part=SPR_218, quantity=2, rule="")] for d in doors}
    visits = [visit(d, [(SPR_218, 2)], i + 1) for i, d in enumerate(doors)]
    [result] = backtest(visits, fittings, {("broken_spring", ""): SPRINGS}, [0.5])
    # The first visit has only the 0.5 prior: carried at threshold 0.5 (>=), so every visit is covered.
    assert (result.model.visits, result.model.covered, result.model.extra_lines) == (6, 6, 0)
    # The baseline knows nothing before the first visit and carries nothing then.
    assert result.baseline.covered == 5


def test_a_spring_size_read_off_the_weight_chart_brings_its_neighbour_sizes_but_one_on_record_does_not() -> (
    None
):
    fleet = UsageCounts(jobs=100, family_jobs={"torsion_spring": 96})
    near = {SPR_218.part_id: [SPR_225]}
    by_weight = [Fitting(part=SPR_218, quantity=2, rule="springs = 2, weight_lb = 181..220")]
    on_record = [Fitting(part=SPR_218, quantity=2, rule="spring_size = 218, springs = 2")]

    guessed = predict_parts(replace(evidence(fleet=fleet, fittings=by_weight), neighbours=near))
    recorded = predict_parts(replace(evidence(fleet=fleet, fittings=on_record), neighbours=near))

    # Votes: fitment 3 for .218, neighbours 1 for .225: shares 3/4 and 1/4 of p = 97/102.
    assert {p.part.sku: p.probability for p in guessed} == {
        "SPR-218": pytest.approx(round(97 / 102 * 3 / 4, 3)),
        "SPR-225": pytest.approx(round(97 / 102 / 4, 3)),
    }
    assert guessed[1].reasons[0] == (
        "one size from SPR-218, which a range on record gives (springs = 2, weight_lb = 181..220), not a size"
    )
    assert [p.part.sku for p in recorded] == ["SPR-218"]


def test_the_likelier_spring_size_is_carried_at_a_higher_cost_of_a_line_than_the_other() -> None:
    fleet = UsageCounts(jobs=100, family_jobs={"torsion_spring": 96})
    by_weight = [Fitting(part=SPR_218, quantity=2, rule="springs = 2, weight_lb = 181..220")]

    guessed = predict_parts(
        replace(evidence(fleet=fleet, fittings=by_weight), neighbours={SPR_218.part_id: [SPR_225]})
    )

    values = {p.part.sku: p.carry_value for p in guessed}
    assert values["SPR-218"] > values["SPR-225"] > 0
