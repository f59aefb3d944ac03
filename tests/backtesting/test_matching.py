"""MatchRules: the one rule for when an alert counts for an incident."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

import esc_analytics as esc
from esc_analytics import MatchRules, PolicyError
from esc_analytics.retro._review import incident_alerts

T = pd.Timestamp("2026-03-01 10:00", tz="UTC")
STARTED = pd.Series([T, T])
ENDED = pd.Series([T + pd.Timedelta("2h"), pd.NaT]).astype("datetime64[ns, UTC]")


def test_precedence_max_delay_then_ended_at_then_open_duration():
    plain = MatchRules()
    assert plain.match_until(STARTED, ENDED).tolist() == [
        T + pd.Timedelta("2h"),
        T + pd.Timedelta("24h"),
    ]
    assert plain.match_until(STARTED, None).tolist() == [T + pd.Timedelta("24h")] * 2
    fixed = MatchRules.of(max_delay="30min")
    assert fixed.match_until(STARTED, ENDED).tolist() == [T + pd.Timedelta("30min")] * 2
    # the incident's own span ignores max_delay (NAB windows, retrospectives)
    assert fixed.incident_end(STARTED, ENDED).tolist() == plain.match_until(STARTED, ENDED).tolist()
    assert fixed.match_from(STARTED).tolist() == [T - pd.Timedelta("24h")] * 2


def test_one_incident_reads_like_a_series():
    rules = MatchRules.of(max_early="1h", open_duration="6h")
    assert rules.match_from(T) == T - pd.Timedelta("1h")
    assert rules.match_until(T, None) == rules.match_until(T, pd.NaT) == T + pd.Timedelta("6h")
    assert rules.match_until(T, T + pd.Timedelta("2h")) == T + pd.Timedelta("2h")
    assert MatchRules.of(max_delay="3h").match_until(T, T + pd.Timedelta("2h")) == T + pd.Timedelta(
        "3h"
    )


@pytest.mark.parametrize("key", ["max_early", "max_delay", "open_duration"])
@pytest.mark.parametrize("value", ["-1h", "soon"])
def test_bad_durations_name_their_key(key, value):
    with pytest.raises(PolicyError, match=key):
        MatchRules.of(**{key: value})


def test_to_dict():
    assert MatchRules.of(max_delay="2h").to_dict() == {
        "max_early": "1 days 00:00:00",
        "max_delay": "0 days 02:00:00",
        "open_duration": "1 days 00:00:00",
    }


def _two_overlapping() -> tuple[pd.DataFrame, pd.DataFrame]:
    t0 = pd.Timestamp("2026-03-01 00:00", tz="UTC")
    hours = pd.Timedelta("1h")
    incidents = pd.DataFrame(
        {
            "incident_id": ["A", "B", "C"],
            "topic": "t",
            "severity": 1,
            "started_at": [t0 + 10 * hours, t0 + 25 * hours, t0 + 80 * hours],
            "ended_at": [t0 + 40 * hours, t0 + 30 * hours, t0 + 82 * hours],
        }
    )
    windows = pd.DataFrame(
        {"topic": "t", "window_start": t0 + hours * np.arange(100), "tier": 0}
    )
    windows.loc[10, "tier"] = 1  # one alert, at A's start (15 h before B starts)
    windows.loc[70, "tier"] = 1  # ten hours before C: an early alert, nothing else running
    return incidents, windows


def test_an_alert_belongs_to_the_incident_already_running():
    incidents, windows = _two_overlapping()
    result = esc.backtest(esc.escalations_from_tiers(windows, freq="1h"), incidents)
    outcome = result.incidents.set_index("incident_id")["outcome"]
    assert outcome["A"] != "missed"
    assert outcome["B"] == "missed"  # not "caught 15 h before it started"
    assert outcome["C"] != "missed"  # early alerts still count when nothing else runs
    prepared = esc.prepare_incidents(incidents).set_index("incident_id")
    assert prepared.loc["B", "match_from"] == prepared.loc["B", "started_at"]
    assert prepared.loc["C", "match_from"] == prepared.loc["C", "started_at"] - pd.Timedelta("24h")


def test_the_review_and_the_backtest_agree_on_the_overlapping_incident():
    incidents, windows = _two_overlapping()
    escalations = esc.escalations_from_tiers(windows, freq="1h")
    reached = incident_alerts(escalations, incidents).set_index("incident_id")["tier_reached"]
    assert reached.to_dict() == {"A": 1, "B": 0, "C": 1}  # the review finds no alert for B
    caught = esc.backtest(escalations, incidents).incidents.set_index("incident_id")["caught"]
    assert bool(caught["B"]) is False and bool(caught["A"]) is True
