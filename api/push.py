"""Web Push subscriptions: a customer's browser through the tracking link, staff and technicians
for their own messages; and the public key browsers need to subscribe."""

from __future__ import annotations

from typing import Annotated
from uuid import UUID

import msgspec
from litestar import Controller, delete, get, post
from litestar.datastructures import State
from litestar.params import FromPath, JSONBody

from api.auth import ANY_USER
from api.deps import Caller, Db
from dispatch.tracking.links import resolve_tracking_token
from infra.errors import NotFoundError
from infra.settings import Settings
from notifications import subscriptions


class Keys(msgspec.Struct, frozen=True, kw_only=True):
    p256dh: Annotated[str, msgspec.Meta(min_length=1, max_length=200)]
    auth: Annotated[str, msgspec.Meta(min_length=1, max_length=100)]


class PushSubscriptionIn(msgspec.Struct, frozen=True, kw_only=True):
    """A browser's PushSubscription.toJSON(); expirationTime is accepted and ignored."""

    endpoint: Annotated[str, msgspec.Meta(min_length=10, max_length=2000)]
    keys: Keys
    expirationTime: int | float | None = None  # noqa: N815 - the browser's own field name


class Subscribed(msgspec.Struct, frozen=True, kw_only=True):
    id: UUID


class PublicKey(msgspec.Struct, frozen=True, kw_only=True):
    public_key: str


class PushController(Controller):
    path = "/push"
    tags = ["push"]

    @get("/public-key", opt={"public": True, "errors": [404]})
    async def public_key(self, state: State) -> PublicKey:
        """The VAPID public key a browser subscribes with (its applicationServerKey)."""
        settings: Settings = state.settings
        if not settings.vapid_public_key:
            raise NotFoundError("Web Push is not configured on this server")
        return PublicKey(public_key=settings.vapid_public_key)

    @post("/subscriptions", guards=[ANY_USER], status_code=201)
    async def subscribe(
        self, conn: Db, principal: Caller, state: State, data: JSONBody[PushSubscriptionIn]
    ) -> Subscribed:
        """This browser gets the signed-in user's messages (new jobs, changed routes, risks). A user
        keeps TRUCKROLL_PUSH_SUBSCRIPTIONS_PER_USER browsers; a new one past that replaces the oldest."""
        subscription_id = await subscriptions.subscribe(
            conn,
            user_id=principal.user_id,
            endpoint=data.endpoint,
            p256dh=data.keys.p256dh,
            auth=data.keys.auth,
            allow_insecure=state.settings.push_allow_insecure,
            keep=state.settings.push_subscriptions_per_user,
        )
        return Subscribed(id=subscription_id)

    @delete("/subscriptions/{subscription_id:uuid}", guards=[ANY_USER], status_code=204)
    async def unsubscribe(self, conn: Db, principal: Caller, subscription_id: FromPath[UUID]) -> None:
        if not await subscriptions.unsubscribe_user(conn, subscription_id, principal.user_id):
            raise NotFoundError("no subscription of yours with this id")


class TrackSubscriptionController(Controller):
    path = "/track/{token:str}/subscriptions"
    tags = ["tracking"]

    @post(opt={"public": True}, status_code=201)
    async def subscribe(
        self, conn: Db, state: State, token: FromPath[str], data: JSONBody[PushSubscriptionIn]
    ) -> Subscribed:
        """The customer's browser subscribes to news of their job, with the tracking link's token.
        A job keeps TRUCKROLL_PUSH_SUBSCRIPTIONS_PER_JOB browsers; a new one past that replaces the
        oldest (a customer with a new phone is never turned away, and one link never reaches more)."""
        job_id = await resolve_tracking_token(conn, token)
        if job_id is None:
            raise NotFoundError("this tracking link is unknown or has expired")
        subscription_id = await subscriptions.subscribe(
            conn,
            job_id=job_id,
            endpoint=data.endpoint,
            p256dh=data.keys.p256dh,
            auth=data.keys.auth,
            allow_insecure=state.settings.push_allow_insecure,
            keep=state.settings.push_subscriptions_per_job,
        )
        return Subscribed(id=subscription_id)


ROUTES = [PushController, TrackSubscriptionController]
