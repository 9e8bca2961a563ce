"""Ranking by hand-computed numbers: window edges, a depot detour against a van swap,
over-qualification, continuity, and how exclusions are counted."""

from __future__ import annotations

import uuid
from datetime import UTC, datetime
from uuid import UUID

import pytest

from dispatch.matching.candidates import JobToPlace, MatchSettings, NeededPart, Ranking
from dispatch.matching.eligibility import Exclusion
from dispatch.matching.fleet_view import FleetView
from dispatch.matching.ranking import Matcher
from dispatch.matching.route_plan import Day, Visit
from dispatch.matching.route_queries import DepotRow, TechnicianRow
from tests.grid_travel import GridTravel

HOUR = 3600.0
TERRITORY = uuid.uuid4()
SPRING = uuid.uuid4()


def tech(name: str, home: tuple[float, float], **skills: int) -> TechnicianRow:
    return TechnicianRow(
        id=uuid.uuid4(),
        name=name,
        territory_id=TERRITORY,
        active=True,
        home=home,
        skills=skills or {"garage_door_springs": 3},
    )


def day_of(technician: TechnicianRow, *, start: float = 8 * HOUR, end: float = 16 * HOUR) -> Day:
    return Day(
        technician_id=technician.id,
        shift_id=uuid.uuid4(),
        start_point=technician.home,
        end_point=technician.home,
        start_at=start,
        end_latest=end,
        shift_s=end - start,
    )


def job(**overrides: object) -> JobToPlace:
    values: dict[str, object] = {
        "id": uuid.uuid4(),
        "point": (0.0, 0.0),
        "earliest": 8 * HOUR,
        "latest": 12 * HOUR,
        "duration_s": HOUR,
        "required_skills": {"garage_door_springs": 3},
        "territory_id": TERRITORY,
    }
    values.update(overrides)
    return JobToPlace(**values)  # type: ignore[arg-type]


SETTINGS = MatchSettings(arrival_window_s=1800, depot_pickup_s=600)


async def ranked(
    target: JobToPlace,
    techs: list[TechnicianRow],
    days: list[Day],
    vans: dict[UUID, dict[UUID, int]] | None = None,
    depots: list[DepotRow] | None = None,
) -> Ranking:
    fleet = await FleetView.build(techs, days, GridTravel())
    return await Matcher(target, SETTINGS, GridTravel()).rank(fleet, vans or {}, depots or [])


async def test_a_job_can_start_at_the_last_second_of_its_window_but_not_after() -> None:
    # 0.2 degrees = 200 s from the job; the shift starts 8:00, so the earliest arrival is 8:03:20.
    ann = tech("Ann", (0.2, 0.0))
    edge = await ranked(job(earliest=0, latest=8 * HOUR + 200), [ann], [day_of(ann)])
    assert [c.name for c in edge.candidates] == ["Ann"]
    assert edge.candidates[0].planned_start_at == datetime.fromtimestamp(8 * HOUR + 200, UTC)
    too_late = await ranked(job(earliest=0, latest=8 * HOUR + 199), [ann], [day_of(ann)])
    assert too_late.candidates == []
    assert too_late.excluded == {"no_room": 1}


async def test_a_near_technician_fetching_the_part_beats_a_far_one_carrying_it() -> None:
    spring = NeededPart(SPRING, "SPR-218", "Torsion spring 218", 2, 0.9, carry=True)
    near = tech("Near", (0.1, 0.0))  # 100 s from the job, no springs on the van
    far = tech("Far", (1.5, 0.0))  # 1500 s from the job, carries them
    # A depot 0.05 off Near's way: 100 + 100 s there, 600 s to pick up, 100 s on: +700 s (11.7 min)
    # over driving straight, against Far's 3000 - 0 s = 50 min of added driving.
    depot = DepotRow(uuid.uuid4(), "North depot", TERRITORY, (0.05, 0.05), {SPRING: 4})
    ranking = await ranked(
        job(parts=[spring]),
        [near, far],
        [day_of(near), day_of(far)],
        vans={far.id: {SPRING: 2}},
        depots=[depot],
    )
    first, second = ranking.candidates
    assert first.name == "Near"
    assert first.parts.detour is not None
    assert first.parts.detour.name == "North depot"
    assert first.parts.coverage == 1.0
    # Added travel: (to depot 100 + pickup 600 + depot to job 100) + back home 100 - 0 = 900 s.
    assert first.added_travel_min == 15.0
    assert first.breakdown.travel == 15.0
    assert "picks up SPR-218 at North depot" in first.reason
    assert second.name == "Far"
    assert second.breakdown.travel == 50.0
    assert second.parts.on_van == ["SPR-218"]
    assert second.breakdown.parts == 0.0
    # Without the depot, Near would come without springs: an hour's penalty times 0.9 coverage lost.
    alone = await ranked(job(parts=[spring]), [near], [day_of(near)])
    assert alone.candidates[0].breakdown.parts == 60.0
    assert "lacks SPR-218" in alone.candidates[0].reason


async def test_a_master_is_not_spent_on_a_simple_job_when_someone_fitting_is_free() -> None:
    master = tech("Master", (0.1, 0.0), garage_door_springs=5)
    fitting = tech("Fitting", (0.0, 0.12), garage_door_springs=3)
    ranking = await ranked(job(), [master, fitting], [day_of(master), day_of(fitting)])
    # Master: 200 s of driving = 3.33 min + 2 levels x 5 = 13.33; Fitting: 240 s = 4 min.
    assert [c.name for c in ranking.candidates] == ["Fitting", "Master"]
    assert ranking.candidates[1].breakdown.overqualification == 10.0
    assert ranking.candidates[0].breakdown.overqualification == 0.0


