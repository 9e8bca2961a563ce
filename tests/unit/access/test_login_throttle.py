from __future__ import annotations

from datetime import UTC, datetime, timedelta

from dispatch.access.login_throttle import (
    Counter,
    ThrottlePolicy,
    address_key,
    counted,
    fresh,
    given_back,
    retry_after_s,
    wait_after,
)

NOW = datetime(2026, 3, 2, 9, 0, tzinfo=UTC)
POLICY = ThrottlePolicy(
    free_failures_account=5, free_failures_address=20, backoff_max_s=300, forget_after_s=3600
)


def counter(key: str = "account:dee@example.com", failures: int = 0, blocked_s: float = 0) -> Counter:
    return Counter(
        key=key, failures=failures, last_attempt_at=NOW, blocked_until=NOW + timedelta(seconds=blocked_s)
    )


def test_the_first_failures_are_free_then_the_wait_doubles() -> None:
    # Five free: after the 5th failure 1 s, after the 6th 2 s, the 7th 4 s.
    assert [wait_after(n, 5, 300).total_seconds() for n in range(1, 9)] == [0, 0, 0, 0, 1, 2, 4, 8]


def test_the_wait_never_passes_the_cap_however_many_failures() -> None:
    # 2**8 = 256 s is under the cap, 2**9 = 512 s is not.
    assert wait_after(5 + 8, 5, 300).total_seconds() == 256
    assert wait_after(5 + 9, 5, 300).total_seconds() == 300
    assert wait_after(10**9, 5, 300).total_seconds() == 300


def test_an_address_gets_more_free_failures_than_an_account() -> None:
    assert counted(counter("address:10.0.0.1", failures=18), NOW, POLICY).blocked_until == NOW
    assert counted(counter("address:10.0.0.1", failures=19), NOW, POLICY).blocked_until == NOW + timedelta(
        seconds=1
    )


def test_the_answer_waits_for_the_longest_of_the_keys_rounded_up() -> None:
    assert retry_after_s([counter(blocked_s=0.2), counter(blocked_s=2.5)], NOW) == 3
    assert retry_after_s([counter(blocked_s=0), counter(blocked_s=-5)], NOW) is None


def test_failures_are_forgotten_after_a_quiet_hour() -> None:
    old = Counter(
        key="account:a@b.c", failures=40, last_attempt_at=NOW - timedelta(hours=2), blocked_until=NOW
    )
    assert fresh(old, NOW, POLICY).failures == 0
    assert fresh(counter(failures=40), NOW + timedelta(minutes=59), POLICY).failures == 40


def test_a_success_gives_its_counted_attempt_back() -> None:
    # 20 failures from an office's address, the 21st attempt counted (waiting 2 s), then it succeeds.
    after = counted(counter("address:10.0.0.1", failures=20), NOW, POLICY)
    assert after.blocked_until == NOW + timedelta(seconds=2)
    back = given_back(after, NOW, POLICY)
    assert back.failures == 20
    assert back.blocked_until == NOW + timedelta(seconds=1)


def test_an_ipv6_client_is_one_address_for_its_whole_slash_64() -> None:
    assert (
        address_key("2001:db8:1:2::1") == address_key("2001:db8:1:2:ffff::9") == "address:2001:db8:1:2::/64"
    )
    assert address_key("2001:db8:1:3::1") != address_key("2001:db8:1:2::1")
    assert address_key("::ffff:192.0.2.7") == address_key("192.0.2.7") == "address:192.0.2.7"
    assert address_key("testclient") == "address:testclient"
