"""Sign-in with signed JWTs, and role guards.

The token carries the role, the technician record and the dispatcher's territory, so a request is
authorised without a database round trip; a deactivated user keeps access until the token expires
(TRUCKROLL_JWT_TTL_S, 12 h by default).
"""

from __future__ import annotations

from collections import OrderedDict
from collections.abc import Sequence
from datetime import UTC, datetime, timedelta
from typing import Annotated, Any, ClassVar, Self, cast
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

# Operational metrics carry no business data and are scraped from inside the network. Anchored:
# a pattern found anywhere in a path let `/problems/health` through without a token.
PUBLIC_PATHS = ["^/health$", "^/ready$", "^/schema(?:/|$)", "^/auth/login$", "^/metrics$"]


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


class VerifiedToken(Token):
    """A bearer token verified once per process. A phone sends the same token with every ping
    for hours, and checking its signature and claims again each time cost more CPU than storing
    the ping. The expiry is still checked on every request; invalid tokens are never kept."""

    _verified: ClassVar[OrderedDict[tuple[str, str, str], VerifiedToken]] = OrderedDict()
    KEEP: ClassVar[int] = 20_000

    @classmethod
    def decode(
        cls,
        encoded_token: str,
        secret: str,
        algorithm: str,
        audience: str | Sequence[str] | None = None,
        issuer: str | Sequence[str] | None = None,
        require_claims: Sequence[str] | None = None,
        verify_exp: bool = True,
        verify_nbf: bool = True,
        strict_audience: bool = False,
    ) -> Self:
        plain = audience is None and issuer is None and not require_claims and verify_exp and verify_nbf
        key = (encoded_token, secret, algorithm)
        known = cls._verified.get(key) if plain else None
        if known is not None and known.exp > datetime.now(UTC):
            cls._verified.move_to_end(key)
            return cast(Self, known)
        token = super().decode(
            encoded_token,
            secret,
            algorithm,
            audience=audience,
            issuer=issuer,
            require_claims=require_claims,
            verify_exp=verify_exp,
            verify_nbf=verify_nbf,
            strict_audience=strict_audience,
        )
        if plain:
            cls._verified[key] = token
            if len(cls._verified) > cls.KEEP:
                cls._verified.popitem(last=False)
        return token


def build_jwt_auth(secret: str, ttl_s: int) -> JWTAuth[Principal, Token]:
    return JWTAuth[Principal, Token](
        retrieve_user_handler=retrieve_principal,
        token_cls=VerifiedToken,
        token_secret=secret,
        default_token_expiration=timedelta(seconds=ttl_s),
        exclude=PUBLIC_PATHS,
        exclude_opt_key="public",
    )


def requires_role(*roles: Role) -> Any:
    allowed = frozenset(roles)

    # Async on purpose: Litestar runs a plain function guard in a worker thread, a thread hop
    # on every request for a check that takes microseconds.
    async def guard(connection: ASGIConnection[Any, Any, Any, Any], _: BaseRouteHandler) -> None:
        # Not `connection.user`: it raises (a 500) where authentication did not run at all.
        principal = connection.scope.get("user")
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
        opt={"public": True, "errors": [400, 401, 503]},
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
