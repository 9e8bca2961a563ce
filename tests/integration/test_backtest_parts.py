"""The backtest on the demo's synthetic history meets the product's target and beats the baseline."""

from __future__ import annotations

import re

import pytest

from api.cli import main
from tests.integration.test_cli import empty_dsn  # noqa: F401  # the fixture, shared


def test_predicted_parts_cover_nine_visits_in_ten_with_few_extra_parts(
    empty_dsn: str,  # noqa: F811
    capsys: pytest.CaptureFixture[str],
) -> None:
    assert main(["demo"]) == 0
    capsys.readouterr()

    assert main(["backtest-parts", "--threshold", "0.2"]) == 0

    out = capsys.readouterr().out
    row = re.search(r"^\s+0\.20\s+([\d.]+)%\s+([\d.]+)\s+([\d.]+)%\s+([\d.]+)$", out, re.MULTILINE)
    assert row, out
    coverage, extra, base_coverage, base_extra = (float(g) for g in row.groups())
    assert coverage >= 90.0
    assert extra <= 1.5
    assert coverage >= base_coverage + 5
    assert extra <= base_extra
