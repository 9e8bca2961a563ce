"""Web Push: VAPID keys, checking a browser's subscription, and sending one encrypted message.

Messages are encrypted with aes128gcm (RFC 8291) by http_ece and signed with VAPID (RFC 8292) by
py_vapid, the libraries pywebpush is built on. A subscription's endpoint comes from the browser,
so it must be a public https host (notifications/endpoints.py): the server would otherwise POST
wherever a client asks.
"""

from __future__ import annotations

import base64
import functools
import time
from dataclasses import dataclass
from datetime import timedelta
from urllib.parse import urlsplit

import http_ece
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric import ec
from py_vapid import Vapid02, b64urlencode
from pyreqwest.client import Client, ClientBuilder
from pyreqwest.exceptions import PyreqwestError

from infra.errors import InvalidError
from notifications.endpoints import check_endpoint

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


# Parsed once per browser, not once per message: a worker sends many messages to the same phones.
@functools.lru_cache(maxsize=4096)
def _receiver_key(p256dh: str) -> ec.EllipticCurvePublicKey:
    return ec.EllipticCurvePublicKey.from_encoded_point(ec.SECP256R1(), _b64(p256dh))


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
        self, private_key: str, subject: str, *, timeout_s: float = 10.0, max_in_flight: int = 100
    ) -> None:
        self.vapid = Vapid02.from_raw(private_key.encode())
        self.subject = subject
        self.timeout_s = timeout_s
        self.max_in_flight = max_in_flight
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
        body: bytes = http_ece.encrypt(
            payload,
            private_key=ec.generate_private_key(ec.SECP256R1()),  # a fresh key per message (RFC 8291)
            dh=_receiver_key(subscription.p256dh),
            auth_secret=_b64(subscription.auth),
            version="aes128gcm",
        )
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
        request = self.client.post(subscription.endpoint).headers(headers).body_bytes(body).build()
        response = await request.send()
        await response.bytes()
        return PushResult(status=response.status, retry_after_s=_seconds(response.headers.get("Retry-After")))

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


def _seconds(value: str | None) -> float | None:
    if value is None:
        return None
    try:
        return max(0.0, float(value))
    except ValueError:
        return None  # an HTTP date: fall back to our own backoff
