"""Polls and the next meeting: forms prefilled with facts, merges at any time that never lose
an edit, action items, and the previous retrospective found by topic and time."""

from __future__ import annotations

from pathlib import Path

import pytest

from esc_analytics._util.errors import DataLoadError
from esc_analytics.retro import (
    actions_from_text,
    actions_to_text,
    carry_over_notes,
    find_previous_notes,
    load_notes,
    make_action,
    merge_forms,
    poll_form,
    read_form,
    save_notes,
)

DRAFT = {
    "incident_id": "INC-7",
    "sections": {
        "scope": "**Outage** on `Lumo`\n\n| milestone | time |\n|---|---|\n| started | 10:00 |",
        "went_well": "- Caught 2 h before the team noticed.",
        "did_not_go_well": "- (nothing stands out)",
        "improvements": "- Lowering tier 1 `volume_ratio` from 3 to 2.5 …",
        "open_questions": "- Who owns follow-up?",
    },
}


def _answer(form_text: str, answers: dict[str, list[str]]) -> str:
    """Fill a Markdown form as a participant does: points under the headings."""
    out = []
    heading = None
    for line in form_text.splitlines():
        if line.startswith("## "):
            heading = line[3:]
        if line.strip() == "-" and heading in answers:
            out += [f"- {a}" for a in answers[heading]]
            continue
        out.append(line)
    return "\n".join(out) + "\n"


@pytest.mark.parametrize("fmt", ["md", "yaml"])
def test_form_is_prefilled_with_facts_and_reads_back_only_the_answers(tmp_path, fmt):
    text = poll_form(DRAFT, "Alice", fmt=fmt)
    assert "Caught 2 h before the team noticed." in text  # the facts, as context
    path = tmp_path / f"alice.{fmt}"
    if fmt == "md":
        assert text.count("\n## ") == 5 and "| started" not in text
        path.write_text(_answer(text, {"What went well": ["Fast PR reply"]}), encoding="utf-8")
    else:
        path.write_text(text.replace("went_well: ''", "went_well: '- Fast PR reply'"))
    form = read_form(path)
    assert form["incident_id"] == "INC-7" and form["participant"] == "Alice"
    assert form["sections"]["went_well"] == "Fast PR reply"  # the quoted facts are not answers
    assert all(not v for k, v in form["sections"].items() if k != "went_well")


def test_poll_merge_round_trip_with_edits_in_between_loses_nothing(tmp_path):
    notes_path = tmp_path / "INC-7.yaml"
    forms = {}
    for name, answers in {
        "alice": {"What went well": ["Fast PR reply"], "Improvements": ["Runbook for pricing"]},
        "bob": {"What did not go well": ["Alert came at night"]},
    }.items():
        path = tmp_path / f"{name}.md"
        path.write_text(_answer(poll_form(DRAFT, name), answers), encoding="utf-8")
        forms[name] = read_form(path)
    # 1. alice's form first, saved
    notes, added = merge_forms(DRAFT, [forms["alice"]])
    assert added == 2
    assert "- Fast PR reply (alice)" in notes["sections"]["went_well"]
    save_notes(notes, notes_path)
    # 2. the facilitator edits: rewrites alice's point, deletes the placeholder, adds a line
    edited = load_notes(notes_path)
    edited["sections"]["went_well"] = edited["sections"]["went_well"].replace(
        "Fast PR reply (alice)", "PR replied within 20 minutes (alice)"
    )
    edited["sections"]["open_questions"] += "\n- Facilitator's own question"
    save_notes(edited, notes_path)
    # 3. bob returns late; alice's form is merged again
    again, added = merge_forms(load_notes(notes_path), [forms["alice"], forms["bob"]])
    assert added == 1  # only bob's point is new
    s = again["sections"]
    assert "PR replied within 20 minutes (alice)" in s["went_well"]
    assert "Fast PR reply" not in s["went_well"]  # the edit is not undone
    assert "- Facilitator's own question" in s["open_questions"]
    assert "- Alert came at night (bob)" in s["did_not_go_well"]
    assert "(nothing stands out)" not in s["did_not_go_well"]  # the placeholder gave way
    assert "- Runbook for pricing (alice)" in s["improvements"]
    assert set(again["reflections"]) == {"alice", "bob"}
    # every line of the edited notes is still there
    for key, text in edited["sections"].items():
        for line in text.splitlines():
            if "(nothing stands out)" not in line:
                assert line in s[key]
    # 4. merging everything once more adds nothing
    assert merge_forms(again, [forms["alice"], forms["bob"]])[1] == 0


