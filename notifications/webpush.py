"""Web Push: VAPID keys, checking a browser's subscription, and sending one encrypted message.

Messages are encrypted with aes128gcm (RFC 8291) by pywebpush's WebPusher and signed with VAPID
(RFC 8292) by py_vapid; our own client sends them (Sender.post), because its transport is
hardened in ways pywebpush's is not. A subscription's endpoint comes from the browser, so it must
be a public https host (notifications/endpoints.py): the server would otherwise POST wherever a
client asks.
"""

from __future__ import annotations

import base64
import functools
import time
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from email.utils import parsedate_to_datetime
from typing import TYPE_CHECKING
from urllib.parse import urlsplit

from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric import ec
from py_vapid import Vapid02, b64urlencode
from pyreqwest.client import Client, ClientBuilder
from pyreqwest.exceptions import PyreqwestError
from pyreqwest.response import Response

from infra.errors import InvalidError
from notifications.endpoints import check_endpoint

if TYPE_CHECKING:
    from pywebpush import WebPusher

VAPID_TTL_S = 12 * 3600
# What a failed send raises: no answer in time, or no connection (refused, reset, DNS).
SEND_ERRORS: tuple[type[Exception], ...] = (PyreqwestError, TimeoutError, OSError)


@dataclass(frozen=True)
class VapidKeys:
    private_key: str  # base64url of the raw 32-byte P-256 scalar
    public_key: str  # base64url of the uncompressed point: the browser's applicationServerKey


def generate_vapid_keys() -> VapidKeys:
    vapid = Vapid02()
    vapid.generate_keys()
    raw = vapid.private_key.private_numbers().private_value.to_bytes(32, "big")
    public = vapid.public_key.public_bytes(
        serialization.Encoding.X962, serialization.PublicFormat.UncompressedPoint
    )
    return VapidKeys(private_key=b64urlencode(raw), public_key=b64urlencode(public))


def _b64(value: str) -> bytes:
    return base64.urlsafe_b64decode(value + "=" * (-len(value) % 4))


@dataclass(frozen=True)
class Subscription:
    endpoint: str
    p256dh: str
    auth: str


def check_subscription(endpoint: str, p256dh: str, auth: str, *, allow_insecure: bool) -> Subscription:
    """A PushSubscription as the browser gave it, or a 422 naming what is wrong."""
    check_endpoint(endpoint, allow_insecure=allow_insecure)
    try:
        key, secret = _b64(p256dh), _b64(auth)
    except (ValueError, TypeError):
        raise InvalidError("keys: p256dh and auth are base64url", field="keys") from None
    if len(key) != 65 or key[0] != 4:
        raise InvalidError("keys.p256dh: an uncompressed P-256 point is 65 bytes", field="keys.p256dh")
    if len(secret) != 16:
        raise InvalidError("keys.auth: the auth secret is 16 bytes", field="keys.auth")
    return Subscription(endpoint, p256dh, auth)


# A WebPusher copies and decodes its subscription when it is made, so one is made per browser, not
# per message: a worker sends many messages to the same phones. Keyed by the whole subscription,
# so a browser whose keys changed gets a new one; bounded, least recently used first out.
PUSHERS_CACHED = 4096


@functools.lru_cache(maxsize=PUSHERS_CACHED)
def pusher_for(subscription: Subscription) -> WebPusher:
    # Imported on the first message, not at start-up: pywebpush imports aiohttp and requests,
    # which are not used here, and they cost the API and every worker start 0.2-0.3 s.
    from pywebpush import WebPusher

    keys = {"p256dh": subscription.p256dh, "auth": subscription.auth}
    pusher = WebPusher({"endpoint": subscription.endpoint, "keys": keys})
    # It keeps the browser's key as bytes, which http_ece would parse (and check on the curve)
    # again for every message; the parsed key is what http_ece takes as well.
    point = _b64(subscription.p256dh)
    pusher.receiver_key = ec.EllipticCurvePublicKey.from_encoded_point(ec.SECP256R1(), point)
    return pusher


@dataclass(frozen=True)
class PushResult:
    status: int
    retry_after_s: float | None


