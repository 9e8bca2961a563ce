"""Signing in, changing a password and signing out, safe against a flood of guesses.

argon2 costs ~90 ms of CPU per check by design. On the event loop, eight concurrent wrong
sign-ins held every other request of the process for half a second, so checks run on a small
thread pool with a bounded queue, and only after the throttle (login_throttle.py), whose counters
live in PostgreSQL so every API process enforces the same backoff. A pooled connection is never
held while a password is checked.
"""

from __future__ import annotations

import asyncio
import functools
import threading
from concurrent.futures import Future, ThreadPoolExecutor
from datetime import timedelta
from uuid import UUID

import msgspec
from argon2 import PasswordHasher
from argon2.exceptions import InvalidHashError, VerificationError

from dispatch.access import account_queries
from dispatch.access.accounts import PASSWORD_HASHER, Role, User, check_password_policy
from dispatch.access.login_throttle import (
    ThrottlePolicy,
    account_key,
    address_key,
    counted,
    fresh,
    given_back,
    retry_after_s,
)
from infra.db import Connection, Pool, acquire
from infra.errors import InvalidError


class TooManyAttemptsError(Exception):
    """Too many failed sign-ins for this account or from this address: wait, then try again."""

    def __init__(self, retry_after_s: int) -> None:
        super().__init__(f"too many failed sign-ins; try again in {retry_after_s} s")
        self.retry_after_s = retry_after_s


class VerifierBusyError(Exception):
    """Every password-checking slot of this process is taken: try again in a moment."""


class PasswordVerifier:
    """argon2 off the event loop: `threads` checks at once, at most `queue` more waiting. A
    slot is given back when its check finishes, not when its caller stops waiting, so clients
    that hang up cannot pile up work behind the limit."""

    def __init__(self, *, threads: int, queue: int, hasher: PasswordHasher = PASSWORD_HASHER) -> None:
        self._executor = ThreadPoolExecutor(max_workers=threads, thread_name_prefix="argon2")
        self._hasher = hasher
        self._capacity = threads + queue
        self._taken = 0
        self._lock = threading.Lock()

    def claim(self) -> bool:
        with self._lock:
            if self._taken >= self._capacity:
                return False
            self._taken += 1
            return True

    def release(self, _: object = None) -> None:
        with self._lock:
            self._taken -= 1

    async def verify_claimed(self, stored_hash: str | None, password: str) -> bool:
        """Checks a password (against the dummy hash when there is no user) in a slot already
        claimed; gives the slot back when done."""
        future: Future[bool] = self._executor.submit(self._check, stored_hash, password)
        future.add_done_callback(self.release)
        return await asyncio.wrap_future(future)

    async def hash(self, password: str) -> str:
        return await asyncio.get_running_loop().run_in_executor(self._executor, self._hasher.hash, password)

    def _check(self, stored_hash: str | None, password: str) -> bool:
        # Made on first use for every check, so the first sign-in of a process costs the same
        # for a known and an unknown email.
        dummy = _dummy_hash(self._hasher)
        try:
            return self._hasher.verify(stored_hash or dummy, password)
        except (VerificationError, InvalidHashError):
            return False

    def needs_rehash(self, stored_hash: str) -> bool:
        return self._hasher.check_needs_rehash(stored_hash)

    def close(self) -> None:
        self._executor.shutdown(wait=False, cancel_futures=True)


@functools.cache
def _dummy_hash(hasher: PasswordHasher) -> str:
    """Checking an unknown email against this costs what checking a real one does. Made on a
    verifier thread, so neither import nor the event loop pays for it."""
    return hasher.hash("not-a-real-password")


class SignedIn(msgspec.Struct, frozen=True, kw_only=True):
    user: User
    token_version: int  # goes into the token; a later version revokes it


class SignInGate(msgspec.Struct, frozen=True, kw_only=True):
    verifier: PasswordVerifier
    policy: ThrottlePolicy
    min_password_length: int = 12


