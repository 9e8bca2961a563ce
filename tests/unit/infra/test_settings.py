from __future__ import annotations

from pathlib import Path

import pytest

from infra.settings import SettingsError, load_settings


def test_without_a_configured_secret_one_is_generated_once_and_kept(tmp_path: Path) -> None:
    env = {"TRUCKROLL_DATA_DIR": str(tmp_path)}
    first = load_settings(env)
    assert len(first.jwt_secret) >= 32
    assert load_settings(env).jwt_secret == first.jwt_secret
    assert (tmp_path / "jwt_secret").stat().st_mode & 0o777 == 0o600


def test_database_url_unset_means_a_local_cluster(tmp_path: Path) -> None:
    assert load_settings({"TRUCKROLL_DATA_DIR": str(tmp_path), "DATABASE_URL": ""}).database_url is None


def test_a_short_secret_is_refused(tmp_path: Path) -> None:
    with pytest.raises(SettingsError, match="TRUCKROLL_JWT_SECRET"):
        load_settings({"TRUCKROLL_DATA_DIR": str(tmp_path), "TRUCKROLL_JWT_SECRET": "short"})


def test_a_non_numeric_number_names_the_variable(tmp_path: Path) -> None:
    with pytest.raises(SettingsError, match="TRUCKROLL_POOL_MAX_SIZE must be a whole number"):
        load_settings({"TRUCKROLL_DATA_DIR": str(tmp_path), "TRUCKROLL_POOL_MAX_SIZE": "ten"})


def test_a_pool_smaller_than_its_minimum_is_refused(tmp_path: Path) -> None:
    with pytest.raises(SettingsError, match="at least TRUCKROLL_POOL_MIN_SIZE"):
        load_settings(
            {
                "TRUCKROLL_DATA_DIR": str(tmp_path),
                "TRUCKROLL_POOL_MIN_SIZE": "5",
                "TRUCKROLL_POOL_MAX_SIZE": "2",
            }
        )


def test_the_map_defaults_to_openstreetmaps_tiles_and_its_credit(tmp_path: Path) -> None:
    settings = load_settings({"TRUCKROLL_DATA_DIR": str(tmp_path)})
    assert settings.map_tile_url == "https://tile.openstreetmap.org/{z}/{x}/{y}.png"
    assert settings.map_attribution == (
        '&copy; <a href="https://www.openstreetmap.org/copyright">OpenStreetMap</a> contributors'
    )


@pytest.mark.parametrize(
    ("url", "says"),
    [
        ("tile.example.com/{z}/{x}/{y}.png", "must be an http\\(s\\) URL"),
        ("javascript:alert(1)//{z}/{x}/{y}", "must be an http\\(s\\) URL"),
        ("https://tile.example.com/{z}/{x}.png", "must hold {y}"),
    ],
)
def test_a_tile_url_that_is_no_tile_template_names_the_variable(tmp_path: Path, url: str, says: str) -> None:
    with pytest.raises(SettingsError, match=f"TRUCKROLL_MAP_TILE_URL {says}"):
        load_settings({"TRUCKROLL_DATA_DIR": str(tmp_path), "TRUCKROLL_MAP_TILE_URL": url})


@pytest.mark.parametrize(
    ("value", "says"), [("14", "at least 15"), ("31", "at most 30"), ("soon", "a whole number")]
)
def test_the_apps_ping_interval_stays_between_15_and_30_seconds(
    tmp_path: Path, value: str, says: str
) -> None:
    env = {"TRUCKROLL_DATA_DIR": str(tmp_path), "TRUCKROLL_APP_PING_INTERVAL_S": value}
    with pytest.raises(SettingsError, match=f"TRUCKROLL_APP_PING_INTERVAL_S must be {says}"):
        load_settings(env)
    assert load_settings({"TRUCKROLL_DATA_DIR": str(tmp_path)}).app_ping_interval_s == 20
