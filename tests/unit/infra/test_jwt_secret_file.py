"""The generated JWT secret signs tokens for any role: only the app's own user may read it."""

from __future__ import annotations

import logging
import os
import stat
from pathlib import Path

import pytest

from infra.settings import SettingsError, load_settings


def mode_of(path: Path) -> int:
    return stat.S_IMODE(path.stat().st_mode)


def test_a_generated_secret_is_private_from_the_start(tmp_path: Path) -> None:
    settings = load_settings({"TRUCKROLL_DATA_DIR": str(tmp_path)})
    secret = tmp_path / "jwt_secret"
    assert mode_of(secret) == 0o600
    assert secret.read_text() == settings.jwt_secret
    assert load_settings({"TRUCKROLL_DATA_DIR": str(tmp_path)}).jwt_secret == settings.jwt_secret


def test_a_secret_others_can_read_is_made_private_with_a_warning(
    tmp_path: Path, caplog: pytest.LogCaptureFixture
) -> None:
    # Left world-readable (copied in, restored from a backup, or written by an older version with
    # a loose umask): any local user could read it and sign an admin token.
    secret = tmp_path / "jwt_secret"
    secret.write_text("s" * 48)
    secret.chmod(0o644)
    with caplog.at_level(logging.WARNING, logger="truckroll"):
        assert load_settings({"TRUCKROLL_DATA_DIR": str(tmp_path)}).jwt_secret == "s" * 48
    assert mode_of(secret) == 0o600
    assert "readable by other users" in caplog.text


@pytest.mark.skipif(os.geteuid() != 0, reason="giving the file to another user needs root")
def test_a_readable_secret_that_is_not_ours_is_refused(tmp_path: Path) -> None:
    secret = tmp_path / "jwt_secret"
    secret.write_text("s" * 48)
    secret.chmod(0o644)
    os.chown(secret, 65534, 65534)  # nobody
    with pytest.raises(SettingsError, match="readable by other users"):
        load_settings({"TRUCKROLL_DATA_DIR": str(tmp_path)})
    assert mode_of(secret) == 0o644
