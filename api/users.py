"""Logins, managed through the API: a technician hired with POST /technicians can be given a
login without shell access to the database host.

Admins create, list, deactivate and reset logins; a dispatcher invites technicians (of their
territory, when bound to one). The rules are those of `truckroll create-user`
(dispatch/access/accounts.py). Deactivating a login or resetting its password ends its sessions: at once
in this process, within TRUCKROLL_TOKEN_CHECK_TTL_S in the others.
"""

from __future__ import annotations

from typing import Annotated, Any
from uuid import UUID

import msgspec
from litestar import Controller, Response, get, post
from litestar.di import NamedDependency, Provide
from litestar.exceptions import PermissionDeniedException
from litestar.params import FromPath, FromQuery, JSONBody

from api.auth import ADMIN, STAFF, AuthRoutes
from api.deps import Caller, Db, Page, Paging, page_of
from api.idempotency import IdempotencyKey, idempotent
from dispatch.access import accounts, scope
from dispatch.access.accounts import MAX_PASSWORD_LENGTH, Role, User
from dispatch.access.scope import Record
from dispatch.access.sessions import TokenVersions
from dispatch.access.sign_in import SignInGate

Gate = NamedDependency[SignInGate]
Versions = NamedDependency[TokenVersions]
Password = Annotated[str, msgspec.Meta(min_length=1, max_length=MAX_PASSWORD_LENGTH)]


class UserCreate(msgspec.Struct, frozen=True, kw_only=True, forbid_unknown_fields=True):
    """A technician's login names their technician record; a dispatcher's may name the one
    territory they dispatch."""

    email: Annotated[str, msgspec.Meta(min_length=3, max_length=320)]
    password: Password
    role: Role = Role.TECHNICIAN
    technician_id: UUID | None = None
    territory_id: UUID | None = None


class PasswordReset(msgspec.Struct, frozen=True, kw_only=True, forbid_unknown_fields=True):
    new_password: Password


def user_routes(auth: AuthRoutes) -> list[Any]:
    """The routes share the sign-in's password hashing pool and token-version cache."""

    def provide_gate() -> SignInGate:
        return auth.gate

    def provide_versions() -> TokenVersions:
        return auth.versions

    class UserController(Controller):
        path = "/users"
        tags = ["users"]
        dependencies = {
            "gate": Provide(provide_gate, sync_to_thread=False),
            "versions": Provide(provide_versions, sync_to_thread=False),
        }

        @post(guards=[STAFF], status_code=201, opt={"errors": [400, 401, 403, 409, 422]})
        async def create_login(
            self,
            conn: Db,
            principal: Caller,
            gate: Gate,
            data: JSONBody[UserCreate],
            idempotency_key: IdempotencyKey = None,
        ) -> Response[User]:
            """Create a login. An admin creates any; a dispatcher invites technicians only (403
            for another role), and one bound to a territory only that territory's technicians
            (another's is 422, as if it did not exist). The password must be at least
            TRUCKROLL_PASSWORD_MIN_LENGTH characters and not a common password; the user changes
            it with POST /auth/password."""
            if principal.role is not Role.ADMIN and data.role is not Role.TECHNICIAN:
                raise PermissionDeniedException("role: a dispatcher invites technicians only")
            await scope.require_reference(
                conn, principal, Record.TECHNICIAN, data.technician_id, field="technician_id"
            )
            # The password stays out of the stored fingerprint: a fast hash of it would sit in
            # the database beside the key. A retry sends the same password anyway.
            print_body = msgspec.structs.replace(data, password="")

            async def act() -> User:
                return await accounts.create_user(
                    conn,
                    email=data.email,
                    password=data.password,
                    role=data.role,
                    technician_id=data.technician_id,
                    territory_id=data.territory_id,
                    min_password_length=gate.min_password_length,
                    hash_with=gate.verifier.hash,
                )

            return await idempotent(conn, principal, idempotency_key, "/users", print_body, User, 201, act)

        @get(guards=[ADMIN])
        async def list_logins(
            self,
            conn: Db,
            page: Paging,
            role: FromQuery[Role | None] = None,
            active: FromQuery[bool | None] = None,
        ) -> Page[User]:
            """Every login, by email; never a password or its hash."""
            rows = await accounts.list_users(
                conn, role=role, active=active, limit=page.limit + 1, offset=page.offset
            )
            return page_of(rows, page)

        @post(
            "/{user_id:uuid}/deactivate",
            guards=[ADMIN],
            status_code=200,
            opt={"errors": [401, 403, 404, 409]},
        )
        async def deactivate_login(
            self, conn: Db, principal: Caller, versions: Versions, user_id: FromPath[UUID]
        ) -> User:
            """The login can no longer sign in and every token it holds stops working. Your own
            login is 409: another admin deactivates it."""
            user = await accounts.deactivate_user(conn, user_id, by=principal.user_id)
            versions.forget(user_id)
            return user

        @post(
            "/{user_id:uuid}/password", guards=[ADMIN], status_code=200, opt={"errors": [401, 403, 404, 422]}
        )
        async def reset_login_password(
            self,
            conn: Db,
            gate: Gate,
            versions: Versions,
            user_id: FromPath[UUID],
            data: JSONBody[PasswordReset],
        ) -> User:
            """Set a new password for a user who lost theirs (same policy as any password):
            every session of the old one ends."""
            user = await accounts.reset_password(
                conn,
                user_id,
                data.new_password,
                min_password_length=gate.min_password_length,
                hash_with=gate.verifier.hash,
            )
            versions.forget(user_id)
            return user

    return [UserController]
