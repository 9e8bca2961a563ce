"""The dispatcher console's sessions: a browser signs in once and holds an opaque token in an
HttpOnly cookie, which no script on the page can read. Because a browser sends a cookie with
every request to this origin, whoever else makes the browser send one must be told apart: each
session has a CSRF token, derived from the session token with a server key, that the page reads
once (from the sign-in answer or GET /console/session) and sends in a header with every
change."""

from __future__ import annotations

import hashlib
import hmac
import secrets
from datetime import datetime

import msgspec

from dispatch.access import console_session_queries as queries
from dispatch.access.accounts import Principal, Role, User
from infra.db import Connection

# The roles the console serves: the board, assignments and plans are staff's work.
CONSOLE_ROLES = frozenset({Role.ADMIN, Role.DISPATCHER})


class NotConsoleUserError(Exception):
    """A technician (or any other non-staff user) signed in with good credentials."""


class OpenedSession(msgspec.Struct, frozen=True, kw_only=True):
    token: str  # goes into the cookie only; never stored
    expires_at: datetime


class SessionUser(msgspec.Struct, frozen=True, kw_only=True):
    principal: Principal
    email: str
    expires_at: datetime


def token_hash(token: str) -> bytes:
    return hashlib.sha256(token.encode()).digest()


def csrf_token(secret: str, session_token: str) -> str:
    """Bound to one session: a token read from one session is worth nothing in another."""
    return hmac.new(secret.encode(), b"csrf:" + session_token.encode(), hashlib.sha256).hexdigest()


def csrf_matches(secret: str, session_token: str, given: str | None) -> bool:
    return given is not None and hmac.compare_digest(csrf_token(secret, session_token), given)


async def open_session(conn: Connection, user: User, token_version: int, ttl_s: int) -> OpenedSession:
    if user.role not in CONSOLE_ROLES:
        raise NotConsoleUserError(user.role.value)
    await queries.delete_expired_sessions(conn)
    token = secrets.token_urlsafe(32)
    expires_at = await queries.insert_session(conn, token_hash(token), user.id, token_version, ttl_s)
    return OpenedSession(token=token, expires_at=expires_at)


async def session_user(conn: Connection, token: str) -> SessionUser | None:
    """The session's user while the session holds: unexpired, not signed out, and its user still
    active, staff and at the token version it was opened at."""
    holder = await queries.get_session_holder(conn, token_hash(token))
    if holder is None or Role(holder.role) not in CONSOLE_ROLES:
        return None
    principal = Principal(
        user_id=holder.user_id,
        role=Role(holder.role),
        technician_id=holder.technician_id,
        territory_id=holder.territory_id,
    )
    return SessionUser(principal=principal, email=holder.email, expires_at=holder.expires_at)


async def close_session(conn: Connection, token: str) -> None:
    await queries.delete_session(conn, token_hash(token))
