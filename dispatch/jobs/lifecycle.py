"""One state machine for every job.

    new -> scheduled -> dispatched -> en_route -> on_site -> completed | incomplete
    scheduled -> en_route                 (setting off; recorded as dispatched, then en_route)
    new | scheduled | dispatched -> cancelled
    scheduled | dispatched -> scheduled   (reassigned before departure)
    scheduled | dispatched -> new         (unassigned, or moved by the customer, then re-matched)

Who moves what: assignment, overrides, slot booking and the optimizer move a job between new
and scheduled; the system dispatches it (releases it to the technician's phone) as it lands on a
released day: today, or a day a dispatcher published (dispatch/jobs/day_release.py), and a dispatcher
may dispatch one job ahead of time; the technician (or a dispatcher on their behalf) reports the
road and the door. Setting off (en_route) from scheduled passes through dispatched, both steps
recorded, so a technician never waits on a dispatcher to leave for their next job. The customer
may move or cancel the visit through their link until the technician sets off.
An event from an app that was offline may arrive after a later one: if its status is one the
job has already passed, it is recorded but does not move the job backwards.
"""

from __future__ import annotations

from dataclasses import dataclass

from dispatch.models import JobStatus

S = JobStatus
TRANSITIONS: dict[JobStatus, frozenset[JobStatus]] = {
    S.NEW: frozenset({S.SCHEDULED, S.CANCELLED}),
    S.SCHEDULED: frozenset({S.NEW, S.SCHEDULED, S.DISPATCHED, S.EN_ROUTE, S.CANCELLED}),
    S.DISPATCHED: frozenset({S.NEW, S.SCHEDULED, S.EN_ROUTE, S.CANCELLED}),
    S.EN_ROUTE: frozenset({S.ON_SITE}),
    S.ON_SITE: frozenset({S.COMPLETED, S.INCOMPLETE}),
    S.COMPLETED: frozenset(),
    S.INCOMPLETE: frozenset(),
    S.CANCELLED: frozenset(),
}
# Steps a report passes through on its way: setting off releases the job to the road itself.
IMPLIED: dict[tuple[JobStatus, JobStatus], tuple[JobStatus, ...]] = {
    (S.SCHEDULED, S.EN_ROUTE): (S.DISPATCHED,),
}
# How far along the day a status is; a report of an earlier one is stale.
PROGRESS = {
    S.NEW: 0,
    S.SCHEDULED: 1,
    S.DISPATCHED: 2,
    S.EN_ROUTE: 3,
    S.ON_SITE: 4,
    S.COMPLETED: 5,
    S.INCOMPLETE: 5,
    S.CANCELLED: 5,
}
# What a status report (from the app or a dispatcher) may ask for; the rest have their own
# endpoints (assignment, overrides, cancel).
REPORTABLE = frozenset({S.DISPATCHED, S.EN_ROUTE, S.ON_SITE, S.COMPLETED, S.INCOMPLETE})
TECHNICIAN_REPORTABLE = frozenset({S.EN_ROUTE, S.ON_SITE, S.COMPLETED, S.INCOMPLETE})
# A customer may move or cancel their visit (through their link) until the technician sets off.
REBOOKABLE = frozenset({S.NEW, S.SCHEDULED, S.DISPATCHED})


@dataclass(frozen=True)
class Verdict:
    apply: bool  # move the job
    stale: bool  # recorded, but the job has moved past it
    allowed: frozenset[JobStatus]  # when neither: what the job may move to now
    through: tuple[JobStatus, ...] = ()  # when applied: the steps passed on the way, in order


def judge(current: JobStatus, wanted: JobStatus) -> Verdict:
    through = IMPLIED.get((current, wanted), ())
    allowed = TRANSITIONS[current]
    if wanted in allowed and wanted is not current:
        return Verdict(apply=True, stale=False, allowed=allowed, through=through)
    if wanted is current or PROGRESS[wanted] < PROGRESS[current]:
        return Verdict(apply=False, stale=True, allowed=allowed)
    return Verdict(apply=False, stale=False, allowed=allowed)


def allowed_words(allowed: frozenset[JobStatus]) -> str:
    names = sorted(s.value for s in allowed if s in REPORTABLE)
    return ", ".join(names) if names else "nothing (the job is closed)"
