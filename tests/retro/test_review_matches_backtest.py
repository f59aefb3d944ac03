"""A retrospective judges an incident by the very matching rules of its backtest.

The incident of ``small_topic`` runs 19:30 → 02:00; tier 1 first holds in window 20:00 and
tier 2 in window 21:00. With ``max_delay=30min`` the backtest ends the match interval at
20:00 (an explicit ``max_delay`` wins over ``ended_at``), so only the tier-1 window matches.
The retrospective used to let ``ended_at`` win (and ignored the backtest's ``max_delay``): it
credited the tier-2 alert of 22:00 to an incident the backtest scored as reaching tier 1.
"""

from __future__ import annotations

import pandas as pd
from small_topic import POLICY, _features, _incidents

from esc_analytics import MatchRules, backtest, evaluate, pick_instructive_incident, review_incident
from esc_analytics.retro._review import incident_alerts

UTC = "UTC"


def _setup():
    feats = _features()
    return feats, evaluate(POLICY, feats), _incidents()


def test_backtest_lets_max_delay_win_over_ended_at():
    _, esc, incidents = _setup()
    row = backtest(esc, incidents, max_delay="30min").incidents.iloc[0]
    assert row["match_until"] == pd.Timestamp("2026-03-01 20:00", tz=UTC)  # not ended_at 02:00
    assert row["tier_reached"] == 1
    assert row["first_alert_at"] == pd.Timestamp("2026-03-01 21:00", tz=UTC)


def test_review_takes_the_rules_of_its_backtest():
    feats, esc, incidents = _setup()
    bt = backtest(esc, incidents, max_delay="30min")
    assert bt.rules == MatchRules.of(max_delay="30min")
    assert bt.max_delay == pd.Timedelta("30min") and bt.max_early == pd.Timedelta("24h")
    # review_incident is not told max_delay: it reads it from the backtest result
    review = review_incident("INC-1", bt, feats, incidents, esc, POLICY, quantify=False)
    assert review.facts["tier_reached"] == 1
    assert review.facts["first_alert_at"] == pd.Timestamp("2026-03-01 21:00", tz=UTC)
    milestones = set(review.milestones["milestone"])
    assert "policy escalation tier 1" in milestones
    assert "policy escalation tier 2" not in milestones  # 22:00 is outside the match interval
    assert review.facts["first_alert_at_target"] is None
    assert "Reached tier 1 only, severity was 2" in review.sections["did_not_go_well"]
    # the incident's own span still shows: peak and end come from ended_at
    assert review.facts["peak_at"] == pd.Timestamp("2026-03-01 21:00", tz=UTC)
    assert review.facts["duration_h"] == 6.5


def test_review_without_a_backtest_uses_the_same_precedence():
    feats, esc, incidents = _setup()
    bt = backtest(esc, incidents, max_delay="30min")
    with_bt = review_incident("INC-1", bt, feats, incidents, esc, POLICY, quantify=False)
    alone = review_incident(
        "INC-1", None, feats, incidents, esc, POLICY, max_delay="30min", quantify=False
    )
    assert alone.facts["tier_reached"] == with_bt.facts["tier_reached"] == 1
    pd.testing.assert_frame_equal(alone.milestones, with_bt.milestones)
    alerts = incident_alerts(esc, incidents, rules=bt.rules).iloc[0]
    assert alerts["tier_reached"] == bt.incidents.iloc[0]["tier_reached"]
    assert pd.isna(alerts["first_alert_tier2_at"])


def test_default_rules_unchanged_where_ended_at_is_known():
    feats, esc, incidents = _setup()
    bt = backtest(esc, incidents)
    review = review_incident("INC-1", bt, feats, incidents, esc, POLICY, quantify=False)
    assert review.facts["tier_reached"] == bt.incidents.iloc[0]["tier_reached"] == 2
    assert "policy escalation tier 2" in set(review.milestones["milestone"])


def test_pick_instructive_incident_follows_max_delay():
    _, esc, incidents = _setup()

    def at(hhmm: str) -> pd.Timestamp:
        return pd.Timestamp(f"2026-03-01 {hhmm}", tz=UTC)

    # INC-E is caught after the team noticed it (late); INC-1 is caught at its severity...
    late = _incidents(
        incident_id="INC-E",
        severity=1,
        started_at=at("20:00"),
        ended_at=at("23:00"),
        detected_at=at("20:30"),
    )
    two = pd.concat([incidents, late], ignore_index=True)
    assert pick_instructive_incident(two, esc) == "INC-E"
    # ...but within 30 minutes of its start only at tier 1: under-escalated, more to learn from
    assert pick_instructive_incident(two, esc, max_delay="30min") == "INC-1"
