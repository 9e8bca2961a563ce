"""The files under api/static, each served at a URL that holds a hash of its content, so a browser
may keep it for a year: a deploy that changes a file changes its URL, and a page (rendered with
the URLs of the files it links) never meets a stale copy. Hashed once, when the process starts.
The pages themselves (.html) are not among them: each is rendered and served by its own route.
"""

from __future__ import annotations

import hashlib
import mimetypes
import re
from importlib import resources
from importlib.abc import Traversable

import msgspec

# 64 bits of SHA-256: no two files of one release meet by chance, and a URL stays short.
_DIGEST_HEX = 16
_PREFIX = "/static"
# A page names a file it links as {static:vendor/leaflet/leaflet.js}.
_MARK = re.compile(r"\{static:([^}\s]+)\}")
_TYPES = {".js": "text/javascript", ".css": "text/css", ".svg": "image/svg+xml"}


class StaticFile(msgspec.Struct, frozen=True, kw_only=True):
    name: str  # its path under the static folder, e.g. "vendor/leaflet/leaflet.js"
    digest: str
    media_type: str
    body: bytes

    @property
    def url(self) -> str:
        return f"{_PREFIX}/{self.digest}/{self.name.rsplit('/', 1)[-1]}"


class StaticFiles:
    def __init__(self, files: list[StaticFile]) -> None:
        self._by_name = {f.name: f for f in files}
        self._by_url = {f.url: f for f in files}

    @classmethod
    def from_folder(cls, folder: Traversable) -> StaticFiles:
        files: list[StaticFile] = []
        for name, entry in _walk(folder, ""):
            body = entry.read_bytes()
            suffix = "." + name.rsplit(".", 1)[-1] if "." in name else ""
            media_type = _TYPES.get(suffix) or mimetypes.guess_type(name)[0] or "text/plain"
            if media_type.startswith("text/"):
                media_type += "; charset=utf-8"
            digest = hashlib.sha256(body).hexdigest()[:_DIGEST_HEX]
            files.append(StaticFile(name=name, digest=digest, media_type=media_type, body=body))
        return cls(files)

    def file(self, name: str) -> StaticFile:
        """A name that is not a file is a mistake of ours (KeyError), found at start-up."""
        return self._by_name[name]

    def url(self, name: str) -> str:
        return self.file(name).url

    def find(self, digest: str, file_name: str) -> StaticFile | None:
        """The file at this URL, only if the hash is its current content's."""
        return self._by_url.get(f"{_PREFIX}/{digest}/{file_name}")

    def render(self, page: str) -> str:
        """The page with each {static:name} replaced by that file's hashed URL."""
        return _MARK.sub(lambda m: self.url(m.group(1)), page)


def _walk(folder: Traversable, under: str) -> list[tuple[str, Traversable]]:
    found: list[tuple[str, Traversable]] = []
    for entry in sorted(folder.iterdir(), key=lambda e: e.name):
        name = f"{under}{entry.name}"
        if entry.is_dir():
            found += _walk(entry, name + "/")
        elif not entry.name.startswith(".") and not entry.name.endswith(".html"):
            found.append((name, entry))
    return found


STATIC = StaticFiles.from_folder(resources.files("api").joinpath("static"))
