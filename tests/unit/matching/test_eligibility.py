from __future__ import annotations

from datetime import UTC, datetime, timedelta
from uuid import uuid4

from dispatch.matching.eligibility import Exclusion
from tests.oracles.eligibility import (
    JobFacts,
    TechnicianFacts,
    WorkWindow,
    exclusion,
    fits_a_shift,
    screen,
)

NORTH, SOUTH = uuid4(), uuid4()
DAY = datetime(2026, 11, 25, tzinfo=UTC)


def at(hour: float) -> datetime:
    return DAY + timedelta(hours=hour)


def tech(**overrides: object) -> TechnicianFacts:
    values: dict[str, object] = {
        "id": uuid4(),
        "active": True,
        "territory_id": NORTH,
        "skills": {"garage_door_springs": 3},
        "shifts": [WorkWindow(at(13), at(21.5))],  # 7:00-15:30 in Chicago
    }
    values.update(overrides)
    return TechnicianFacts(**values)  # type: ignore[arg-type]


JOB = JobFacts(
    required_skills={"garage_door_springs": 3},
    window_start_at=at(14),
    window_end_at=at(16),
    duration=timedelta(minutes=75),
    territory_id=NORTH,
)


def test_a_qualified_technician_on_shift_in_the_territory_is_eligible() -> None:
    assert exclusion(tech(), JOB, distance_km=5, reach_km=10) is None


def test_each_rule_names_itself() -> None:
    assert exclusion(tech(active=False), JOB, distance_km=5, reach_km=10) is Exclusion.INACTIVE
    assert (
        exclusion(tech(skills={"garage_door_springs": 2}), JOB, distance_km=5, reach_km=10) is Exclusion.SKILL
    )
    banned = tech()
    job = JobFacts(**{**JOB.__dict__, "excluded_technicians": frozenset({banned.id})})
    assert exclusion(banned, job, distance_km=5, reach_km=10) is Exclusion.EXCLUDED_BY_CUSTOMER
    assert exclusion(tech(territory_id=SOUTH), JOB, distance_km=25, reach_km=10) is Exclusion.OUT_OF_REACH
    assert exclusion(tech(territory_id=SOUTH), JOB, distance_km=8, reach_km=10) is None
    assert exclusion(tech(shifts=[]), JOB, distance_km=5, reach_km=10) is Exclusion.OFF_SHIFT


def test_a_shift_must_leave_time_to_finish_the_job() -> None:
    # The window opens 14:00; a shift ending 15:00 leaves 60 of the 75 minutes; 15 min overtime is enough.
    assert not fits_a_shift([WorkWindow(at(8), at(15))], JOB)
    assert fits_a_shift([WorkWindow(at(8), at(15), timedelta(minutes=15))], JOB)
    # A shift that starts after the window has closed cannot promise the window.
    assert not fits_a_shift([WorkWindow(at(16.5), at(23))], JOB)
    assert fits_a_shift([WorkWindow(at(16), at(23))], JOB)


def test_screening_counts_each_exclusion_once_under_the_first_rule_broken() -> None:
    technicians = [
        tech(),
        tech(active=False, skills={}),
        tech(skills={}),
        tech(skills={}, shifts=[]),
        tech(shifts=[]),
        tech(territory_id=SOUTH),
    ]
    eligible, excluded = screen(technicians, JOB, [3, 3, 3, 3, 3, 40], reach_km=15)
    assert eligible == [technicians[0]]
    assert excluded == {
        Exclusion.INACTIVE: 1,
        Exclusion.SKILL: 2,
        Exclusion.OFF_SHIFT: 1,
        Exclusion.OUT_OF_REACH: 1,
    }
