"""How long a failed sign-in makes the next one wait, per account and per client address.

A few failures are free (typos); after that each failure doubles the wait, up to a cap, so an
online guesser gets about one try per cap per account while the real user is never locked out
for longer than the cap: once the wait is over, the right password works.
"""

from __future__ import annotations

import ipaddress
import math
from datetime import datetime, timedelta

import msgspec


class ThrottlePolicy(msgspec.Struct, frozen=True, kw_only=True):
    free_failures_account: int = 5
    free_failures_address: int = 20
    backoff_max_s: int = 300
    forget_after_s: int = 3600  # failures are forgotten after this long without an attempt


class Counter(msgspec.Struct, frozen=True, kw_only=True):
    key: str
    failures: int
    last_attempt_at: datetime
    blocked_until: datetime


def account_key(email: str) -> str:
    # The same key for an email that has no account, so the answers cannot tell them apart.
    return "account:" + email.strip().lower()


def address_key(address: str) -> str:
    """IPv6 by its /64: one subscriber gets a whole /64 and could take a new address per guess."""
    try:
        ip = ipaddress.ip_address(address)
    except ValueError:
        return "address:" + address
    if isinstance(ip, ipaddress.IPv6Address):
        if ip.ipv4_mapped is not None:
            return "address:" + str(ip.ipv4_mapped)
        return "address:" + str(ipaddress.ip_network(f"{ip}/64", strict=False))
    return "address:" + str(ip)


def wait_after(failures: int, free: int, cap_s: int) -> timedelta:
    """The wait before the next attempt once `failures` are counted: none while at most `free - 1`;
    1 s at `free`, doubling with each failure after, never more than `cap_s`."""
    if failures < free:
        return timedelta(0)
    doublings = failures - free
    # 2**doublings overflows nothing in Python, but past the cap there is no need to compute it.
    seconds = cap_s if doublings >= cap_s.bit_length() else min(2**doublings, cap_s)
    return timedelta(seconds=seconds)


def fresh(counter: Counter, now: datetime, policy: ThrottlePolicy) -> Counter:
    """The counter as it stands now: failures older than the forget period no longer count."""
    if now - counter.last_attempt_at > timedelta(seconds=policy.forget_after_s):
        return Counter(
            key=counter.key, failures=0, last_attempt_at=counter.last_attempt_at, blocked_until=now
        )
    return counter


def free_of(key: str, policy: ThrottlePolicy) -> int:
    return policy.free_failures_account if key.startswith("account:") else policy.free_failures_address


def retry_after_s(counters: list[Counter], now: datetime) -> int | None:
    """Whole seconds until every counter lets an attempt through; None if they all do now."""
    waits = [(c.blocked_until - now).total_seconds() for c in counters if c.blocked_until > now]
    return max(1, math.ceil(max(waits))) if waits else None


def counted(counter: Counter, now: datetime, policy: ThrottlePolicy) -> Counter:
    """The counter with this attempt counted as a failure (a success gives it back)."""
    failures = counter.failures + 1
    wait = wait_after(failures, free_of(counter.key, policy), policy.backoff_max_s)
    return Counter(key=counter.key, failures=failures, last_attempt_at=now, blocked_until=now + wait)


def given_back(counter: Counter, now: datetime, policy: ThrottlePolicy) -> Counter:
    """The counter after an attempt it counted turned out to be a success."""
    failures = max(counter.failures - 1, 0)
    wait = wait_after(failures, free_of(counter.key, policy), policy.backoff_max_s)
    return Counter(
        key=counter.key,
        failures=failures,
        last_attempt_at=counter.last_attempt_at,
        blocked_until=min(counter.blocked_until, counter.last_attempt_at + wait),
    )
