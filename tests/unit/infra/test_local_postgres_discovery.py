from __future__ import annotations

import pytest

from infra.local_postgres import LocalPostgresError, find_bindir


def test_without_server_binaries_the_error_says_how_to_install_them(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr("infra.local_postgres.shutil.which", lambda _: None)
    monkeypatch.setattr("infra.local_postgres.glob.glob", lambda _: [])
    with pytest.raises(LocalPostgresError, match="apt-get install postgresql") as raised:
        find_bindir()
    assert "DATABASE_URL" in str(raised.value)


def test_the_newest_installed_major_version_is_chosen(
    monkeypatch: pytest.MonkeyPatch, tmp_path: object
) -> None:
    from pathlib import Path

    root = Path(str(tmp_path))
    for version in ("9.6", "15", "13"):
        (root / version / "bin").mkdir(parents=True)
        (root / version / "bin" / "initdb").touch()
    monkeypatch.setattr("infra.local_postgres.shutil.which", lambda _: None)
    monkeypatch.setattr(
        "infra.local_postgres.glob.glob",
        lambda pattern: [str(p) for p in root.glob("*/bin")] if "postgresql/" in pattern else [],
    )
    assert find_bindir() == root / "15" / "bin"
