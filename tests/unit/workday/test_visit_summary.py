"""What a finished visit writes in the asset's history: the technician's words and the parts."""

from __future__ import annotations

from dispatch.workday.job_work import SUMMARY_CHARS, visit_summary


def test_the_outcome_comes_first_then_the_notes_then_the_parts_fitted() -> None:
    summary = visit_summary("Springs replaced", ["Cables worn", "  "], [("SPR-250", 2), ("CBL-8", 1)])
    assert summary == "Springs replaced\nCables worn\nFitted 2 x SPR-250, 1 x CBL-8."


def test_a_visit_with_nothing_said_or_fitted_still_reads_as_done() -> None:
    assert visit_summary("", [], []) == "Completed; no notes, no parts fitted."


def test_a_long_story_is_cut_to_what_the_history_holds() -> None:
    assert len(visit_summary("x" * 1500, ["y" * 1500], [])) == SUMMARY_CHARS
