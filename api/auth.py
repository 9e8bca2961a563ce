"""Sign-in with signed JWTs, and role guards.

The token carries the role, the technician record, the dispatcher's territory and the user's
token version. Each request also checks that the user still exists, is active and is still at
that version, through a per-process cache of TRUCKROLL_TOKEN_CHECK_TTL_S seconds: deactivating or
deleting a user, changing their password, role or territory, or signing out stops their tokens
within that time (dispatch/access/sessions.py).
"""

from __future__ import annotations

from collections import OrderedDict
from collections.abc import Sequence
from datetime import UTC, datetime, timedelta
from typing import Annotated, Any, ClassVar, Self, cast
from uuid import UUID

import msgspec
from litestar import Request, post
from litestar.config.app import AppConfig
from litestar.connection import ASGIConnection
from litestar.datastructures import State
from litestar.di import NamedDependency
from litestar.exceptions import (
    NotAuthorizedException,
    PermissionDeniedException,
    ServiceUnavailableException,
    TooManyRequestsException,
)
from litestar.handlers.base import BaseRouteHandler
from litestar.params import JSONBody
from litestar.security.jwt import JWTAuth, Token

from api.console_session import BearerOrConsoleSession
from dispatch.access.accounts import LOGIN_ROLES, MAX_PASSWORD_LENGTH, Principal, Role, User
from dispatch.access.login_throttle import ThrottlePolicy
from dispatch.access.sessions import TokenVersions
from dispatch.access.sign_in import (
    PasswordVerifier,
    SignedIn,
    SignInGate,
    TooManyAttemptsError,
    VerifierBusyError,
    change_password,
    sign_in,
    sign_out_everywhere,
)
from infra.db import acquire
from infra.settings import Settings

# Operational metrics carry no business data and are scraped from inside the network. Anchored:
# a pattern found anywhere in a path let `/problems/health` through without a token.
PUBLIC_PATHS = ["^/health$", "^/ready$", "^/schema(?:/|$)", "^/auth/login$", "^/metrics$"]


def principal_retriever(versions: TokenVersions) -> Any:
    async def retrieve_principal(
        token: Token, connection: ASGIConnection[Any, Any, Any, Any]
    ) -> Principal | None:
        extras = token.extras
        try:
            principal = Principal(
                user_id=UUID(token.sub),
                role=Role(extras["role"]),
                technician_id=UUID(extras["technician_id"]) if extras.get("technician_id") else None,
                territory_id=UUID(extras["territory_id"]) if extras.get("territory_id") else None,
            )
            if principal.role not in LOGIN_ROLES:
                return None  # the customer's and the system's roles are never a login's
            # Tokens from before versions existed count as version 0, the version users start at.
            version = int(extras.get("ver") or 0)
        except (KeyError, ValueError, TypeError):
            return None
        if not await versions.is_current(connection.app.state.pool, principal.user_id, version):
            return None
        return principal

    return retrieve_principal


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


class AuthRoutes:
    """The app's JWT middleware and the sign-in routes, sharing one token-version cache."""

    def __init__(self, settings: Settings) -> None:
        self.versions = TokenVersions(settings.token_check_ttl_s)
        self.jwt_auth = JWTAuth[Principal, Token](
            retrieve_user_handler=principal_retriever(self.versions),
            token_cls=VerifiedToken,
            token_secret=settings.jwt_secret,
            default_token_expiration=timedelta(seconds=settings.jwt_ttl_s),
            exclude=PUBLIC_PATHS,
            exclude_opt_key="public",
            authentication_middleware_class=BearerOrConsoleSession,
        )
        self.gate = SignInGate(
            verifier=PasswordVerifier(
                threads=settings.login_verify_threads, queue=settings.login_verify_queue
            ),
            policy=ThrottlePolicy(
                free_failures_account=settings.login_free_failures_account,
                free_failures_address=settings.login_free_failures_address,
                backoff_max_s=settings.login_backoff_max_s,
                forget_after_s=settings.login_forget_after_s,
            ),
            min_password_length=settings.password_min_length,
        )
        self.route_handlers = [
            make_login_handler(self.jwt_auth, self.gate, settings.jwt_ttl_s),
            make_logout_handler(self.versions),
            make_password_handler(self.versions, self.gate),
        ]

    def on_app_init(self, app_config: AppConfig) -> AppConfig:
        app_config.on_shutdown.append(self.gate.verifier.close)
        return self.jwt_auth.on_app_init(app_config)


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
    password: Annotated[str, msgspec.Meta(min_length=1, max_length=MAX_PASSWORD_LENGTH)]