async def test_who_fixed_this_door_before_is_worth_a_little_more_driving() -> None:
    stranger = tech("Stranger", (0.1, 0.0))
    regular = tech("Regular", (0.3, 0.0))
    target = job(served={regular.id: datetime(2023, 5, 2, tzinfo=UTC)}, asset_label="this garage door")
    ranking = await ranked(target, [stranger, regular], [day_of(stranger), day_of(regular)])
    # Regular: 600 s = 10 min - 20 = -10; Stranger: 200 s = 3.33 min.
    assert [c.name for c in ranking.candidates] == ["Regular", "Stranger"]
    assert ranking.candidates[0].breakdown.continuity == -20.0
    assert "worked on this garage door in 2023" in ranking.candidates[0].reason


async def test_each_excluded_technician_is_counted_under_the_first_rule_broken() -> None:
    ok = tech("Ok", (0.1, 0.0))
    unskilled = tech("Unskilled", (0.1, 0.0), garage_door=2)
    refused = tech("Refused", (0.1, 0.0))
    elsewhere = TechnicianRow(
        uuid.uuid4(), "Elsewhere", uuid.uuid4(), True, (1.0, 0.0), {"garage_door_springs": 3}
    )
    off = tech("Off", (0.1, 0.0))
    inactive = TechnicianRow(
        uuid.uuid4(), "Inactive", TERRITORY, False, (0.1, 0.0), {"garage_door_springs": 5}
    )
    target = job(excluded=frozenset({refused.id}))
    ranking = await ranked(
        target,
        [ok, unskilled, refused, elsewhere, off, inactive],
        [day_of(ok), day_of(off, start=13 * HOUR, end=20 * HOUR)],
    )
    assert [c.name for c in ranking.candidates] == ["Ok"]
    assert ranking.considered == 6
    assert ranking.excluded == {
        Exclusion.INACTIVE.value: 1,
        Exclusion.SKILL.value: 1,
        Exclusion.EXCLUDED_BY_CUSTOMER.value: 1,
        Exclusion.OUT_OF_REACH.value: 1,
        Exclusion.OFF_SHIFT.value: 1,
    }


async def test_a_depot_detour_fetches_what_the_van_should_carry_not_whatever_is_likely() -> None:
    # The cable is one visit in three, not chosen for the van; the spring is. A depot holds both.
    cable = NeededPart(uuid.uuid4(), "CAB-7", "Lift cables", 1, 0.35, carry=False)
    spring = NeededPart(SPRING, "SPR-218", "Torsion spring 218", 2, 0.45, carry=True)
    near = tech("Near", (0.1, 0.0))
    depot = DepotRow(uuid.uuid4(), "North depot", TERRITORY, (0.05, 0.05), {SPRING: 4, cable.part_id: 4})

    ranking = await ranked(job(parts=[cable, spring]), [near], [day_of(near)], depots=[depot])

    (only,) = ranking.candidates
    assert only.parts.detour is not None
    assert only.parts.detour.skus == ["SPR-218"]
    assert only.parts.missing == ["CAB-7"]


async def test_the_reason_reads_like_a_dispatcher_would_say_it() -> None:
    ann = tech("Ann", (0.72, 0.0))  # 720 s = 12 min away
    spring = NeededPart(SPRING, "SPR-218", "Torsion spring 218", 2, 0.9, carry=True)
    ranking = await ranked(job(parts=[spring]), [ann], [day_of(ann)], vans={ann.id: {SPRING: 2}})
    # Arrives 8:12, told 8:10-8:40 (rounded down to 5 minutes, a 30-minute window).
    assert ranking.candidates[0].reason == "12 min away, carries Torsion spring 218, arrives 8:10–8:40"
    assert ranking.candidates[0].slack_min == pytest.approx((12 * HOUR - 8 * HOUR - 720) / 60)


async def test_the_customers_preferred_technician_and_a_lighter_day_count() -> None:
    busy = tech("Busy", (0.1, 0.0))
    free = tech("Free", (0.1, 0.0))
    liked = tech("Liked", (0.25, 0.0))
    # Busy already has four hours of work in the afternoon; the others nothing.
    afternoon = [
        Visit(uuid.uuid4(), (0.1, 0.0), 13 * HOUR, 13 * HOUR, 4 * HOUR, planned_start=13 * HOUR),
    ]
    days = [
        Day(busy.id, uuid.uuid4(), busy.home, busy.home, 8 * HOUR, 18 * HOUR, 10 * HOUR, afternoon),
        day_of(free, end=18 * HOUR),
        day_of(liked, end=18 * HOUR),
    ]
    ranking = await ranked(job(preferred=frozenset({liked.id})), [busy, free, liked], days)
    by_name = {c.name: c for c in ranking.candidates}
    # Workload: 30 min x booked share of a 10-hour shift: Busy (4 h + 1 h) 15, the others 3.
    assert by_name["Busy"].breakdown.workload == 15.0
    assert by_name["Free"].breakdown.workload == 3.0
    # Liked: 500 s of driving = 8.33 min + 3 - 30 = -18.67, first despite the longer drive.
    assert by_name["Liked"].breakdown.continuity == -30.0
    assert [c.name for c in ranking.candidates] == ["Liked", "Free", "Busy"]
    assert "the customer's preferred technician" in by_name["Liked"].reason
