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
    )


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
