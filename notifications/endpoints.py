"""Where a push may be sent. A subscription's endpoint comes from a browser, or from anyone who
holds a tracking link, and the worker POSTs to it: left open, it makes our server call into our
own network (blind SSRF). A push service is a public HTTPS host on port 443, named by a DNS name
(fcm.googleapis.com, updates.push.services.mozilla.com, web.push.apple.com, *.notify.windows.com),
so that is all an endpoint may be.

The API checks the text of the endpoint when a browser subscribes (`check_endpoint`); the worker
checks it again when it sends, rows written before these rules included, together with the
addresses its host resolves to (`resolved_problem`), since a public name can point at a private
address. With the insecure development setting (TRUCKROLL_PUSH_ALLOW_INSECURE, for the tests'
local stand-in push service), plain http, any port and this machine's loopback addresses are let
through; a private or link-local address, and credentials in the URL, never are.
"""

from __future__ import annotations

import asyncio
import ipaddress
import re
import socket
from collections.abc import Awaitable, Callable, Sequence
from urllib.parse import urlsplit

from infra.errors import InvalidError

IpAddress = ipaddress.IPv4Address | ipaddress.IPv6Address
# What a DNS name may hold. A browser's push services use plain ASCII names; anything else (a
# percent sign, a backslash, a zone id) is a way to make two URL parsers disagree on the host.
_LABEL = r"[a-z0-9]([a-z0-9-]{0,61}[a-z0-9])?"
_HOST_NAME = re.compile(rf"^(?=.{{1,253}}$){_LABEL}(\.{_LABEL})*$")
# An HTTP client that follows the WHATWG URL standard (reqwest does) reads a host whose last
# label is a number (decimal, octal or 0x-hex: "2130706433", "0177.1", "0x7f.1") as an IPv4
# address; it is refused as the address it is.
_NUMERIC_LABEL = re.compile(r"^(0x[0-9a-f]*|[0-9]+)$")
_LOOPBACK_NAMES = ("localhost",)


def endpoint_problem(endpoint: str, *, allow_insecure: bool) -> str | None:
    """Why the endpoint is no place to send a push to, or None when it may be one."""
    if any(ord(c) <= 0x20 or ord(c) >= 0x7F or c == "\\" for c in endpoint):
        return "a push service endpoint holds no spaces, control characters or backslashes"
    try:
        url = urlsplit(endpoint)
        port = url.port
    except ValueError:
        return "not a URL with a valid host and port"
    if url.scheme != "https" and not (allow_insecure and url.scheme == "http"):
        return "a push service endpoint is an https URL"
    if "@" in url.netloc:
        return "a push service endpoint carries no user name or password"
    host = (url.hostname or "").rstrip(".")
    if not host:
        return "no host in this URL"
    address = _ip_literal(host)
    if address is not None or _NUMERIC_LABEL.match(host.rsplit(".", 1)[-1]):
        if allow_insecure and address is not None and _is_loopback(address):
            return None
        return "a push service is named by its host name, not an IP address"
    if not _HOST_NAME.match(host):
        return "the host is not a valid DNS name"
    if allow_insecure:
        return None
    if host in _LOOPBACK_NAMES or host.endswith(".localhost"):
        return "a push service is not on this machine"
    if "." not in host:
        # A one-label name is looked up in the local search domains: an internal host.
        return "a push service is a public host name (with a domain)"
    if port not in (None, 443):
        return "a push service listens on port 443"
    return None


def check_endpoint(endpoint: str, *, allow_insecure: bool, field: str = "endpoint") -> None:
    """422 naming the field when the endpoint is no place to send a push to."""
    problem = endpoint_problem(endpoint, allow_insecure=allow_insecure)
    if problem is not None:
        raise InvalidError(f"{field}: {problem}", field=field)


def address_problem(address: IpAddress, *, allow_insecure: bool) -> str | None:
    """Why a resolved address is no place to send a push to: anything not on the public internet
    (private, loopback, link-local, carrier-grade NAT, reserved, multicast, unspecified)."""
    if isinstance(address, ipaddress.IPv6Address) and address.ipv4_mapped is not None:
        address = address.ipv4_mapped
    if allow_insecure and _is_loopback(address):
        return None
    if not address.is_global or address.is_multicast:
        return f"the push service's host resolves to {address}, which is not a public address"
    return None


Resolver = Callable[[str, int], Awaitable[Sequence[str]]]


async def resolve_host(host: str, port: int) -> Sequence[str]:
    """The addresses the system resolver gives for the host (what an HTTP client connects to)."""
    infos = await asyncio.get_running_loop().getaddrinfo(host, port, type=socket.SOCK_STREAM)
    return [str(info[4][0]) for info in infos]


async def resolved_problem(
    endpoint: str, *, allow_insecure: bool, resolve: Resolver = resolve_host
) -> str | None:
    """`endpoint_problem`, then every address its host resolves to must be public: for the
    worker, just before it sends. A name that does not resolve is a problem too (the send
    would fail anyway)."""
    problem = endpoint_problem(endpoint, allow_insecure=allow_insecure)
    if problem is not None:
        return problem
    url = urlsplit(endpoint)
    host = (url.hostname or "").rstrip(".")
    if _ip_literal(host) is not None:
        return None  # a loopback literal, let through by the development setting
    try:
        addresses = await resolve(host, url.port or (443 if url.scheme == "https" else 80))
    except OSError as error:
        return f"the push service's host does not resolve ({error})"
    if not addresses:
        return "the push service's host does not resolve"
    for text in addresses:
        found = address_problem(ipaddress.ip_address(text.split("%", 1)[0]), allow_insecure=allow_insecure)
        if found is not None:
            return found
    return None


def _ip_literal(host: str) -> IpAddress | None:
    try:
        return ipaddress.ip_address(host)
    except ValueError:
        return None


def _is_loopback(address: IpAddress) -> bool:
    if isinstance(address, ipaddress.IPv6Address) and address.ipv4_mapped is not None:
        address = address.ipv4_mapped
    return address.is_loopback


class EndpointGuard:
    """`resolved_problem` for the worker, with each host's verdict kept for `ttl_s`: a batch of
    200 pushes to one push service resolves its name once, not 200 times."""

    def __init__(
        self, *, allow_insecure: bool, ttl_s: float = 60.0, resolve: Resolver = resolve_host
    ) -> None:
        self.allow_insecure = allow_insecure
        self.ttl_s = ttl_s
        self._resolve = resolve
        self._verdicts: dict[tuple[str, int | None], tuple[asyncio.Task[str | None], float]] = {}

    async def problem(self, endpoint: str) -> str | None:
        """Why a push may not be sent to this endpoint now, or None."""
        problem = endpoint_problem(endpoint, allow_insecure=self.allow_insecure)
        if problem is not None:
            return problem
        url = urlsplit(endpoint)
        key = (url.hostname or "", url.port)
        now = asyncio.get_running_loop().time()
        cached = self._verdicts.get(key)
        if cached is None or cached[1] <= now:
            if len(self._verdicts) > 10_000:  # endpoints are anyone's choice: bounded
                self._verdicts.clear()
            task = asyncio.ensure_future(
                resolved_problem(endpoint, allow_insecure=self.allow_insecure, resolve=self._resolve)
            )
            cached = (task, now + self.ttl_s)
            self._verdicts[key] = cached
        return await asyncio.shield(cached[0])
