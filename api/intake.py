"""Intake (one call becomes a job that knows its site, asset, skills, duration and parts) and the
problem catalogue behind it."""

from __future__ import annotations

from typing import Annotated
from uuid import UUID

import msgspec
from litestar import Controller, Response, get, post, put
from litestar.datastructures import State
from litestar.params import FromPath, FromQuery, JSONBody

from api.auth import ADMIN, ANY_USER, STAFF
from api.deps import Caller, Db
from api.jobs import versioned
from assets.models import Asset, AwareDatetime, Code, ExternalId, Latitude, Longitude, Name
from dispatch.access import scope
from dispatch.access.accounts import Principal
from dispatch.intake import calls as intake, problems
from dispatch.models import DurationS, Job, Priority, Problem, SkillCode, SkillLevel, Variant
from dispatch.travel.geocoding import geocoder_from_settings
from infra.errors import InvalidError
from infra.settings import Settings

Text = Annotated[str, msgspec.Meta(min_length=1, max_length=300)]


class AddressIn(msgspec.Struct, frozen=True, kw_only=True, forbid_unknown_fields=True):
    line: Text
    city: Annotated[str, msgspec.Meta(max_length=200)] = ""
    postal_code: Annotated[str, msgspec.Meta(max_length=20)] = ""


class IntakeIn(msgspec.Struct, frozen=True, kw_only=True, forbid_unknown_fields=True):
    """Where (site_id, address or coordinates), what (a problem code or the caller's words), and when."""

    window_start_at: AwareDatetime
    window_end_at: AwareDatetime
    problem_code: Code | None = None
    problem_text: Annotated[str, msgspec.Meta(min_length=1, max_length=2000)] | None = None
    choice: Code | None = None
    site_id: UUID | None = None
    address: AddressIn | None = None
    latitude: Latitude | None = None
    longitude: Longitude | None = None
    asset_id: UUID | None = None
    customer_id: UUID | None = None
    priority: Priority = 3
    external_id: ExternalId | None = None


def intake_request(data: IntakeIn, principal: Principal) -> intake.IntakeRequest:
    if (data.latitude is None) != (data.longitude is None):
        raise InvalidError("longitude: send latitude and longitude together", field="longitude")
    return intake.IntakeRequest(
        problem_code=data.problem_code,
        problem_text=data.problem_text,
        choice=data.choice,
        window_start_at=data.window_start_at,
        window_end_at=data.window_end_at,
        site_id=data.site_id,
        address=intake.Address(data.address.line, data.address.city, data.address.postal_code)
        if data.address
        else None,
        latitude=data.latitude,
        longitude=data.longitude,
        asset_id=data.asset_id,
        customer_id=data.customer_id,
        priority=data.priority,
        external_id=data.external_id,
        territory_id=scope.territory_of(principal),
    )


class IntakeOut(msgspec.Struct, frozen=True, kw_only=True):
    job: Job
    matched_by: str
    asset: Asset | None


class VariantIn(msgspec.Struct, frozen=True, kw_only=True, forbid_unknown_fields=True):
    choice: Annotated[str, msgspec.Meta(pattern=r"^([a-z][a-z0-9_]{1,63})?$")] = ""
    required_skills: dict[SkillCode, SkillLevel]
    skills_if: dict[Code, dict[SkillCode, SkillLevel]] = msgspec.field(default_factory=dict)
    duration_s: DurationS
    part_families: Annotated[list[Code], msgspec.Meta(max_length=20)] = msgspec.field(default_factory=list)


class ProblemIn(msgspec.Struct, frozen=True, kw_only=True, forbid_unknown_fields=True):
    asset_kind: Code
    name: Name
    keywords: Annotated[
        list[Annotated[str, msgspec.Meta(min_length=1, max_length=60)]], msgspec.Meta(max_length=50)
    ] = msgspec.field(default_factory=list)
    default_choice: Code | None = None
    variants: Annotated[list[VariantIn], msgspec.Meta(min_length=1, max_length=10)]


class IntakeController(Controller):
    path = "/jobs/intake"
    tags = ["jobs"]

    @post(guards=[STAFF], status_code=201)
    async def take_call(
        self, conn: Db, principal: Caller, state: State, data: JSONBody[IntakeIn]
    ) -> Response[IntakeOut]:
        """Find the site (id, normalised address, or the nearest within 25 m of coordinates) and the
        asset the problem is about; derive skills, duration (learned from history when there is
        enough) and predicted parts. A missing answer (which of two doors?) is 422 with `candidates`."""
        settings: Settings = state.settings
        result = await intake.take_call(
            conn,
            principal,
            intake_request(data, principal),
            geocoder=geocoder_from_settings(settings.geocoder, settings.geocoder_user_agent),
        )
        out = IntakeOut(job=result.job, matched_by=result.matched_by, asset=result.asset)
        response = versioned(result.job, 201)
        return Response(out, status_code=201, headers=dict(response.headers))


class ProblemController(Controller):
    path = "/problems"
    tags = ["jobs"]

    @get(guards=[ANY_USER])
    async def list_problems(self, conn: Db, asset_kind: FromQuery[str | None] = None) -> list[Problem]:
        """The problem catalogue: per asset kind, what it needs and how the customer's choice changes it."""
        return await problems.problems(conn, asset_kind)

    @get("/{code:str}", guards=[ANY_USER])
    async def get_problem(self, conn: Db, code: FromPath[str]) -> Problem:
        return await problems.problem(conn, code)

    @put("/{code:str}", guards=[ADMIN])
    async def put_problem(self, conn: Db, code: FromPath[str], data: JSONBody[ProblemIn]) -> Problem:
        """Create or replace a problem and all its variants."""
        problem = Problem(
            code=code,
            asset_kind=data.asset_kind,
            name=data.name,
            keywords=[k.lower() for k in data.keywords],
            default_choice=data.default_choice,
            variants=[
                Variant(
                    choice=v.choice,
                    required_skills=dict(v.required_skills),
                    skills_if={k: dict(e) for k, e in v.skills_if.items()},
                    duration_s=v.duration_s,
                    part_families=list(v.part_families),
                )
                for v in data.variants
            ],
        )
        return await problems.save_problem(conn, problem)


ROUTES = [IntakeController, ProblemController]
