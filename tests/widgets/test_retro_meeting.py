"""The retrospective reviewers over time: a form returned after the notes were edited is
merged without losing the edit; the next retrospective of the topic opens with the previous
one's open action items and questions, found by itself; in meeting mode a reviewer shows
text and tables, never a widget."""

from __future__ import annotations

import pandas as pd
from small_topic import POLICY, _features, _incidents

from esc_analytics.retro import load_notes
from esc_analytics.widgets import PeriodReviewer, RetroReviewer
from esc_analytics.widgets.meeting import static_parts


def _two_incidents():
    feats = _features()
    later = _incidents(
        incident_id="INC-2",
        started_at=pd.Timestamp("2026-03-02 12:00", tz="UTC"),
        ended_at=pd.Timestamp("2026-03-02 14:00", tz="UTC"),
        detected_at=pd.NaT,
    )
    return feats, pd.concat([_incidents(), later], ignore_index=True)


def test_a_form_returned_after_an_edit_is_merged_and_the_edit_kept(tmp_path):
    feats, inc = _two_incidents()
    notes = tmp_path / "notes"
    r = RetroReviewer(feats, inc, POLICY, notes_dir=notes, incident_id="INC-1")
    r.areas["went_well"].value = "- the facilitator's summary"  # an edit: saved at once
    (notes / "INC-1").mkdir()
    (notes / "INC-1" / "carol.md").write_text(
        "---\nincident_id: INC-1\nparticipant: carol\n---\n## What went well\n\n"
        "> a fact from the draft\n\n- the runbook worked\n",
        encoding="utf-8",
    )
    again = RetroReviewer(feats, inc, POLICY, notes_dir=notes, incident_id="INC-1")
    text = again.areas["went_well"].value
    assert text == "- the facilitator's summary\n- the runbook worked (carol)"
    saved = load_notes(notes / "INC-1.yaml")
    assert saved["sections"]["went_well"] == text and "carol" in saved["reflections"]
    # opening once more merges nothing twice
    third = RetroReviewer(feats, inc, POLICY, notes_dir=notes, incident_id="INC-1")
    assert third.areas["went_well"].value == text


def test_next_retrospective_opens_with_the_previous_open_items(tmp_path):
    feats, inc = _two_incidents()
    notes = tmp_path / "notes"
    first = RetroReviewer(feats, inc, POLICY, notes_dir=notes, incident_id="INC-1")
    first.areas["actions"].value = (
        "- Add a reach rule | owner: PR | due: 2026-03-20 | status: open\n"
        "- Old thing | owner: PR | due: | status: done"
    )
    first.areas["open_questions"].value = "- Who pages PR at night?"
    nxt = RetroReviewer(feats, inc, POLICY, notes_dir=notes, incident_id="INC-2")
    assert "- Add a reach rule | owner: PR | due: 2026-03-20 | status: open | from: INC-1" in (
        nxt.areas["actions"].value
    )
    assert "Old thing" not in nxt.areas["actions"].value
    assert "Who pages PR at night? (carried over from INC-1)" in nxt.areas["open_questions"].value
    # a bad action line is refused with its line number, the notes on disk stay whole
    nxt.areas["actions"].value = "- x | status: someday"
    assert "line 1" in nxt.status.value and "not saved" in nxt.status.value


def test_reviewers_in_a_meeting_show_text_and_tables(tmp_path):
    feats, inc = _two_incidents()
    r = RetroReviewer(feats, inc, POLICY, notes_dir=tmp_path, incident_id="INC-1")
    parts = static_parts(r)
    kinds = {type(p).__name__ for p in parts}
    assert kinds <= {"HTML", "Markdown"}
    text = "".join(getattr(p, "data", "") or "" for p in parts)
    assert "### What went well" in text and "<h3>Action items</h3>" in text
    assert "<textarea" not in text
    # a generic widget tree: the figure widget becomes a plain figure
    generic = static_parts(r.widget)
    assert any(type(p).__name__ == "Figure" for p in generic)
    assert not any(hasattr(p, "comm") for p in generic)


def test_period_reviewer_saves_its_notes_under_the_period_id(tmp_path):
    import esc_analytics as esc

    feats, inc = _two_incidents()
    escalations = esc.evaluate(POLICY, feats)
    result = esc.backtest(escalations, inc)
    period = esc.review_period(
        "2026-03-01", "2026-03-02", result, feats, inc, escalations, POLICY, name="Two days"
    )
    r = PeriodReviewer(period, notes_dir=tmp_path)
    r.areas["went_well"].value = "- a calm week"
    saved = load_notes(tmp_path / f"{period.incident_id}.yaml")
    assert saved["period"]["start"].startswith("2026-03-01")
    assert saved["sections"]["went_well"] == "- a calm week"
