"""Configuration, read once from the environment (``TRUCKROLL_*`` and the standard ``DATABASE_URL``)."""

from __future__ import annotations

import logging
import math
import os
import secrets
from collections.abc import Mapping
from pathlib import Path
from urllib.parse import urlsplit

import msgspec
import platformdirs


class SettingsError(ValueError):
    """A configuration variable has a value we cannot use; the message names the variable."""


OSM_TILES = "https://tile.openstreetmap.org/{z}/{x}/{y}.png"
OSM_ATTRIBUTION = '&copy; <a href="https://www.openstreetmap.org/copyright">OpenStreetMap</a> contributors'


class Settings(msgspec.Struct, frozen=True, kw_only=True):
    database_url: str | None = None
    data_dir: Path
    jwt_secret: str
    jwt_ttl_s: int = 12 * 3600
    tracking_token_ttl_s: int = 7 * 24 * 3600
    pool_min_size: int = 2
    pool_max_size: int = 10
    page_size_max: int = 200
    log_level: str = "INFO"
    # A geopy geocoder service name ("nominatim", ...); None keeps intake offline: an address not
    # on record then needs coordinates.
    geocoder: str | None = None
    geocoder_user_agent: str = "truckroll"
    # An OSRM-compatible routing service (its base URL); None uses the geodesic travel model.
    # A router slower than the timeout is asked once more, then the model answers: a ping waits
    # at most twice this on travel (OSRM answers a 20-place table in milliseconds).
    routing_url: str | None = None
    routing_timeout_s: float = 1.0
    # Matching: score weights by term (travel, lateness, parts, overqualification, continuity,
    # workload), how far outside their territory a technician may go, the arrival window promised.
    match_weights: dict[str, float] = msgspec.field(default_factory=dict)
    match_reach_km: float = 15.0
    arrival_window_s: int = 1800
    depot_pickup_s: int = 600
    # Booking: the length of the arrival windows offered and how many days ahead.
    slot_length_s: int = 7200
    slot_days: int = 7
    # How often each API process looks for jobs at risk (0: never, e.g. when a worker does it).
    risk_scan_s: int = 60
    # Positions older than this many days are dropped with their daily partition.
    position_retention_days: int = 30
    # Web Push: the VAPID key pair (`truckroll vapid-keys` makes one) and the contact push
    # services may write to; plain-http endpoints on this machine only when allowed (tests).
    vapid_private_key: str | None = None
    vapid_public_key: str | None = None
    vapid_subject: str = "mailto:dispatch@example.com"
    push_allow_insecure: bool = False
    push_timeout_s: float = 10.0  # a push service slower than this is retried later
    # Live streams (SSE). Each process follows which event ids are held by transactions still
    # open, as ranges, for all its streams: at most this many (past it the oldest are given up,
    # with a warning). An open tracking stream ends at most this many seconds after its link is
    # revoked or expires.
    stream_gap_ranges_max: int = 1000
    track_link_check_s: float = 2.0
    # The push worker against a hostile push service (an endpoint is the subscriber's choice):
    # how much of an answer's body it reads (the rest is dropped with the connection), and the
    # longest it waits before a retry, whatever Retry-After says.
    push_response_max_bytes: int = 4096
    push_max_delay_s: float = 3600.0
    # One tracking link must not fan out or churn without end: the Web Push subscriptions kept
    # per job and per user (a new one past the cap replaces that job's or user's oldest, so a
    # customer with a new phone is never locked out), and the changes (reschedules and cancels)
    # a customer may ask for per job within the window (429 with Retry-After past it).
    push_subscriptions_per_job: int = 5
    push_subscriptions_per_user: int = 5
    tracking_changes_per_job: int = 5
    tracking_change_window_s: int = 24 * 3600
    # The windows offered on a tracking link are kept this long per visit (each is a search of
    # the fleet, and anyone with the link may ask in a loop); a booking still checks its window.
    slot_offer_ttl_s: float = 30.0
    # Sign-in and sessions. argon2 takes ~90 ms of CPU per check, so checks run on a few threads
    # per process with a bounded queue (past it: 503), never on the event loop. Failed sign-ins
    # back off per account and per client address (free failures, then 1 s doubling up to the
    # cap, forgotten after a quiet spell), counted in PostgreSQL so all processes agree. A token
    # stops working at most token_check_ttl_s after its user is deactivated, deleted, changes
    # password or signs out.
    login_verify_threads: int = 1
    login_verify_queue: int = 16
    login_free_failures_account: int = 5
    login_free_failures_address: int = 20
    login_backoff_max_s: int = 300
    login_forget_after_s: int = 3600
    password_min_length: int = 12
    token_check_ttl_s: float = 5.0
    # Request edges: how deep a free-form JSON object (attributes, conditions) may nest. Decoding
    # recursed once per level and ran out of stack past ~1,000 levels (a 500); no real record
    # nests past a few.
    json_depth_max: int = 32
    # The tracking page's map while the technician is on the way: the tile server (a Leaflet URL
    # template; the page's security policy admits images from its origin and no other) and the
    # credit its licence asks for (HTML, as tile providers give it). OpenStreetMap's by default;
    # a busy install should use its own or a commercial one (OSM's tile usage policy).
    map_tile_url: str = OSM_TILES
    map_attribution: str = OSM_ATTRIBUTION
    # The technician app (/app) sends the phone's positions in batches this often while on shift:
    # often enough for a live ETA, seldom enough for a phone's battery (15 to 30 s).
    app_ping_interval_s: int = 20
    # The dispatcher console's cookie sessions (/console) end this long after sign-in: a
    # dispatcher's working day, after which the console asks for the password again.
    console_session_ttl_s: int = 12 * 3600