async def sign_in(pool: Pool, gate: SignInGate, email: str, password: str, address: str) -> SignedIn | None:
    """The user, or None for a wrong password, an unknown email or a deactivated user (the same
    answer after the same work for all three). Raises TooManyAttemptsError while backing off and
    VerifierBusyError when this process checks as many passwords as it may."""
    keys = [account_key(email), address_key(address)]
    found, correct = await _check_counted(pool, gate, keys, email, password)
    if not correct or found is None or not found.active:
        return None
    async with acquire(pool) as conn, conn.transaction():
        await _give_back(conn, gate, keys)
        if gate.verifier.needs_rehash(found.password_hash):
            await account_queries.rehash_password(conn, found.id, await gate.verifier.hash(password))
    return SignedIn(user=_user_of(found), token_version=found.token_version)


async def change_password(
    pool: Pool, gate: SignInGate, user_id: UUID, current_password: str, new_password: str, address: str
) -> None:
    """Needs the current password (a stolen token alone cannot take the account over), throttled
    like a sign-in. The new password moves the token version: every session, this one
    included, must sign in again."""
    async with acquire(pool) as conn:
        user = await account_queries.get_credentials(conn, user_id)
    if user is None:
        raise InvalidError("no such user", field="current_password")
    check_password_policy(
        new_password, min_length=gate.min_password_length, email=user.email, field="new_password"
    )
    keys = [account_key(user.email), address_key(address)]
    found, correct = await _check_counted(pool, gate, keys, user.email, current_password)
    if not correct or found is None or found.id != user_id:
        raise InvalidError("the current password is wrong", field="current_password")
    new_hash = await gate.verifier.hash(new_password)
    async with acquire(pool) as conn, conn.transaction():
        await _give_back(conn, gate, keys)
        await account_queries.update_password_hash(conn, user_id, new_hash)


async def sign_out_everywhere(conn: Connection, user_id: UUID) -> None:
    """Every token of the user stops working: a token says only which user and which version it
    is, so one session cannot be told from another."""
    await account_queries.bump_token_version(conn, user_id)


async def _check_counted(
    pool: Pool, gate: SignInGate, keys: list[str], email: str, password: str
) -> tuple[account_queries.Credentials | None, bool]:
    claimed = submitted = False
    try:
        async with acquire(pool) as conn, conn.transaction():
            locked = await account_queries.lock_counters(conn, keys)
            now = await account_queries.database_now(conn)
            counters = [fresh(c, now, gate.policy) for c in locked]
            wait = retry_after_s(counters, now)
            if wait is not None:
                raise TooManyAttemptsError(wait)
            # After the backoff (a throttled guesser hears 429 and how long to wait, whatever the
            # load) and before counting (a busy process does not spend the user's attempt).
            claimed = gate.verifier.claim()
            if not claimed:
                raise VerifierBusyError("too many sign-ins in progress")
            attempt = [counted(c, now, gate.policy) for c in counters]
            await account_queries.save_counters(conn, attempt)
            await account_queries.delete_idle_counters(
                conn, now - timedelta(seconds=gate.policy.forget_after_s)
            )
            found = await account_queries.get_credentials_by_email(conn, email)
        submitted = True
        correct = await gate.verifier.verify_claimed(found.password_hash if found else None, password)
    finally:
        if claimed and not submitted:
            gate.verifier.release()
    waits = {c.key: (c.blocked_until - c.last_attempt_at).total_seconds() for c in attempt}
    if not correct and any(waits.values()):
        async with acquire(pool) as conn:
            await account_queries.restart_waits(conn, {k: w for k, w in waits.items() if w})
    return found, correct


async def _give_back(conn: Connection, gate: SignInGate, keys: list[str]) -> None:
    """A success: the account starts afresh; the address gets back the attempt it counted, so an
    office of people signing in from one address is not throttled by its own successes."""
    account, address = keys
    await account_queries.delete_counter(conn, account)
    counters = await account_queries.lock_counters(conn, [address])
    now = await account_queries.database_now(conn)
    await account_queries.save_counters(conn, [given_back(c, now, gate.policy) for c in counters])


def _user_of(found: account_queries.Credentials) -> User:
    return User(
        id=found.id,
        email=found.email,
        role=Role(found.role),
        technician_id=found.technician_id,
        territory_id=found.territory_id,
        active=found.active,
    )
