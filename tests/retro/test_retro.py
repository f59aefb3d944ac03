"""Retrospective draft on a small hand-built topic: milestones, sentences, improvements."""

from __future__ import annotations

import pandas as pd
import pytest
from small_topic import POLICY, _features, _incidents

from esc_analytics import Policy, backtest, evaluate
from esc_analytics._util.errors import DataLoadError
from esc_analytics.retro._review import (
    SECTIONS,
    alert_cost_words,
    incident_alerts,
    measures_lacking,
    pick_instructive_incident,
    review_incident,
)


def _review(incidents, policy=POLICY, **kw):
    feats = _features()
    esc = evaluate(policy, feats)
    return review_incident("INC-1", backtest(esc, incidents), feats, incidents, esc, policy, **kw)


def test_alerts_per_tier_hand_computed():
    esc = evaluate(POLICY, _features())
    a = incident_alerts(esc, _incidents()).iloc[0]
    # tier 1 first holds in window 20:00 (ratio 4.0) -> alerted when it closes, 21:00.
    assert a["first_alert_tier1_at"] == pd.Timestamp("2026-03-01 21:00", tz="UTC")
    assert a["first_alert_tier2_at"] == pd.Timestamp("2026-03-01 22:00", tz="UTC")
    assert a["tier_reached"] == 2
    assert a["lead_time_h"] == pytest.approx(3.0)  # detected 00:00 - first alert 21:00


def test_review_milestones_and_sentences():
    r = _review(_incidents())
    ms = dict(zip(r.milestones["milestone"], r.milestones["at"], strict=True))
    assert ms["first sign in volume"] == pd.Timestamp("2026-03-01 18:00", tz="UTC")  # ratio 2.0
    assert ms["peak"] == pd.Timestamp("2026-03-01 21:00", tz="UTC")
    assert ms["policy escalation tier 1"] == pd.Timestamp("2026-03-01 21:00", tz="UTC")
    assert ms["detected"] == pd.Timestamp("2026-03-02 00:00", tz="UTC")
    assert list(r.sections) == list(SECTIONS)
    assert "caught it 3 h before the team noticed" in r.sections["went_well"]
    assert "Reached tier 2, matching severity 2" in r.sections["went_well"]
    md = r.to_markdown()
    assert md.count("\n## ") == 5 and "Retrospective INC-1" in md


def test_markdown_shows_user_markup_as_text():
    # Titles, categories and topics come from incident logs; notebook 04 displays
    # to_markdown() and the rendered report turns it into HTML.
    nbconvert_filters = pytest.importorskip("nbconvert.filters.markdown_mistune")
    hostile = "<img src=x onerror=alert(1)> `<b>x</b>`"
    r = _review(_incidents(title=hostile, category="<script>alert(2)</script>"))
    md = r.to_markdown()
    assert "<img" not in md and "<script" not in md and "<b>" not in md
    page = nbconvert_filters.markdown2html_mistune(md)
    assert "<img" not in page and "<script" not in page and "<b>" not in page
    assert "&lt;img src=x onerror=alert(1)&gt;" in page  # shown, as text
    assert r.sections["scope"].startswith("**&lt;img src=x onerror=alert(1)&gt; \\`&lt;b&gt;")


def test_under_escalation_and_improvement_quantified():
    r = _review(
        _incidents(severity=2),
        policy=POLICY.set_params(tier2__volume_ratio=8.0),
        max_extra_per_month=None,  # no alert budget: every earlier alert is listed
    )
    assert r.facts["tier_reached"] == 1
    assert "Reached tier 1 only, severity was 2" in r.sections["did_not_go_well"]
    imp = r.improvements.set_index("proposed")
    # Tier 2 can fire at window 21:00 (ratio 7.0: the smallest change, threshold 7) or, lower
    # still, at 18:00 (ratio 2.0, the first sign of the issue: the earliest alert).
    assert sorted(imp.index) == [2.0, 7.0]
    assert set(r.improvements["parameter"]) == {"tier2__volume_ratio"}
    assert imp.loc[7.0, "first_alert_at"] == pd.Timestamp("2026-03-01 22:00", tz="UTC")
    assert imp.loc[2.0, "first_alert_at"] == pd.Timestamp("2026-03-01 19:00", tz="UTC")
    assert imp.loc[7.0, "hours_before_team"] == pytest.approx(2.0)
    # One extra tier-2 notification over a 47-hour span, per month.
    months = 47 / 24 / 30.4375
    assert imp.loc[7.0, "extra_escalations_per_month"] == pytest.approx(1 / months)
    # Ranked by hours gained per extra alert a month; the headline is the best ranked.
    per_alert = imp["gain_h"] / imp["extra_escalations_per_month"].clip(lower=0.1)
    assert imp["hours_per_extra_alert"].tolist() == pytest.approx(per_alert.tolist())
    assert r.improvements["hours_per_extra_alert"].is_monotonic_decreasing
    best = r.improvements.iloc[0]
    assert f"from 8 to {best['proposed']:g}" in r.sections["improvements"]
    assert best["alert_cost"] in r.sections["improvements"]


