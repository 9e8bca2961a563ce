"""Sign-in with signed JWTs, and role guards.

The token carries the role, the technician record and the dispatcher's territory, so a request is
authorised without a database round trip; a deactivated user keeps access until the token expires
(TRUCKROLL_JWT_TTL_S, 12 h by default).
"""

from __future__ import annotations

from datetime import timedelta
from typing import Annotated, Any
from uuid import UUID

import msgspec
from litestar import Request, post
from litestar.connection import ASGIConnection
from litestar.di import NamedDependency
from litestar.exceptions import NotAuthorizedException, PermissionDeniedException
from litestar.handlers.base import BaseRouteHandler
from litestar.params import JSONBody
from litestar.security.jwt import JWTAuth, Token

from dispatch.accounts import Principal, Role, User, authenticate
from infra.db import Connection

# Operational metrics carry no business data and are scraped from inside the network.
PUBLIC_PATHS = ["/health", "/ready", "/schema", "/auth/login", "^/metrics$"]


async def retrieve_principal(token: Token, _: ASGIConnection[Any, Any, Any, Any]) -> Principal | None:
    extras = token.extras
    try:
        return Principal(
            user_id=UUID(token.sub),
            role=Role(extras["role"]),
            technician_id=UUID(extras["technician_id"]) if extras.get("technician_id") else None,
            territory_id=UUID(extras["territory_id"]) if extras.get("territory_id") else None,
        )
    except (KeyError, ValueError):
        return None


def build_jwt_auth(secret: str, ttl_s: int) -> JWTAuth[Principal, Token]:
    return JWTAuth[Principal, Token](
        retrieve_user_handler=retrieve_principal,
        token_secret=secret,
        default_token_expiration=timedelta(seconds=ttl_s),
        exclude=PUBLIC_PATHS,
        exclude_opt_key="public",
    )


def requires_role(*roles: Role) -> Any:
    allowed = frozenset(roles)

    def guard(connection: ASGIConnection[Any, Any, Any, Any], _: BaseRouteHandler) -> None:
        principal = connection.user
        if not isinstance(principal, Principal):
            raise NotAuthorizedException("Authentication required.")
        if principal.role not in allowed:
            names = ", ".join(sorted(r.value for r in allowed))
            raise PermissionDeniedException(f"This needs one of the roles: {names}.")

    return guard


STAFF = requires_role(Role.ADMIN, Role.DISPATCHER)
ADMIN = requires_role(Role.ADMIN)
ANY_USER = requires_role(Role.ADMIN, Role.DISPATCHER, Role.TECHNICIAN)
TECHNICIAN = requires_role(Role.TECHNICIAN)


class LoginRequest(msgspec.Struct, frozen=True, forbid_unknown_fields=True):
    email: Annotated[str, msgspec.Meta(min_length=3, max_length=320)]
    password: Annotated[str, msgspec.Meta(min_length=1, max_length=1000)]


class LoginResponse(msgspec.Struct, frozen=True, kw_only=True):
    access_token: str
    token_type: str = "Bearer"  # noqa: S105 - a scheme name, not a secret
    expires_in_s: int
    user: User


def make_login_handler(jwt_auth: JWTAuth[Principal, Token], ttl_s: int) -> Any:
    @post(
        "/auth/login",
        opt={"public": True},
        security=[{}],
        tags=["auth"],
        status_code=200,
        raises=[NotAuthorizedException],
    )
    async def login(
        request: Request[Any, Any, Any], conn: NamedDependency[Connection], data: JSONBody[LoginRequest]
    ) -> LoginResponse:
        """Exchange an email and password for a bearer token."""
        user = await authenticate(conn, data.email, data.password)
        if user is None:
            raise NotAuthorizedException("Wrong email or password.")
        extras = {
            "role": user.role.value,
            "technician_id": str(user.technician_id) if user.technician_id else None,
            "territory_id": str(user.territory_id) if user.territory_id else None,
        }
        token = jwt_auth.create_token(
            identifier=str(user.id), token_expiration=timedelta(seconds=ttl_s), token_extras=extras
        )
        return LoginResponse(access_token=token, expires_in_s=ttl_s, user=user)

    return login
