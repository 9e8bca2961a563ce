"""The origin a page's policy admits for its map's tiles, from the tile URL template."""

from __future__ import annotations

import pytest

from api.http_edge import tile_origin


@pytest.mark.parametrize(
    ("template", "origin"),
    [
        ("https://tile.openstreetmap.org/{z}/{x}/{y}.png", "https://tile.openstreetmap.org"),
        # Leaflet spreads {s} over subdomains: the policy admits that host's subdomains.
        ("https://{s}.tiles.example.com/{z}/{x}/{y}.png", "https://*.tiles.example.com"),
        ("http://127.0.0.1:8080/osm/{z}/{x}/{y}.png?key=abc", "http://127.0.0.1:8080"),
    ],
)
def test_the_tile_origin_is_the_templates_scheme_host_and_port(template: str, origin: str) -> None:
    assert tile_origin(template) == origin