@pytest.mark.parametrize("budget", [0.0, 20.0, 40.0])
def test_proposals_over_the_alert_budget_are_dropped_and_counted(budget):
    kw = {"policy": POLICY.set_params(tier2__volume_ratio=8.0)}
    full = _review(_incidents(severity=2), max_extra_per_month=None, **kw).improvements
    r = _review(_incidents(severity=2), max_extra_per_month=budget, **kw)
    kept = full[full["extra_escalations_per_month"] <= budget]
    assert sorted(r.improvements["proposed"]) == sorted(kept["proposed"])
    assert r.facts["proposals_over_budget"] == len(full) - len(kept)
    if len(full) > len(kept):
        said = f"cost more than {budget:g} extra tier-2 alerts a month"
        assert said in r.sections["improvements"]


@pytest.mark.parametrize(
    ("per_month", "words"),
    [
        (3.0, "+3 tier-1 alerts a month, about one a week"),
        (81.0, "+81 tier-1 alerts a month, about 3 a day"),
        (1.0, "+1 tier-1 alert a month, about one a month"),
        (0.3, "+0.3 tier-1 alerts a month, about one every 3 months"),
        (0.0, "no extra tier-1 alert"),
        (-2.0, "2 fewer tier-1 alerts a month"),
    ],
)
def test_alert_cost_in_words(per_month, words):
    assert alert_cost_words(per_month, 1) == words


def test_proposals_never_name_a_measure_the_data_lacks():
    # The plan's tier 2 also reads influencer_mentions; the data has none (all zero, and
    # marked absent as for mentions without follower counts): no proposal may change it.
    feats = _features()
    feats["influencer_mentions"] = 0.0
    feats.attrs["absent_features"] = {"influencer_mentions": "the mentions do not carry"}
    policy = Policy.from_yaml(
        """
name: t
tiers:
  - {level: 1, name: watch, owner: a, all: ["volume_ratio >= 3"]}
  - {level: 2, name: esc, owner: b, all: ["volume_ratio >= 6", "influencer_mentions >= 5"]}
"""
    )
    esc = evaluate(policy, feats)
    inc = _incidents(severity=2)
    r = review_incident(
        "INC-1", backtest(esc, inc), feats, inc, esc, policy, max_extra_per_month=None
    )
    assert "influencer_mentions" in measures_lacking(feats)
    # Without the rule, "influencer_mentions 5 -> 0" would alert (the ratio reaches 7).
    unchecked = feats.copy()
    unchecked.attrs = {}
    unchecked["influencer_mentions"] = 0.5  # a real (if small) measure: may be proposed
    esc2 = evaluate(policy, unchecked)
    r2 = review_incident(
        "INC-1", backtest(esc2, inc), unchecked, inc, esc2, policy, max_extra_per_month=None
    )
    assert r2.improvements["parameter"].str.contains("influencer").any()
    assert not r.improvements["parameter"].str.contains("influencer").any()
    assert "influencer" not in r.sections["improvements"]


def test_missed_incident_and_no_detected_time():
    inc = _incidents(detected_at=pd.NaT)
    r = _review(
        inc,
        policy=POLICY.set_params(tier1__volume_ratio=9.0, tier2__volume_ratio=9.5),
        max_extra_per_month=None,
    )
    assert not r.facts["caught"]
    assert "highest volume ratio was 7.0" in r.sections["did_not_go_well"]
    assert "When did the team first notice?" in r.sections["open_questions"]
    # 9.5 -> 2 and 9.5 -> 7 cost the same one extra alert; 2 alerts 3 h earlier: it leads.
    assert "Lowering tier 2 `volume_ratio` from 9.5 to 2 would" in r.sections["improvements"]
    assert "Alternative: `volume_ratio` 9.5 → 7" in r.sections["improvements"]


def test_unknown_incident_and_pick():
    with pytest.raises(DataLoadError, match="unknown incident"):
        review_incident(
            "NOPE", None, _features(), _incidents(), evaluate(POLICY, _features()), POLICY
        )
    two = pd.concat([_incidents(), _incidents(incident_id="INC-2", severity=3)])
    assert pick_instructive_incident(two, evaluate(POLICY, _features())) == "INC-2"