def default_data_dir() -> Path:
    # PostgreSQL runs as the `postgres` user when we are root, and root's home is 0700,
    # so root's cluster lives under /var/lib where that user can reach it.
    if hasattr(os, "geteuid") and os.geteuid() == 0:
        return Path("/var/lib/truckroll")
    return Path(platformdirs.user_data_dir("truckroll"))


def _int(env: Mapping[str, str], name: str, default: int, *, minimum: int = 1) -> int:
    raw = env.get(name)
    if raw is None or raw == "":
        return default
    try:
        value = int(raw)
    except ValueError:
        raise SettingsError(f"{name} must be a whole number, got {raw!r}") from None
    if value < minimum:
        raise SettingsError(f"{name} must be at least {minimum}, got {value}")
    return value


def load_settings(env: Mapping[str, str] | None = None) -> Settings:
    env = os.environ if env is None else env
    data_dir = Path(env.get("TRUCKROLL_DATA_DIR") or default_data_dir()).expanduser()
    jwt_secret = env.get("TRUCKROLL_JWT_SECRET") or _persistent_secret(data_dir)
    if len(jwt_secret) < 32:
        raise SettingsError("TRUCKROLL_JWT_SECRET must be at least 32 characters long")
    pool_min = _int(env, "TRUCKROLL_POOL_MIN_SIZE", 2)
    pool_max = _int(env, "TRUCKROLL_POOL_MAX_SIZE", 10)
    if pool_max < pool_min:
        raise SettingsError("TRUCKROLL_POOL_MAX_SIZE must be at least TRUCKROLL_POOL_MIN_SIZE")
    return Settings(
        database_url=env.get("DATABASE_URL") or None,
        data_dir=data_dir,
        jwt_secret=jwt_secret,
        jwt_ttl_s=_int(env, "TRUCKROLL_JWT_TTL_S", 12 * 3600, minimum=60),
        tracking_token_ttl_s=_int(env, "TRUCKROLL_TRACKING_TOKEN_TTL_S", 7 * 24 * 3600, minimum=60),
        pool_min_size=pool_min,
        pool_max_size=pool_max,
        page_size_max=_int(env, "TRUCKROLL_PAGE_SIZE_MAX", 200),
        log_level=env.get("TRUCKROLL_LOG_LEVEL", "INFO").upper(),
        geocoder=env.get("TRUCKROLL_GEOCODER") or None,
        geocoder_user_agent=env.get("TRUCKROLL_GEOCODER_USER_AGENT") or "truckroll",
        routing_url=env.get("TRUCKROLL_ROUTING_URL") or None,
        routing_timeout_s=_float(env, "TRUCKROLL_ROUTING_TIMEOUT_S", 1.0, maximum=60.0),
        match_weights=_weights(env.get("TRUCKROLL_MATCH_WEIGHTS", "")),
        match_reach_km=_float(env, "TRUCKROLL_MATCH_REACH_KM", 15.0),
        arrival_window_s=_int(env, "TRUCKROLL_ARRIVAL_WINDOW_S", 1800, minimum=300),
        depot_pickup_s=_int(env, "TRUCKROLL_DEPOT_PICKUP_S", 600, minimum=0),
        slot_length_s=_int(env, "TRUCKROLL_SLOT_LENGTH_S", 7200, minimum=900),
        slot_days=_int(env, "TRUCKROLL_SLOT_DAYS", 7),
        risk_scan_s=_int(env, "TRUCKROLL_RISK_SCAN_S", 60, minimum=0),
        position_retention_days=_int(env, "TRUCKROLL_POSITION_RETENTION_DAYS", 30),
        vapid_private_key=env.get("TRUCKROLL_VAPID_PRIVATE_KEY") or None,
        vapid_public_key=env.get("TRUCKROLL_VAPID_PUBLIC_KEY") or None,
        vapid_subject=env.get("TRUCKROLL_VAPID_SUBJECT") or "mailto:dispatch@example.com",
        push_allow_insecure=env.get("TRUCKROLL_PUSH_ALLOW_INSECURE", "") in ("1", "true", "yes"),
        push_timeout_s=_float(env, "TRUCKROLL_PUSH_TIMEOUT_S", 10.0),
        stream_gap_ranges_max=_int(env, "TRUCKROLL_STREAM_GAP_RANGES_MAX", 1000),
        track_link_check_s=_link_check_s(env),
        push_response_max_bytes=_int(env, "TRUCKROLL_PUSH_RESPONSE_MAX_BYTES", 4096, minimum=0),
        push_max_delay_s=_float(env, "TRUCKROLL_PUSH_MAX_DELAY_S", 3600.0, maximum=28 * 86400.0),
        push_subscriptions_per_job=_int(env, "TRUCKROLL_PUSH_SUBSCRIPTIONS_PER_JOB", 5),
        push_subscriptions_per_user=_int(env, "TRUCKROLL_PUSH_SUBSCRIPTIONS_PER_USER", 5),
        tracking_changes_per_job=_int(env, "TRUCKROLL_TRACKING_CHANGES_PER_JOB", 5),
        tracking_change_window_s=_int(env, "TRUCKROLL_TRACKING_CHANGE_WINDOW_S", 24 * 3600, minimum=60),
        slot_offer_ttl_s=_float(env, "TRUCKROLL_SLOT_OFFER_TTL_S", 30.0, maximum=3600.0),
        login_verify_threads=_int(env, "TRUCKROLL_LOGIN_VERIFY_THREADS", 1),
        login_verify_queue=_int(env, "TRUCKROLL_LOGIN_VERIFY_QUEUE", 16, minimum=0),
        login_free_failures_account=_int(env, "TRUCKROLL_LOGIN_FREE_FAILURES_ACCOUNT", 5, minimum=0),
        login_free_failures_address=_int(env, "TRUCKROLL_LOGIN_FREE_FAILURES_ADDRESS", 20, minimum=0),
        login_backoff_max_s=_int(env, "TRUCKROLL_LOGIN_BACKOFF_MAX_S", 300),
        login_forget_after_s=_int(env, "TRUCKROLL_LOGIN_FORGET_AFTER_S", 3600),
        password_min_length=_int(env, "TRUCKROLL_PASSWORD_MIN_LENGTH", 12, minimum=8),
        token_check_ttl_s=_float(env, "TRUCKROLL_TOKEN_CHECK_TTL_S", 5.0),
        json_depth_max=_int(env, "TRUCKROLL_JSON_DEPTH_MAX", 32, minimum=2),
        map_tile_url=_tile_url(env),
        map_attribution=env.get("TRUCKROLL_MAP_ATTRIBUTION") or OSM_ATTRIBUTION,
        app_ping_interval_s=_ping_interval_s(env),
        console_session_ttl_s=_int(env, "TRUCKROLL_CONSOLE_SESSION_TTL_S", 12 * 3600, minimum=60),
    )


