"""Configuration, read once from the environment (``TRUCKROLL_*`` and the standard ``DATABASE_URL``)."""

from __future__ import annotations

import os
import secrets
from collections.abc import Mapping
from pathlib import Path

import msgspec
import platformdirs


class SettingsError(ValueError):
    """A configuration variable has a value we cannot use; the message names the variable."""


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
    routing_url: str | None = None
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
    # Request edges: how deep a free-form JSON object (attributes, conditions) may nest. Decoding
    # recursed once per level and ran out of stack past ~1,000 levels (a 500); no real record
    # nests past a few.
    json_depth_max: int = 32


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
        json_depth_max=_int(env, "TRUCKROLL_JSON_DEPTH_MAX", 32, minimum=2),
    )


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


def _float(env: Mapping[str, str], name: str, default: float) -> float:
    raw = env.get(name)
    if raw is None or raw == "":
        return default
    try:
        value = float(raw)
    except ValueError:
        raise SettingsError(f"{name} must be a number, got {raw!r}") from None
    if value < 0:
        raise SettingsError(f"{name} must not be negative, got {value}")
    return value


def _persistent_secret(data_dir: Path) -> str:
    # Without a configured secret, tokens must still survive a restart of a zero-setup install,
    # so the generated secret is kept beside the local database.
    path = data_dir / "jwt_secret"
    try:
        return path.read_text().strip()
    except FileNotFoundError:
        data_dir.mkdir(parents=True, exist_ok=True)
        secret = secrets.token_urlsafe(48)
        path.write_text(secret)
        path.chmod(0o600)
        return secret