def test_a_form_of_another_incident_is_refused():
    form = {"incident_id": "INC-8", "participant": "x", "sections": {"went_well": "a"}}
    with pytest.raises(DataLoadError, match="INC-8"):
        merge_forms(DRAFT, [form])


def test_actions_text_round_trip_and_errors():
    actions = [
        make_action("Lower tier 1", owner="Community team", due="2026-03-01"),
        make_action("Add a reach rule", status="in progress", source="INC-1"),
    ]
    text = actions_to_text(actions)
    assert actions_from_text(text) == actions
    assert actions_from_text("- Just a line")[0] == make_action("Just a line")
    with pytest.raises(DataLoadError, match=r"line 1.*status"):
        actions_from_text("- x | status: maybe")
    with pytest.raises(DataLoadError, match="not a date"):
        actions_from_text("- x | due: soon")


def _save(folder: Path, subject: str, *, topic=None, started=None, period=None, actions=()):
    doc = {"incident_id": subject, "sections": {"open_questions": f"- Q of {subject}"}}
    doc.update({k: v for k, v in {"topic": topic, "started_at": started}.items() if v})
    if period:
        doc["period"] = {"start": period[0], "end": period[1]}
    doc["actions"] = list(actions)
    save_notes(doc, folder / f"{subject}.yaml")


def test_previous_retrospective_is_found_by_topic_and_time(tmp_path):
    _save(tmp_path, "INC-1", topic="Lumo", started="2026-02-01T00:00:00+00:00")
    _save(tmp_path, "INC-2", topic="Voltra", started="2026-02-10T00:00:00+00:00")
    _save(tmp_path, "INC-3", topic="Lumo", started="2026-02-20T00:00:00+00:00")
    _save(tmp_path, "P1", period=("2026-01-01T00:00:00+00:00", "2026-02-01T00:00:00+00:00"))
    (tmp_path / "junk.yaml").write_text("[1, 2]")  # not notes: skipped
    find = lambda **kw: find_previous_notes(tmp_path, kind="incident", **kw)  # noqa: E731
    assert find(before="2026-03-01", topic="Lumo").stem == "INC-3"
    assert find(before="2026-02-15", topic="Lumo").stem == "INC-1"
    assert find(before="2026-02-15", topic="Brewhaus").stem == "INC-2"  # none of its topic
    assert find(before="2026-02-20T00:00:00Z", topic="Lumo", exclude="INC-3").stem == "INC-1"
    assert find(before="2026-01-01", topic="Lumo") is None
    assert find_previous_notes(tmp_path, before="2026-03-01", kind="period").name == "P1.yaml"
    assert find_previous_notes(tmp_path / "missing", before="2026-03-01") is None


def test_next_retrospective_opens_with_open_actions_and_questions():
    previous = {
        "incident_id": "INC-1",
        "sections": {"improvements": "- old text", "open_questions": "- Why so late?"},
        "actions": [
            make_action("Runbook", owner="PR"),
            make_action("Done thing", status="done"),
            make_action("Ongoing", status="in progress"),
        ],
    }
    carried = carry_over_notes(previous)
    assert [a["action"] for a in carried["actions"]] == ["Runbook", "Ongoing"]
    assert all(a["source"] == "INC-1" for a in carried["actions"])
    assert "Why so late? (carried over from INC-1)" in carried["sections"]["open_questions"]
    assert "improvements" not in carried["sections"]  # they live on as action items