def _ping_interval_s(env: Mapping[str, str]) -> int:
    value = _int(env, "TRUCKROLL_APP_PING_INTERVAL_S", 20, minimum=15)
    if value > 30:
        raise SettingsError(f"TRUCKROLL_APP_PING_INTERVAL_S must be at most 30, got {value}")
    return value


def _tile_url(env: Mapping[str, str]) -> str:
    url = env.get("TRUCKROLL_MAP_TILE_URL") or OSM_TILES
    parts = urlsplit(url)
    if parts.scheme not in ("http", "https") or not parts.hostname:
        raise SettingsError(f"TRUCKROLL_MAP_TILE_URL must be an http(s) URL, got {url!r}")
    missing = [p for p in ("{z}", "{x}", "{y}") if p not in url]
    if missing:
        raise SettingsError(f"TRUCKROLL_MAP_TILE_URL must hold {', '.join(missing)}, got {url!r}")
    return url


WEIGHT_NAMES = ("travel", "lateness", "parts", "overqualification", "continuity", "workload")


def _weights(raw: str) -> dict[str, float]:
    """`travel=1,parts=2`: the terms given override the defaults (1 each)."""
    weights: dict[str, float] = {}
    for item in filter(None, (p.strip() for p in raw.split(","))):
        name, _, value = item.partition("=")
        name = name.strip()
        if name not in WEIGHT_NAMES:
            raise SettingsError(f"TRUCKROLL_MATCH_WEIGHTS: {name!r} is not one of {', '.join(WEIGHT_NAMES)}")
        try:
            weights[name] = float(value)
        except ValueError:
            raise SettingsError(f"TRUCKROLL_MATCH_WEIGHTS: {name} needs a number, got {value!r}") from None
        if weights[name] < 0:
            raise SettingsError(f"TRUCKROLL_MATCH_WEIGHTS: {name} must not be negative")
    return weights


