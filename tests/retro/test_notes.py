"""Retrospective notes: carry-over, participant merge, atomic save with backup, Markdown."""

from __future__ import annotations

import pytest
import yaml

from esc_analytics._util.errors import DataLoadError
from esc_analytics.retro._notes import (
    SECTIONS,
    carry_over,
    empty_notes,
    load_notes,
    load_participant_notes,
    merge_participant_notes,
    notes_to_markdown,
    save_notes,
)


def test_carry_over_takes_improvements_and_questions_only_marked_and_deduplicated():
    prev = {
        "incident_id": "INC-003",
        "sections": {
            "went_well": "- fast response",
            "improvements": "- lower tier 2 threshold\n* Lower tier 2 threshold\n1. add a runbook",
            "open_questions": "Who owns the dashboard? (carried over from INC-001)",
        },
    }
    out = carry_over(prev)
    assert set(out) == {"improvements", "open_questions"}
    assert out["improvements"].splitlines() == [
        "- lower tier 2 threshold (carried over from INC-003)",
        "- add a runbook (carried over from INC-003)",
    ]
    # An item carried twice keeps one mark, naming the latest origin.
    assert out["open_questions"] == "- Who owns the dashboard? (carried over from INC-003)"
    assert carry_over(None) == {"improvements": "", "open_questions": ""}


def test_merge_participant_notes_attributes_in_name_order_and_joins_duplicates():
    notes = {
        "bob": {"went_well": "- quick page\n- clear owner"},
        "alice": {"sections": {"went_well": "Clear owner", "open_questions": "- why late?"}},
    }
    merged = merge_participant_notes(notes)
    assert merged["went_well"].splitlines() == ["- Clear owner (alice, bob)", "- quick page (bob)"]
    assert merged["open_questions"] == "- why late? (alice)"
    assert merged["scope"] == ""
    # Deterministic whatever the input order.
    assert merge_participant_notes(dict(reversed(list(notes.items())))) == merged


def test_save_is_atomic_keeps_backup_and_round_trips(tmp_path):
    path = tmp_path / "retro" / "INC-007.yaml"
    first = empty_notes("INC-007")
    first["sections"]["went_well"] = "v1"
    save_notes(first, path)
    second = {"incident_id": "INC-007", "sections": {"went_well": "v2 <script>x</script>"}}
    save_notes(second, path)
    loaded = load_notes(path)
    assert loaded["sections"]["went_well"] == "v2 <script>x</script>"
    assert set(loaded["sections"]) == set(SECTIONS)
    backup = yaml.safe_load((tmp_path / "retro" / "INC-007.yaml.bak").read_text())
    assert backup["sections"]["went_well"] == "v1"
    assert [p.name for p in path.parent.iterdir() if p.name.endswith(".tmp")] == []


def test_load_rejects_unknown_sections_and_bad_yaml(tmp_path):
    bad = tmp_path / "x.yaml"
    bad.write_text("sections: {lessons: hi}")
    with pytest.raises(DataLoadError, match="unknown section"):
        load_notes(bad)
    bad.write_text("sections: [unclosed")
    with pytest.raises(DataLoadError, match="YAML"):
        load_notes(bad)
    with pytest.raises(DataLoadError, match="not found"):
        load_notes(tmp_path / "missing.yaml")


def test_participant_folder_one_file_each(tmp_path):
    folder = tmp_path / "INC-007"
    folder.mkdir()
    (folder / "carol.yaml").write_text("improvements: add a tier for reach\n")
    (folder / "alice.yml").write_text("sections:\n  improvements: add a tier for reach\n")
    got = load_participant_notes(folder)
    assert list(got) == ["alice", "carol"]
    assert merge_participant_notes(got)["improvements"] == "- add a tier for reach (alice, carol)"
    assert load_participant_notes(tmp_path / "nobody") == {}


def test_markdown_has_the_five_headings_in_order():
    md = notes_to_markdown({"incident_id": "INC-1", "sections": {"scope": "x"}})
    heads = [line for line in md.splitlines() if line.startswith("## ")]
    assert heads == [
        "## Scope and milestones",
        "## What went well",
        "## What did not go well",
        "## Improvements",
        "## Open questions",
    ]
