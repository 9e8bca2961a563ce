"""The static-file registry: a URL per content, and pages rendered with those URLs."""

from __future__ import annotations

import hashlib
from pathlib import Path

import pytest

from api.static_files import StaticFiles


def _folder(tmp_path: Path, files: dict[str, str]) -> Path:
    for name, text in files.items():
        (tmp_path / name).parent.mkdir(parents=True, exist_ok=True)
        (tmp_path / name).write_text(text)
    return tmp_path


def test_a_files_url_holds_the_first_64_bits_of_its_contents_sha256(tmp_path: Path) -> None:
    files = StaticFiles.from_folder(_folder(tmp_path, {"lib/map.js": "let a = 1;"}))
    digest = hashlib.sha256(b"let a = 1;").hexdigest()[:16]
    assert files.url("lib/map.js") == f"/static/{digest}/map.js"
    assert files.find(digest, "map.js") is not None
    assert files.find(digest, "other.js") is None
    assert files.find("0" * 16, "map.js") is None


def test_changed_content_moves_the_url(tmp_path: Path) -> None:
    before = StaticFiles.from_folder(_folder(tmp_path, {"app.css": "a {}"})).url("app.css")
    after = StaticFiles.from_folder(_folder(tmp_path, {"app.css": "b {}"})).url("app.css")
    assert before != after


def test_a_page_is_rendered_with_the_urls_and_is_not_itself_served(tmp_path: Path) -> None:
    files = StaticFiles.from_folder(_folder(tmp_path, {"a.js": "1", "page.html": "<p>", ".hidden": "x"}))
    rendered = files.render('<script src="{static:a.js}"></script>')
    assert rendered == f'<script src="{files.url("a.js")}"></script>'
    for name in ("page.html", ".hidden"):
        with pytest.raises(KeyError):
            files.url(name)


def test_a_page_naming_a_file_that_is_not_there_fails_at_start_up(tmp_path: Path) -> None:
    files = StaticFiles.from_folder(_folder(tmp_path, {"a.js": "1"}))
    with pytest.raises(KeyError):
        files.render('<script src="{static:b.js}"></script>')
