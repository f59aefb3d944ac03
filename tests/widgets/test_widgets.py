"""Headless widget tests: set values, assert on the backtest figures and FigureWidget data."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest
from small_topic import POLICY, _features, _incidents

from esc_analytics import (
    backtest,
    evaluate,
    load_notes,
    load_policy,
    notes_file_stem,
    save_notes,
)
from esc_analytics.widgets import PolicyWhatIf, RetroReviewer, SpikeExplainer, ThresholdTuner


class _Calibration:
    """The two attributes the tuner reads from a CalibrationResult."""

    def __init__(self, policy, features, incidents):
        self.policy = policy
        self.backtest = backtest(evaluate(policy, features), incidents)
        self.frontier = pd.DataFrame(
            {"tier": [1, 1], "false_per_week": [0.0, 3.5], "caught": [0, 1]}
        )


def _tier_trace(tuner, k):
    return next(t for t in tuner.timeline.data if t.name == f"tier {k} escalated")


def test_slider_change_recomputes_backtest_and_redraws(tmp_path):
    feats, inc = _features(), _incidents()
    strict = POLICY.set_params(tier1__volume_ratio=7.5, tier2__volume_ratio=9.0)
    tuner = ThresholdTuner(feats, inc, strict, _Calibration(POLICY, feats, inc), save_dir=tmp_path)
    assert int(tuner.result.incidents["tier_reached"].iloc[0]) == 0
    assert len(_tier_trace(tuner, 1).x) == 0
    tuner.sliders["tier1__volume_ratio"].value = 2.5  # ratios 2.5, 4.0, 7.0, 3.0 escalate
    assert int(tuner.result.incidents["tier_reached"].iloc[0]) == 1
    assert len(_tier_trace(tuner, 1).x) == 4
    assert list(_tier_trace(tuner, 1).y) == [24.0, 39.0, 69.0, 29.0]
    # Threshold line: volume where (v + 1) / (9 + 1) >= 2.5, i.e. 24.
    assert np.allclose(tuner.timeline.data[2].y, 24.0)
    # Current point on the trade-off chart: 1 incident caught at tier >= 1.
    assert tuner.tradeoff.data[2].y == (1.0,)
    assert "INC-1" in tuner.incident_table.value
    assert "esc-threshold-slider" in tuner.sliders["tier1__volume_ratio"]._dom_classes


def test_reset_restores_calibrated_and_save_reloads(tmp_path):
    feats, inc = _features(), _incidents()
    tuner = ThresholdTuner(feats, inc, POLICY, _Calibration(POLICY, feats, inc), save_dir=tmp_path)
    tuner.sliders["tier2__volume_ratio"].value = 9.0
    assert tuner.policy.get_params()["tier2__volume_ratio"] == 9.0
    assert int(tuner.result.incidents["tier_reached"].iloc[0]) == 1
    tuner.reset()
    assert tuner.policy == POLICY
    assert tuner.sliders["tier2__volume_ratio"].value == 6.0
    assert int(tuner.result.incidents["tier_reached"].iloc[0]) == 2
    tuner.sliders["tier1__persistence"].value = 2
    first = tuner.save()
    second = tuner.save()
    assert (first.name, second.name) == ("policy-v001.yaml", "policy-v002.yaml")
    assert load_policy(first) == tuner.policy
    assert first.with_suffix(".backtest.json").exists()


def test_retro_reviewer_edits_persist_and_reload(tmp_path):
    feats, inc = _features(), _incidents()
    prev = tmp_path / "prev.yaml"
    save_notes({"incident_id": "INC-0", "sections": {"open_questions": "- who pages PR?"}}, prev)
    parts = tmp_path / "notes" / "INC-1"
    parts.mkdir(parents=True)
    (parts / "bob.yaml").write_text("went_well: quick triage\n")
    r = RetroReviewer(feats, inc, POLICY, notes_dir=tmp_path / "notes", previous_notes=prev)
    assert "caught it 3 h before the team noticed" in r.areas["went_well"].value
    assert "- quick triage (bob)" in r.areas["went_well"].value
    assert "who pages PR? (carried over from INC-0)" in r.areas["open_questions"].value
    r.areas["improvements"].value = "- add a reach condition"
    saved = load_notes(tmp_path / "notes" / "INC-1.yaml")
    assert saved["sections"]["improvements"] == "- add a reach condition"
    r.areas["improvements"].value = "- second thought"
    assert (tmp_path / "notes" / "INC-1.yaml.bak").exists()
    again = RetroReviewer(feats, inc, POLICY, notes_dir=tmp_path / "notes")
    assert again.areas["improvements"].value == "- second thought"
    md = again.export_markdown().read_text()
    assert "## Improvements\n\n- second thought" in md
    assert len(again.figure.data) > 0


def test_retro_reviewer_hostile_incident_id_stays_text_and_inside_notes_dir(tmp_path):
    # Incident ids come from users' files: the status line is HTML (markup must be escaped)
    # and the id names the notes file (no path outside notes_dir).
    feats, inc = _features(), _incidents()
    evil = "<img src=x onerror=alert(1)>/../../x"
    inc = inc.assign(incident_id=inc["incident_id"].replace({"INC-1": evil}))
    notes_dir = tmp_path / "a" / "b" / "notes"
    r = RetroReviewer(feats, inc, POLICY, notes_dir=notes_dir, incident_id=evil)
    saved = r.save()
    assert saved.parent == notes_dir and saved.name == f"{notes_file_stem(evil)}.yaml"
    assert saved.name.startswith("img_src_x_onerror_alert_1_.._.._x~")  # readable, then a hash
    assert load_notes(saved)["incident_id"] == evil
    assert "<img" not in r.status.value
    assert r.export_markdown().parent == notes_dir
    assert "<" not in r.status.value
    assert r.participants_dir().parent == notes_dir


def test_whatif_and_explainer_construct():
    feats, inc = _features(), _incidents()
    w = PolicyWhatIf(
        feats, inc, POLICY, POLICY.set_params(tier1__volume_ratio=9.0, tier2__volume_ratio=9.5)
    )
    assert w.comparison.newly_missed == ["INC-1"]
    assert "newly missed" in w.incident_table.value
    idx = pd.date_range("2026-03-01", periods=48, freq="1h", tz="UTC")
    mentions = pd.DataFrame(
        {
            "mention_id": [f"m{i}" for i in range(48)],
            "created_at": idx,
            "topic": "T",
            "text": [
                "<script>alert(1)</script> down" if 18 <= i <= 22 else "fine" for i in range(48)
            ],
            "author": "a",
            "platform": "x",
        }
    )
    ex = SpikeExplainer(mentions, evaluate(POLICY, feats))
    assert "<script>" not in ex.samples.value and "&lt;script&gt;" in ex.samples.value


@pytest.mark.slow
def test_tuner_on_sample_data(sample_dir):
    from esc_analytics import build_features, load_incidents, load_mentions

    mentions = load_mentions(sample_dir / "mentions.csv.gz").data
    incidents = load_incidents(sample_dir / "incidents.csv").data
    policy = load_policy(sample_dir / "policy.yaml")
    tuner = ThresholdTuner(build_features(mentions), incidents, policy)
    before = tuner.result.tiers["notifications"].sum()
    name = next(n for n in tuner.sliders if n.startswith("tier1__volume"))
    tuner.sliders[name].value = tuner.sliders[name].value * 0.6
    assert tuner.result.tiers["notifications"].sum() > before


@pytest.mark.parametrize(
    ("names", "expected"),
    [
        (None, ("t (A)", "t (B)")),  # both plans are called "t"
        (("plan", "Plan "), ("plan (A)", "Plan (B)")),
        (("old", "new"), ("old", "new")),
    ],
)
def test_whatif_tells_plans_with_the_same_name_apart(names, expected):
    feats, inc = _features(), _incidents()
    b = POLICY.set_params(tier1__volume_ratio=9.0, tier2__volume_ratio=9.5)
    w = PolicyWhatIf(feats, inc, POLICY, b, names=names)
    assert (w.comparison.name_a, w.comparison.name_b) == expected
    assert f"<b>A</b> = {expected[0]} · <b>B</b> = {expected[1]}" in w.names.value
    assert expected[0] in w.comparison.summary() and expected[1] in w.comparison.summary()
    assert "lead A" in w.incident_table.value and "-1 days" not in w.incident_table.value


def test_tuner_groups_sliders_per_tier_and_marks_the_calibrated_values(tmp_path):
    feats, inc = _features(), _incidents()
    plan = POLICY.set_params(tier1__volume_ratio=4.0)  # the team's plan; calibrated: POLICY
    tuner = ThresholdTuner(feats, inc, plan, _Calibration(POLICY, feats, inc), save_dir=tmp_path)
    assert tuner.sliders["tier1__volume_ratio"].value == 4.0  # starts from the team's plan
    heads = [s.children[0].value for s in _sections(tuner.widget)]
    assert "Tier 1 · watch" in heads[0] and "Tier 2 · esc" in heads[1]
    labels = tuner._calibrated_labels
    assert "volume_ratio ≥" in labels["tier1__volume_ratio"].value
    assert "calibrated 3" in labels["tier1__volume_ratio"].value
    slider = tuner.sliders["tier1__volume_ratio"]
    where = (3.0 - slider.min) / (slider.max - slider.min) * 100
    assert f"left:calc({where:.3f}% - 1.5px)" in tuner._marks.value
    tuner.reset()
    assert tuner.policy == POLICY and slider.value == 3.0
    tuner.reset_to_plan()
    assert tuner.policy == plan and slider.value == 4.0


def _sections(widget):
    found = []
    if "esc-tier-section" in getattr(widget, "_dom_classes", ()):
        found.append(widget)
    for child in getattr(widget, "children", ()):
        found.extend(_sections(child))
    return found


def test_tuner_sends_only_what_changed_and_decimates_long_traces(tmp_path):
    feats, inc = _features(), _incidents()
    tuner = ThresholdTuner(feats, inc, POLICY, save_dir=tmp_path, display_points=20)
    shown = len(tuner.timeline.data[0].y)
    assert shown <= 22 and max(tuner.timeline.data[0].y) == 69.0  # the peak is kept
    sent = []

    def spy(restyle_data, relayout_data, trace_indexes=None, **kw):
        sent.append((sorted(restyle_data), list(trace_indexes or []), relayout_data))

    tuner.timeline._send_update_msg = spy
    tuner.sliders["tier1__persistence"].value = 2  # no threshold moves: tier points only
    assert len(sent) == 1  # one batched message
    keys, traces, relayout = sent[0]
    assert keys == ["x", "y"] and relayout == {}
    names = [tuner.timeline.data[i].name for i in traces]
    assert names and all(n.endswith("escalated") for n in names)  # not volume or threshold
    sent.clear()
    tuner.sliders["tier1__volume_ratio"].value = 3.5  # the threshold line moves: its y only
    traces = dict(zip(sent[0][1], [sent[0][0]] * len(sent[0][1]), strict=True))
    assert 2 in traces and 0 not in traces and 1 not in traces


def _buttons(widget):
    """Every ipywidgets Button under ``widget`` (walking children)."""
    import ipywidgets as W

    found = [widget] if isinstance(widget, W.Button) else []
    for child in getattr(widget, "children", ()):
        found.extend(_buttons(child))
    return found


def test_buttons_carry_no_icon_font(tmp_path):
    # icon fonts are not in a rendered report: an icon there is an empty box before the text
    feats, inc = _features(), _incidents()
    controllers = [
        ThresholdTuner(feats, inc, POLICY, _Calibration(POLICY, feats, inc), save_dir=tmp_path),
        RetroReviewer(feats, inc, POLICY, notes_dir=tmp_path / "notes"),
    ]
    for controller in controllers:
        buttons = _buttons(controller.widget)
        assert buttons, type(controller).__name__
        assert [b.description for b in buttons if b.icon] == []