class LoginResponse(msgspec.Struct, frozen=True, kw_only=True):
    access_token: str
    token_type: str = "Bearer"  # noqa: S105 - a scheme name, not a secret
    expires_in_s: int
    user: User


class PasswordChange(msgspec.Struct, frozen=True, forbid_unknown_fields=True):
    current_password: Annotated[str, msgspec.Meta(min_length=1, max_length=MAX_PASSWORD_LENGTH)]
    new_password: Annotated[str, msgspec.Meta(min_length=1, max_length=MAX_PASSWORD_LENGTH)]


def _client_address(request: Request[Any, Any, Any]) -> str:
    # uvicorn puts the proxy's X-Forwarded-For here when the proxy is trusted (FORWARDED_ALLOW_IPS).
    return request.client.host if request.client else "unknown"


def _throttled(error: TooManyAttemptsError) -> TooManyRequestsException:
    return TooManyRequestsException(
        f"Too many failed sign-ins; try again in {error.retry_after_s} s.",
        headers={"Retry-After": str(error.retry_after_s)},
    )


def _busy() -> ServiceUnavailableException:
    return ServiceUnavailableException(
        "Too many sign-ins in progress; try again in a second.", headers={"Retry-After": "1"}
    )


async def sign_in_or_refuse(
    request: Request[Any, Any, Any], state: State, gate: SignInGate, data: LoginRequest
) -> SignedIn:
    """The checks of every sign-in (the API's and the console's): 401, 429 or 503 as an answer."""
    try:
        signed = await sign_in(state.pool, gate, data.email, data.password, _client_address(request))
    except TooManyAttemptsError as error:
        raise _throttled(error) from None
    except VerifierBusyError:
        raise _busy() from None
    if signed is None:
        raise NotAuthorizedException("Wrong email or password.")
    return signed


def make_login_handler(jwt_auth: JWTAuth[Principal, Token], gate: SignInGate, ttl_s: int) -> Any:
    @post(
        "/auth/login",
        opt={"public": True, "errors": [400, 401, 429, 503]},
        security=[{}],
        tags=["auth"],
        status_code=200,
        raises=[NotAuthorizedException],
    )
    async def login(
        request: Request[Any, Any, Any], state: State, data: JSONBody[LoginRequest]
    ) -> LoginResponse:
        """Exchange an email and password for a bearer token. Failed attempts back off per account
        and per client address (429 with Retry-After); an unknown email is answered exactly as a
        wrong password is."""
        signed = await sign_in_or_refuse(request, state, gate, data)
        user = signed.user
        extras = {
            "role": user.role.value,
            "technician_id": str(user.technician_id) if user.technician_id else None,
            "territory_id": str(user.territory_id) if user.territory_id else None,
            "ver": signed.token_version,
        }
        token = jwt_auth.create_token(
            identifier=str(user.id), token_expiration=timedelta(seconds=ttl_s), token_extras=extras
        )
        return LoginResponse(access_token=token, expires_in_s=ttl_s, user=user)

    return login


def make_logout_handler(versions: TokenVersions) -> Any:
    @post("/auth/logout", guards=[ANY_USER], tags=["auth"], status_code=204, opt={"errors": [401, 503]})
    async def logout(state: State, principal: NamedDependency[Principal]) -> None:
        """Sign out everywhere: every token of this user stops working, on this device and on
        every other (a token names only its user and version, so one session cannot be told from
        another). Other API processes stop accepting them within TRUCKROLL_TOKEN_CHECK_TTL_S."""
        async with acquire(state.pool) as conn, conn.transaction():
            await sign_out_everywhere(conn, principal.user_id)
        versions.forget(principal.user_id)

    return logout


def make_password_handler(versions: TokenVersions, gate: SignInGate) -> Any:
    @post(
        "/auth/password",
        guards=[ANY_USER],
        tags=["auth"],
        status_code=204,
        opt={"errors": [400, 401, 422, 429, 503]},
    )
    async def change_own_password(
        request: Request[Any, Any, Any],
        state: State,
        principal: NamedDependency[Principal],
        data: JSONBody[PasswordChange],
    ) -> None:
        """Change your own password, giving the current one. The new one must be at least
        TRUCKROLL_PASSWORD_MIN_LENGTH characters and not a common password. Every session of the
        user, this one included, is signed out: sign in again with the new password."""
        try:
            await change_password(
                state.pool,
                gate,
                principal.user_id,
                data.current_password,
                data.new_password,
                _client_address(request),
            )
        except TooManyAttemptsError as error:
            raise _throttled(error) from None
        except VerifierBusyError:
            raise _busy() from None
        versions.forget(principal.user_id)

    return change_own_password
