"""``esc-analytics retro poll`` / ``retro merge`` on the bundled sample: one prefilled form per
participant, an answered form never overwritten, merges at any time that keep every edit, and
one-line errors."""

from __future__ import annotations

import pytest

from esc_analytics.cli import main
from esc_analytics.retro import load_notes, save_notes


def _answer(path, heading, point):
    text = path.read_text(encoding="utf-8")
    head, rest = text.split(f"## {heading}\n", 1)
    rest = rest.replace("\n- \n", f"\n- {point}\n", 1)
    path.write_text(f"{head}## {heading}\n{rest}", encoding="utf-8")


@pytest.mark.slow
def test_poll_then_merge_twice_with_an_edit_in_between(tmp_path, capsys):
    notes = tmp_path / "notes"
    args = ["retro", "poll", "--incident", "INC-004", "--participants", "alice, bob,alice"]
    assert main([*args, "--notes-dir", str(notes)]) == 0
    folder = notes / "INC-004"
    assert sorted(p.name for p in folder.iterdir()) == ["alice.md", "bob.md"]
    form = (folder / "alice.md").read_text(encoding="utf-8")
    assert "participant: alice" in form and "> The policy did not escalate" in form
    _answer(folder / "alice.md", "What went well", "PR answered within the hour")
    # polling again keeps the answered form
    assert main([*args, "--notes-dir", str(notes)]) == 0
    assert "PR answered within the hour" in (folder / "alice.md").read_text(encoding="utf-8")
    assert "kept" in capsys.readouterr().out
    # merge alice, edit the notes, then bob answers late and everything is merged again
    assert main(["retro", "merge", str(folder / "alice.md"), "--notes-dir", str(notes)]) == 0
    doc = load_notes(notes / "INC-004.yaml")
    assert "- PR answered within the hour (alice)" in doc["sections"]["went_well"]
    doc["sections"]["went_well"] = doc["sections"]["went_well"].replace("hour", "HOUR")
    doc["sections"]["open_questions"] = "- the facilitator's question"
    save_notes(doc, notes / "INC-004.yaml")
    _answer(folder / "bob.md", "Improvements", "Runbook for pricing complaints")
    forms = [str(folder / "alice.md"), str(folder / "bob.md")]
    assert main(["retro", "merge", *forms, "--notes-dir", str(notes)]) == 0
    assert "1 new point(s) from 2 form(s) (alice, bob)" in capsys.readouterr().out
    after = load_notes(notes / "INC-004.yaml")["sections"]
    assert "PR answered within the HOUR (alice)" in after["went_well"]
    assert "within the hour" not in after["went_well"]
    assert after["open_questions"] == "- the facilitator's question"
    assert "- Runbook for pricing complaints (bob)" in after["improvements"]


def test_merge_errors_are_one_line(tmp_path, capsys):
    form = tmp_path / "x.md"
    form.write_text("## What went well\n\n- a point\n", encoding="utf-8")
    assert main(["retro", "merge", str(form), "--notes-dir", str(tmp_path)]) == 2
    err = capsys.readouterr().err.strip()
    assert len(err.splitlines()) == 1 and "names no incident" in err
    other = tmp_path / "y.md"
    other.write_text("---\nincident_id: INC-1\n---\n## What went well\n- b\n", encoding="utf-8")
    assert (
        main(["retro", "merge", str(other), "--incident", "INC-2", "--notes-dir", str(tmp_path)])
        == 2
    )
    assert "not --incident" in capsys.readouterr().err
    assert main(["retro", "merge", str(tmp_path / "missing.md")]) == 2
    assert "form not found" in capsys.readouterr().err


@pytest.mark.slow
def test_poll_for_a_period_writes_forms_under_the_period_id(tmp_path):
    notes = tmp_path / "notes"
    args = ["retro", "poll", "--period", "2026-02-01", "2026-03-31", "--name", "Q1 2026"]
    assert (
        main([*args, "--participants", "ana", "--format", "yaml", "--notes-dir", str(notes)]) == 0
    )
    (form,) = notes.glob("period-q1-2026-2026-02-01-2026-03-31/ana.yaml")
    text = form.read_text(encoding="utf-8")
    assert "incident_id: period-q1-2026-2026-02-01-2026-03-31" in text
    assert "INC-004" in text  # the period's facts: its missed incidents
