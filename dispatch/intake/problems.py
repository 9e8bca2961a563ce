"""The problems a company fixes: which one a caller's words name, its variant for the customer's
choice, the skills it needs at the asset's attributes, and how long it takes from past visits."""

from __future__ import annotations

import math
import re
from collections.abc import Sequence
from datetime import timedelta

from dispatch.errors import AskBackError
from dispatch.intake import intake_queries
from dispatch.models import DurationSource, Problem, Variant
from infra.db import Connection
from infra.errors import InvalidError, NotFoundError

CODE = re.compile(r"^[a-z][a-z0-9_]{1,63}$")


MIN_HISTORY_JOBS = 5


DURATION_PERCENTILE = 0.8  # most jobs finish inside the booked time; a fifth run over


DURATION_STEP_S = 300


def problem_from_text(text: str, problems: Sequence[Problem]) -> Problem:
    """The problem whose keywords the caller used most; a tie or no match asks back."""
    words = " ".join(re.findall(r"[a-z0-9']+", text.lower()))
    scored = []
    for problem in problems:
        hits = sum(1 for k in problem.keywords if re.search(rf"\b{re.escape(k.lower())}\b", words))
        if hits:
            scored.append((hits, problem))
    scored.sort(key=lambda s: -s[0])
    if not scored or (len(scored) > 1 and scored[0][0] == scored[1][0]):
        candidates = [p for _, p in scored] or list(problems)
        raise AskBackError(
            "problem_text: which problem is it? send problem_code",
            field="problem_code",
            candidates=[{"code": p.code, "name": p.name} for p in candidates],
        )
    return scored[0][1]


def variant_for(problem: Problem, choice: str | None) -> Variant:
    by_choice = {v.choice: v for v in problem.variants}
    wanted = choice or problem.default_choice or ""
    if wanted not in by_choice:
        offered = sorted(c for c in by_choice if c)
        if not offered:
            raise InvalidError(f"choice: {problem.code} offers no choice; leave it out", field="choice")
        raise InvalidError(f"choice: {problem.code} is one of {', '.join(offered)}", field="choice")
    return by_choice[wanted]


def required_skills(variant: Variant, attributes: dict[str, object]) -> dict[str, int]:
    skills = dict(variant.required_skills)
    for attribute, extra in variant.skills_if.items():
        if attributes.get(attribute) is True:
            for skill, level in extra.items():
                skills[skill] = max(level, skills.get(skill, 0))
    return skills


def estimate_duration(
    past: Sequence[timedelta], default_s: int, *, what: str
) -> tuple[int, DurationSource, str]:
    """A high percentile of past on-site times when there are enough, else the catalogue's."""
    if len(past) < MIN_HISTORY_JOBS:
        return (
            default_s,
            DurationSource.CATALOGUE,
            f"catalogue default; {len(past)} past job(s) on {what}, {MIN_HISTORY_JOBS} needed to learn",
        )
    seconds = sorted(p.total_seconds() for p in past)
    rank = DURATION_PERCENTILE * (len(seconds) - 1)
    low, high = seconds[math.floor(rank)], seconds[math.ceil(rank)]
    value = low + (high - low) * (rank - math.floor(rank))
    rounded = int(min(12 * 3600, max(DURATION_STEP_S, math.ceil(value / DURATION_STEP_S) * DURATION_STEP_S)))
    return (
        rounded,
        DurationSource.HISTORY,
        f"{round(DURATION_PERCENTILE * 100)}th percentile of {len(past)} past jobs on {what}",
    )


async def problems(conn: Connection, asset_kind: str | None) -> list[Problem]:
    """The problem catalogue, of one asset kind or all."""
    return await intake_queries.problems(conn, asset_kinds=[asset_kind] if asset_kind else None)


async def problem(conn: Connection, code: str) -> Problem:
    found = await intake_queries.problem(conn, code)
    if found is None:
        raise NotFoundError("no problem with this code")
    return found


async def save_problem(conn: Connection, problem: Problem) -> Problem:
    """Create or replace a problem and all its variants, once its asset kind and skills exist and
    its choices are each offered once."""
    if not CODE.match(problem.code):
        raise InvalidError("code: lower_snake_case, 2 to 64 characters", field="code")
    if not await intake_queries.asset_kind_exists(conn, problem.asset_kind):
        raise InvalidError("asset_kind: no asset kind with this code", field="asset_kind")
    choices = [v.choice for v in problem.variants]
    if len(set(choices)) != len(choices):
        raise InvalidError("variants: each choice appears once", field="variants")
    if problem.default_choice is not None and problem.default_choice not in choices:
        raise InvalidError("default_choice: must be one of the variants' choices", field="default_choice")
    skills = {
        s
        for v in problem.variants
        for s in (*v.required_skills, *(k for e in v.skills_if.values() for k in e))
    }
    unknown = skills - await intake_queries.known_skills(conn, sorted(skills))
    if unknown:
        raise InvalidError(f"variants: unknown skill {sorted(unknown)[0]}", field="variants")
    await intake_queries.upsert_problem(conn, problem)
    stored = await intake_queries.problem(conn, problem.code)
    assert stored is not None
    return stored
