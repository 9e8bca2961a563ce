"""Where a push may be sent: a public https host name on port 443, checked by its text when a
browser subscribes and again, with the addresses it resolves to, when the worker sends."""

from __future__ import annotations

from collections.abc import Sequence

import pytest

from notifications.endpoints import Resolver, endpoint_problem, resolved_problem


@pytest.mark.parametrize(
    "endpoint",
    [
        "https://fcm.googleapis.com/fcm/send/dGVzdA",
        "https://updates.push.services.mozilla.com/wpush/v2/gAAAA",
        "https://web.push.apple.com/QGx1",
        "https://push.example.com:443/x",
        "https://push.example.com./x",
    ],
)
def test_a_browsers_push_service_is_accepted(endpoint: str) -> None:
    assert endpoint_problem(endpoint, allow_insecure=False) is None


@pytest.mark.parametrize(
    ("endpoint", "why"),
    [
        ("https://10.0.0.1/", "not an IP address"),
        ("https://169.254.169.254/latest/meta-data", "not an IP address"),
        ("https://127.0.0.1:5432/", "not an IP address"),
        ("https://[::1]:22/", "not an IP address"),
        ("https://[::ffff:10.0.0.1]/", "not an IP address"),
        # What a WHATWG parser (reqwest's) reads as 127.0.0.1 and 10.0.0.1.
        ("https://2130706433/", "not an IP address"),
        ("https://0x7f.1/", "not an IP address"),
        ("https://%31%30.0.0.1/", "not an IP address"),
        ("https://user:pw@push.example.com/", "no user name or password"),
        ("https://push.example.com@10.0.0.1/", "no user name or password"),
        # Python reads the host after the @, a WHATWG parser the one before the backslash.
        ("https://10.0.0.1\\@push.example.com/", "backslashes"),
        ("https://push.example.com:8443/", "port 443"),
        ("http://push.example.com/", "https"),
        ("https://localhost/", "not on this machine"),
        ("https://metadata.localhost/", "not on this machine"),
        ("https://db/", "public host name"),
        ("https://push.example.com:99999/", "valid host and port"),
        ("https://push\texample.com/", "control characters"),
    ],
)
def test_an_endpoint_into_our_own_network_is_refused(endpoint: str, why: str) -> None:
    problem = endpoint_problem(endpoint, allow_insecure=False)
    assert problem is not None
    assert why in problem


def test_the_development_setting_lets_this_machine_through_and_nothing_else() -> None:
    assert endpoint_problem("http://127.0.0.1:8080/push/1", allow_insecure=True) is None
    assert endpoint_problem("http://localhost:8080/push/1", allow_insecure=True) is None
    assert endpoint_problem("http://[::1]:8080/push/1", allow_insecure=True) is None
    assert endpoint_problem("http://10.0.0.1/", allow_insecure=True) is not None
    assert endpoint_problem("http://169.254.169.254/", allow_insecure=True) is not None
    assert endpoint_problem("http://u:p@127.0.0.1:8080/", allow_insecure=True) is not None


def resolver(*addresses: str) -> Resolver:
    async def resolve(host: str, port: int) -> Sequence[str]:
        assert port == 443
        return addresses

    return resolve


async def test_a_public_name_that_resolves_into_our_network_is_refused_at_send_time() -> None:
    endpoint = "https://push.example.com/x"
    assert await resolved_problem(endpoint, allow_insecure=False, resolve=resolver("93.184.216.34")) is None
    for private in ("10.1.2.3", "169.254.169.254", "127.0.0.1", "::1", "fe80::1%eth0", "100.64.0.1"):
        problem = await resolved_problem(
            endpoint, allow_insecure=False, resolve=resolver("93.184.216.34", private)
        )
        assert problem is not None, private
        assert "not a public address" in problem
    # A row written before the rules is refused by its text alone, without a lookup.
    assert await resolved_problem("https://10.0.0.1/", allow_insecure=False, resolve=resolver()) is not None
