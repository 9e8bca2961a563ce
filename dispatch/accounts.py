"""Users who sign in (admins, dispatchers, technicians) and their passwords."""

from __future__ import annotations

import enum
from uuid import UUID

import msgspec
from argon2 import PasswordHasher
from argon2.exceptions import InvalidHashError, VerificationError
from asyncpg import Record

from infra.db import Connection
from infra.errors import ConflictError, InvalidError

_hasher = PasswordHasher()  # argon2id with the library's current recommended cost
# Verifying against this keeps a login for an unknown email as slow as one for a known email.
_DUMMY_HASH = _hasher.hash("not-a-real-password")

MIN_PASSWORD_LENGTH = 10


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
    if len(password) < MIN_PASSWORD_LENGTH:
        raise InvalidError(
            f"the password must be at least {MIN_PASSWORD_LENGTH} characters", field="password"
        )
    return _hasher.hash(password)


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
) -> User:
    email = email.strip()
    if "@" not in email:
        raise InvalidError("email must be an email address", field="email")
    if (role is Role.TECHNICIAN) != (technician_id is not None):
        raise InvalidError(
            "a technician user must be linked to a technician record, and only they", field="technician_id"
        )
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


async def authenticate(conn: Connection, email: str, password: str) -> User | None:
    row = await conn.fetchrow(
        """
        SELECT id, email, role, technician_id, territory_id, active, password_hash
        FROM users WHERE lower(email) = lower($1)
        """,
        email.strip(),
    )
    stored = row["password_hash"] if row is not None else _DUMMY_HASH
    try:
        _hasher.verify(stored, password)
    except (VerificationError, InvalidHashError):
        return None
    if row is None or not row["active"]:
        return None
    if _hasher.check_needs_rehash(stored):
        await conn.execute(
            "UPDATE users SET password_hash = $2 WHERE id = $1", row["id"], _hasher.hash(password)
        )
    return _user_from_row(row)
