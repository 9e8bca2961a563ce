"""One pywebpush WebPusher per subscription: made once, reused for every message to that browser,
and never reused for a browser whose keys are not the ones it was made with."""

from __future__ import annotations

import base64
import os

import http_ece
import pytest
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric import ec

from notifications.webpush import PUSHERS_CACHED, Sender, Subscription, pusher_for

ENDPOINT = "https://push.example.com/send/abc"


class Browser:
    """What a browser holds for its subscription: the private key and the auth secret."""

    def __init__(self) -> None:
        self.key = ec.generate_private_key(ec.SECP256R1())
        self.auth = os.urandom(16)

    def subscription(self, endpoint: str = ENDPOINT) -> Subscription:
        point = self.key.public_key().public_bytes(
            serialization.Encoding.X962, serialization.PublicFormat.UncompressedPoint
        )
        return Subscription(endpoint, _b64(point), _b64(self.auth))

    def decrypt(self, body: bytes) -> bytes:
        plain: bytes = http_ece.decrypt(
            body, private_key=self.key, auth_secret=self.auth, version="aes128gcm"
        )
        return plain


def _b64(data: bytes) -> str:
    return base64.urlsafe_b64encode(data).rstrip(b"=").decode()


@pytest.fixture(autouse=True)
def _fresh_cache() -> None:
    pusher_for.cache_clear()


def test_messages_to_one_subscription_share_one_webpusher() -> None:
    browser = Browser()
    first = Sender.encrypt(browser.subscription(), b'{"n":1}')
    second = Sender.encrypt(browser.subscription(), b'{"n":2}')
    assert pusher_for(browser.subscription()) is pusher_for(browser.subscription())
    assert pusher_for.cache_info().currsize == 1
    # Each message still has its own ephemeral key and salt, and the browser reads both.
    assert first[:16] != second[:16]
    assert [browser.decrypt(first), browser.decrypt(second)] == [b'{"n":1}', b'{"n":2}']


def test_a_subscription_whose_key_changed_gets_a_new_webpusher() -> None:
    old, new = Browser(), Browser()
    old_pusher = pusher_for(old.subscription())
    # The same endpoint, re-subscribed with new keys: the old WebPusher would encrypt for the old key.
    body = Sender.encrypt(new.subscription(), b"hello")
    assert pusher_for(new.subscription()) is not old_pusher
    assert new.decrypt(body) == b"hello"
    with pytest.raises(http_ece.ECEException, match="Decryption error"):
        old.decrypt(body)


def test_the_cache_forgets_the_least_recently_used_subscription_past_its_bound() -> None:
    browser = Browser()
    first = pusher_for(browser.subscription(f"{ENDPOINT}/0"))
    for n in range(1, PUSHERS_CACHED + 1):
        pusher_for(browser.subscription(f"{ENDPOINT}/{n}"))
    assert pusher_for.cache_info().currsize == PUSHERS_CACHED
    assert pusher_for(browser.subscription(f"{ENDPOINT}/0")) is not first