class Sender:
    """Sends over one pooled HTTP client, with one VAPID token per push service.

    The client is reqwest (Rust) under pyreqwest: connections, HTTP framing and timeouts run on
    its own thread, outside the interpreter lock, so the worker's event loop is left for the
    database and the encryption. With aiohttp the loop itself did that work, and it was most of
    a push's CPU after the encryption (tests/bench/bench_push.py).
    """

    def __init__(
        self,
        private_key: str,
        subject: str,
        *,
        timeout_s: float = 10.0,
        max_in_flight: int = 100,
        response_max_bytes: int = 4096,
    ) -> None:
        self.vapid = Vapid02.from_raw(private_key.encode())
        self.subject = subject
        self.timeout_s = timeout_s
        self.max_in_flight = max_in_flight
        self.response_max_bytes = response_max_bytes
        self.client: Client | None = None
        # One signed VAPID token per push service, reused until an hour before it expires:
        # signing every message costs more than encrypting it.
        self._tokens: dict[str, tuple[dict[str, str], float]] = {}

    async def __aenter__(self) -> Sender:
        self.client = (
            ClientBuilder()
            .timeout(timedelta(seconds=self.timeout_s))
            .max_connections(self.max_in_flight)
            # Push services set no cookies, and one customer's push must never carry another's.
            .default_cookie_store(False)
            # A push service answers where the browser said; an endpoint that redirects is not
            # followed to wherever it points.
            .follow_redirects(False)
            # Straight to the push service, as before: a proxy set in the environment for other
            # tools does not reroute customers' pushes.
            .no_proxy()
            # Nothing in a push service's answer body is used, and a compressed one could unpack
            # to far more than was read: none is asked for.
            .gzip(False)
            .brotli(False)
            .zstd(False)
            .deflate(False)
            .build()
        )
        await self.client.__aenter__()
        return self

    async def __aexit__(self, *_: object) -> None:
        if self.client is not None:
            await self.client.close()

    def _authorization(self, audience: str) -> dict[str, str]:
        now = time.time()
        cached = self._tokens.get(audience)
        if cached is not None and cached[1] - now > 3600:
            return cached[0]
        # A fresh claims dict each time: py_vapid adds to the one it is given.
        expires = int(now) + VAPID_TTL_S
        signed = dict(self.vapid.sign({"sub": self.subject, "aud": audience, "exp": expires}))
        self._tokens[audience] = (signed, float(expires))
        return signed

    @staticmethod
    def encrypt(subscription: Subscription, payload: bytes) -> bytes:
        """The aes128gcm body for this browser. Pure CPU and thread-safe, so a batch can be
        encrypted off the event loop while it sends the previous one."""
        # WebPusher makes a fresh key per message (RFC 8291) and changes nothing on itself.
        body: bytes = pusher_for(subscription).encode(payload, "aes128gcm")["body"]
        return body

    async def post(
        self, subscription: Subscription, body: bytes, *, ttl_s: int, topic: str | None, urgency: str
    ) -> PushResult:
        """POST an encrypted body to the subscription's push service, signed with VAPID."""
        assert self.client is not None, "use the Sender as an async context manager"
        url = urlsplit(subscription.endpoint)
        headers = dict(self._authorization(f"{url.scheme}://{url.netloc}"))
        headers["Content-Encoding"] = "aes128gcm"
        headers["TTL"] = str(ttl_s)
        headers["Urgency"] = urgency
        if topic:
            headers["Topic"] = topic
        request = (
            self.client.post(subscription.endpoint)
            .headers(headers)
            .body_bytes(body)
            .streamed_read_buffer_limit(self.response_max_bytes)
            .build_streamed()
        )
        # The endpoint is the subscriber's choice, so its answer may be a body without end: a
        # request that is not streamed buffers all of it before returning (3 such answers took a
        # worker from 58 MB to 2.9 GB). The status and headers are all a push needs; a few KB
        # of body are read so that a short one leaves the connection reusable, and the rest is
        # dropped with the connection.
        async with request as response:
            await _drain(response, self.response_max_bytes)
            return PushResult(
                status=response.status, retry_after_s=retry_after_s(response.headers.get("Retry-After"))
            )

    def describe(self, error: Exception) -> str:
        """A failed send in a line for the attempts log: a timeout is named as one, whichever
        phase of the request it hit."""
        if isinstance(error, TimeoutError):
            return f"TimeoutError: no answer within {self.timeout_s:g} s"
        return f"{type(error).__name__}: {error}"

    async def send(
        self, subscription: Subscription, payload: bytes, *, ttl_s: int, topic: str | None, urgency: str
    ) -> PushResult:
        return await self.post(
            subscription, self.encrypt(subscription, payload), ttl_s=ttl_s, topic=topic, urgency=urgency
        )


async def _drain(response: Response, max_bytes: int) -> None:
    left = max_bytes
    while left > 0 and (chunk := await response.body_reader.read(left)) is not None:
        left -= len(chunk)


def retry_after_s(value: str | None, now: datetime | None = None) -> float | None:
    """Retry-After as the push service sent it: whole seconds, or an HTTP date (RFC 9110 10.2.3);
    None for anything else. Unbounded: the worker decides how long it is willing to wait."""
    if value is None:
        return None
    value = value.strip()
    if value.isascii() and value.isdigit():
        # Digits only: float() would take "1e12", "inf" and "nan" too. More than 12 digits (over
        # 30,000 years) only means "very long", and the worker caps the wait anyway.
        return float(int(value)) if len(value) <= 12 else 1e12
    try:
        when = parsedate_to_datetime(value)
    except (TypeError, ValueError):
        return None
    if when.tzinfo is None:
        return None
    return max(0.0, (when - (now or datetime.now(UTC))).total_seconds())
