from __future__ import annotations

from datetime import timedelta

import pytest

from dispatch.errors import AskBackError
from dispatch.intake.intake_queries import Problem, Variant
from dispatch.intake.problems import estimate_duration, problem_from_text, required_skills, variant_for
from dispatch.models import DurationSource
from infra.errors import InvalidError

REPAIR = Variant(
    choice="repair", required_skills={"auto_glass_repair": 1}, skills_if={}, duration_s=1800, part_families=[]
)
REPLACE = Variant(
    choice="replace",
    required_skills={"auto_glass_replace": 2},
    skills_if={"adas_camera": {"adas_calibration": 2}},
    duration_s=7200,
    part_families=[],
)
CHIP = Problem(
    code="windshield_chip",
    asset_kind="vehicle_glass",
    name="Chip",
    keywords=["chip", "rock"],
    default_choice="repair",
    variants=[REPAIR, REPLACE],
)
SPRING = Problem(
    code="broken_spring",
    asset_kind="garage_door",
    name="Spring",
    keywords=["spring", "bang", "won't open"],
    default_choice=None,
    variants=[
        Variant(
            choice="",
            required_skills={"garage_door_springs": 3},
            skills_if={},
            duration_s=4500,
            part_families=[],
        )
    ],
)
NOISE = Problem(
    code="noisy_door",
    asset_kind="garage_door",
    name="Noise",
    keywords=["noise", "loud"],
    default_choice=None,
    variants=SPRING.variants,
)


def test_the_callers_words_pick_the_problem_with_most_keywords() -> None:
    assert problem_from_text("A loud BANG, the door won't open", [SPRING, NOISE, CHIP]) is SPRING
    assert problem_from_text("a rock left a chip", [SPRING, CHIP]) is CHIP


def test_words_that_fit_two_problems_equally_ask_back_with_both() -> None:
    with pytest.raises(AskBackError) as caught:
        problem_from_text("loud spring", [SPRING, NOISE])
    assert {c["code"] for c in caught.value.candidates} == {"broken_spring", "noisy_door"}
    with pytest.raises(AskBackError):
        problem_from_text("it smells funny", [SPRING, NOISE])


def test_a_choice_defaults_and_must_be_one_the_problem_offers() -> None:
    assert variant_for(CHIP, None) is REPAIR
    assert variant_for(CHIP, "replace") is REPLACE
    with pytest.raises(InvalidError, match="repair, replace"):
        variant_for(CHIP, "polish")
    with pytest.raises(InvalidError, match="offers no choice"):
        variant_for(SPRING, "replace")


def test_a_camera_behind_new_glass_adds_calibration() -> None:
    assert required_skills(REPLACE, {"adas_camera": True}) == {"auto_glass_replace": 2, "adas_calibration": 2}
    assert required_skills(REPLACE, {"adas_camera": False}) == {"auto_glass_replace": 2}
    assert required_skills(REPAIR, {"adas_camera": True}) == {"auto_glass_repair": 1}


def test_too_little_history_keeps_the_catalogue_duration_and_says_why() -> None:
    seconds, source, reason = estimate_duration([timedelta(minutes=50)] * 4, 4500, what="broken_spring on X")
    assert (seconds, source) == (4500, DurationSource.CATALOGUE)
    assert "4 past job(s)" in reason


def test_enough_history_books_its_80th_percentile_rounded_up_to_five_minutes() -> None:
    # 60, 70, 80, 90, 100, 110 minutes: rank 0.8 × 5 = 4 -> 100 minutes.
    past = [timedelta(minutes=m) for m in (110, 60, 90, 70, 100, 80)]
    assert estimate_duration(past, 4500, what="x") == (
        6000,
        DurationSource.HISTORY,
        "80th percentile of 6 past jobs on x",
    )
    # 61..66 minutes: rank 4 -> 65 min = 3900 s exactly; 61.5 would round up to 65.
    assert estimate_duration([timedelta(minutes=61.5)] * 5, 4500, what="x")[0] == 3900
