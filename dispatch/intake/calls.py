"""Intake: one call from a customer becomes a job that already knows the site, the asset, the
skills, the duration and the parts, without asking what the company has on record.

Pure rules first (problem from words, skills for an asset, duration from history), then the
use case that finds the site and asset and stores the job.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime
from uuid import UUID

from assets import asset_queries, prediction_queries
from assets.addresses import normalize_address, normalize_postal_code
from assets.models import Asset, AssetId, PartId, SiteId
from assets.parts_prediction import Evidence, PredictedPart, predict_parts
from dispatch.access.accounts import Principal
from dispatch.errors import AskBackError
from dispatch.intake import intake_queries
from dispatch.intake.intake_queries import SiteMatch
from dispatch.intake.problems import (
    estimate_duration,
    problem_from_text,
    required_skills,
    variant_for,
)
from dispatch.jobs import changes as job_changes, records as job_records, records as jobs
from dispatch.models import OPEN_STATUSES, DurationSource, Job, JobStatus, PartSource, Problem, Variant
from dispatch.travel.geocoding import Geocoder
from dispatch.travel.sources import distance_m
from infra.db import Connection
from infra.errors import ConflictError, InvalidError, NotFoundError

SAME_SITE_M = 25.0  # a caller's phone location or a geocode lands within a few metres of the door


@dataclass(frozen=True)
class Address:
    line: str
    city: str = ""
    postal_code: str = ""

    def text(self) -> str:
        return ", ".join(part for part in (self.line, self.city, self.postal_code) if part)


@dataclass(frozen=True)
class IntakeRequest:
    problem_code: str | None
    problem_text: str | None
    choice: str | None
    window_start_at: datetime
    window_end_at: datetime
    site_id: UUID | None = None
    address: Address | None = None
    latitude: float | None = None
    longitude: float | None = None
    asset_id: UUID | None = None
    customer_id: UUID | None = None
    priority: int = 3
    external_id: str | None = None
    # A dispatcher bound to a territory finds its sites only: another's are not on record for them.
    territory_id: UUID | None = None


@dataclass(frozen=True)
class Intake:
    job: Job
    matched_by: str  # how the site was found, for the dispatcher
    asset: Asset | None


# -- the use case ------------------------------------------------------------------------------


async def _find_site(
    conn: Connection, request: IntakeRequest, geocoder: Geocoder | None
) -> tuple[SiteMatch, str]:
    if request.site_id is not None:
        site = await intake_queries.get_site(conn, request.site_id, request.territory_id)
        if site is None:
            raise InvalidError("site_id: no site with this id", field="site_id")
        return site, "site id"
    if request.address is not None:
        line = normalize_address(request.address.line)
        city = normalize_address(request.address.city)
        postal = normalize_postal_code(request.address.postal_code)
        matches = [
            s
            for s in await intake_queries.sites_on_line(conn, line, request.territory_id)
            if (not postal or s.address_key.split("|")[2] == postal)
            and (not city or s.address_key.split("|")[1] == city)
        ]
        if len(matches) == 1:
            return matches[0], "address"
        if len(matches) > 1:
            raise AskBackError(
                "address: several sites have this street address; add the city or postal code,"
                " or send site_id",
                field="address",
                candidates=[
                    {"site_id": str(s.id), "address": f"{s.address_line}, {s.city} {s.postal_code}"}
                    for s in matches
                ],
            )
    point = None
    if request.latitude is not None and request.longitude is not None:
        point = (request.latitude, request.longitude)
    elif request.address is not None and geocoder is not None:
        point = await geocoder.locate(request.address.text())
    if point is None:
        if request.address is not None:
            raise InvalidError(
                "address: no site on record at this address; send latitude and longitude"
                + (
                    " (no geocoder is configured)"
                    if geocoder is None
                    else " (the geocoder could not place it)"
                ),
                field="address",
            )
        raise InvalidError("send site_id, an address, or latitude and longitude", field="address")
    near = [
        (distance_m(point, (s.latitude, s.longitude)), s)
        for s in await intake_queries.sites_near(conn, *point, 0.0005, request.territory_id)
    ]
    near = sorted((d, s) for d, s in near if d <= SAME_SITE_M)
    if not near:
        raise InvalidError(
            f"latitude: no site on record within {SAME_SITE_M:.0f} m of this point;"
            " create the site first (POST /sites)",
            field="latitude",
        )
    return near[0][1], f"coordinates, {near[0][0]:.0f} m from the site"


def _asset_for(assets: Sequence[Asset], problem: Problem, asset_id: UUID | None) -> Asset | None:
    candidates = [a for a in assets if a.kind == problem.asset_kind and a.removed_at is None]
    if asset_id is not None:
        chosen = next((a for a in candidates if a.id == asset_id), None)
        if chosen is None:
            raise InvalidError(
                f"asset_id: no {problem.asset_kind} with this id at this site", field="asset_id"
            )
        return chosen
    if len(candidates) > 1:
        raise AskBackError(
            f"asset_id: this site has {len(candidates)} assets of kind {problem.asset_kind}; which one?",
            field="asset_id",
            candidates=[
                {"asset_id": str(a.id), "make": a.make, "model": a.model, "attributes": dict(a.attributes)}
                for a in candidates
            ],
        )
    return candidates[0] if candidates else None


async def predicted_parts(
    conn: Connection, *, asset: Asset | None, problem_code: str, choice: str | None
) -> list[PredictedPart]:
    make, model = (asset.make, asset.model) if asset else ("", "")
    counts = await prediction_queries.problem_counts(
        conn, problem_code=problem_code, choice=choice, make=make, model=model
    )
    fittings = (await prediction_queries.fittings(conn, [asset.id])).get(asset.id, []) if asset else []
    # Its whole recorded history counts, not only visits made by jobs (imports, installs).
    own = await prediction_queries.own_uses(conn, asset.id) if asset else []
    return predict_parts(
        Evidence(
            usual_families=await prediction_queries.usual_families_for(conn, problem_code, choice),
            fleet=counts.fleet,
            model=counts.model,
            own_history=own,
            fittings=fittings,
            parts=counts.parts,
            make_model=f"{make} {model}".strip() or "this kind of asset",
            neighbours=await prediction_queries.size_neighbours(conn, asset.kind) if asset else {},
        )
    )


@dataclass(frozen=True)
class Understood:
    """What a call is about, before anything is stored: where, which asset, what it needs."""

    site: SiteMatch
    matched_by: str
    problem: Problem
    variant: Variant
    asset: Asset | None
    skills: dict[str, int]
    duration_s: int
    duration_source: DurationSource
    duration_reason: str


async def understand(conn: Connection, request: IntakeRequest, *, geocoder: Geocoder | None) -> Understood:
    site, matched_by = await _find_site(conn, request, geocoder)
    assets = await asset_queries.list_site_assets(conn, SiteId(site.id), limit=200, offset=0)
    if request.problem_code is not None:
        problem = await intake_queries.problem(conn, request.problem_code)
        if problem is None:
            kinds = sorted({a.kind for a in assets})
            codes = [p.code for p in await intake_queries.problems(conn, asset_kinds=kinds or None)]
            raise InvalidError(
                f"problem_code: unknown; for this site one of {', '.join(codes)}", field="problem_code"
            )
    elif request.problem_text:
        kinds = sorted({a.kind for a in assets if a.removed_at is None})
        problem = problem_from_text(
            request.problem_text, await intake_queries.problems(conn, asset_kinds=kinds or None)
        )
    else:
        raise InvalidError("send problem_code, or problem_text in the caller's words", field="problem_code")
    variant = variant_for(problem, request.choice)
    asset = _asset_for(assets, problem, request.asset_id)
    attributes: dict[str, object] = dict(asset.attributes) if asset else {}
    skills = required_skills(variant, attributes)
    what = f"{problem.code} on {asset.make} {asset.model}" if asset else problem.code
    past = (
        await intake_queries.past_durations(
            conn, problem_code=problem.code, choice=variant.choice or None, make=asset.make, model=asset.model
        )
        if asset
        else []
    )
    duration_s, source, reason = estimate_duration(past, variant.duration_s, what=what)
    return Understood(site, matched_by, problem, variant, asset, skills, duration_s, source, reason)


async def take_call(
    conn: Connection, principal: Principal, request: IntakeRequest, *, geocoder: Geocoder | None
) -> Intake:
    call = await understand(conn, request, geocoder=geocoder)
    site, matched_by, problem, variant, asset = (
        call.site,
        call.matched_by,
        call.problem,
        call.variant,
        call.asset,
    )
    skills, duration_s, source, reason = (
        call.skills,
        call.duration_s,
        call.duration_source,
        call.duration_reason,
    )
    job = await jobs.create_job(
        conn,
        principal,
        jobs.NewJob(
            site_id=site.id,
            problem_code=problem.code,
            duration_s=duration_s,
            window_start_at=request.window_start_at,
            window_end_at=request.window_end_at,
            asset_id=asset.id if asset else None,
            customer_id=request.customer_id,
            problem_description=request.problem_text or problem.name,
            customer_choice=variant.choice or None,
            required_skills=skills,
            priority=request.priority,
            external_id=request.external_id,
        ),
    )
    parts = await predicted_parts(conn, asset=asset, problem_code=problem.code, choice=variant.choice)
    await job_records.replace_job_parts(
        conn,
        job.id,
        [
            (PartId(p.part.part_id), p.quantity, p.probability, PartSource.PREDICTED, list(p.reasons))
            for p in parts
        ],
        carried={p.part.part_id for p in parts if p.carry},
    )
    await job_records.update_job(conn, job.id, {"duration_source": source.value, "duration_reason": reason})
    await job_changes.record(
        conn, job.id, "intake", principal, to_status=JobStatus.NEW, data={"matched_by": matched_by}
    )
    stored = await job_records.get_job(conn, principal, job.id)
    if stored is None:
        raise NotFoundError("the job vanished while it was being created")
    return Intake(job=stored, matched_by=matched_by, asset=asset)


async def predict_new_jobs(conn: Connection) -> int:
    """Predict parts and duration for new jobs that have none yet (e.g. created by an import)."""
    pending = await intake_queries.new_jobs_without_parts(conn)
    if not pending:
        return 0
    assets = {
        a.id: a for a in await asset_queries.get_assets(conn, list({AssetId(j.asset_id) for j in pending}))
    }
    for job in pending:
        predicted = await predicted_parts(
            conn,
            asset=assets.get(AssetId(job.asset_id)),
            problem_code=job.problem_code,
            choice=job.customer_choice,
        )
        await job_records.replace_job_parts(
            conn,
            job.id,
            [
                (PartId(p.part.part_id), p.quantity, p.probability, PartSource.PREDICTED, list(p.reasons))
                for p in predicted
            ],
            carried={p.part.part_id for p in predicted if p.carry},
        )
        problem = await intake_queries.problem(conn, job.problem_code)
        if problem is None:
            continue
        variant = variant_for(problem, job.customer_choice)
        past = await intake_queries.past_durations(
            conn, problem_code=job.problem_code, choice=job.customer_choice, make=job.make, model=job.model
        )
        duration_s, source, reason = estimate_duration(
            past, variant.duration_s, what=f"{job.problem_code} on {job.make} {job.model}"
        )
        await job_records.update_job(
            conn,
            job.id,
            {"duration_s": duration_s, "duration_source": source.value, "duration_reason": reason},
        )
    return len(pending)


async def repredict_parts(
    conn: Connection, principal: Principal, job_id: UUID, *, expected_version: int | None
) -> Job:
    """Predict an open job's parts again from today's history (e.g. after its asset was attached)."""
    job = await jobs.get_job(conn, principal, job_id, for_update=True)
    jobs.check_version(job, expected_version, required=False)
    if job.status not in OPEN_STATUSES:
        raise ConflictError(f"a {job.status.value} job's parts are no longer predicted", field="status")
    asset = await asset_queries.get_asset(conn, AssetId(job.asset_id)) if job.asset_id else None
    predicted = await predicted_parts(
        conn, asset=asset, problem_code=job.problem_code, choice=job.customer_choice or ""
    )
    await job_records.replace_predicted_parts(
        conn,
        job.id,
        [(PartId(p.part.part_id), p.quantity, p.probability, list(p.reasons), p.carry) for p in predicted],
    )
    await job_records.update_job(conn, job.id, {})
    await job_changes.record(
        conn, job.id, "parts_predicted", principal, data={"parts": [p.part.sku for p in predicted]}
    )
    return await jobs.get_job(conn, principal, job.id)