def _float(env: Mapping[str, str], name: str, default: float, *, maximum: float = math.inf) -> float:
    raw = env.get(name)
    if raw is None or raw == "":
        return default
    try:
        value = float(raw)
    except ValueError:
        raise SettingsError(f"{name} must be a number, got {raw!r}") from None
    if not math.isfinite(value):
        raise SettingsError(f"{name} must be a finite number, got {raw!r}")
    if value < 0:
        raise SettingsError(f"{name} must not be negative, got {value}")
    if value > maximum:
        raise SettingsError(f"{name} must be at most {maximum:g}, got {value:g}")
    return value


def _link_check_s(env: Mapping[str, str]) -> float:
    every_s = _float(env, "TRUCKROLL_TRACK_LINK_CHECK_S", 2.0)
    if every_s < 0.1:  # a busy loop of queries otherwise
        raise SettingsError(f"TRUCKROLL_TRACK_LINK_CHECK_S must be at least 0.1, got {every_s}")
    return every_s


def _persistent_secret(data_dir: Path) -> str:
    # Without a configured secret, tokens must still survive a restart of a zero-setup install,
    # so the generated secret is kept beside the local database, readable by this user only:
    # whoever reads it can sign tokens for any role.
    path = data_dir / "jwt_secret"
    data_dir.mkdir(parents=True, exist_ok=True)
    try:
        # Created private from the first byte (a chmod after writing leaves a window).
        fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL | os.O_NOFOLLOW, 0o600)
    except FileExistsError:
        return _read_private_secret(path)
    secret = secrets.token_urlsafe(48)
    with os.fdopen(fd, "w") as file:
        file.write(secret)
    return secret


def _read_private_secret(path: Path) -> str:
    try:
        fd = os.open(path, os.O_RDONLY | os.O_NOFOLLOW)
    except OSError as error:
        raise SettingsError(f"cannot read the JWT secret file {path}: {error.strerror}") from None
    with os.fdopen(fd) as file:
        status = os.fstat(file.fileno())
        if status.st_mode & 0o077:
            if status.st_uid != os.geteuid():
                raise SettingsError(
                    f"the JWT secret file {path} is readable by other users (mode "
                    f"{status.st_mode & 0o777:o}) and belongs to uid {status.st_uid}, not to us: "
                    "chmod 600 it, or set TRUCKROLL_JWT_SECRET"
                )
            os.fchmod(file.fileno(), 0o600)
            logging.getLogger("truckroll").warning(
                "The JWT secret file %s was readable by other users (mode %o); it is now 0600. "
                "Anyone who read it can sign tokens: delete it to make a new secret (this signs "
                "everyone out).",
                path,
                status.st_mode & 0o777,
            )
        return file.read().strip()
