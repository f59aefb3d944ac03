"""Planned events end to end: alerts muted (or marked) during them, never false escalations,
the backtest listing what was muted; calibration scoring them the same way."""

from __future__ import annotations

import dataclasses

import numpy as np
import pandas as pd
import pytest

from esc_analytics import DataLoadError, Policy, PolicyError, backtest, evaluate
from esc_analytics.backtesting import MatchRules
from esc_analytics.backtesting._backtest import CostModel
from esc_analytics.calibration._template import _prepare, _threshold_params, sweep_threshold

T0 = pd.Timestamp("2026-01-01", tz="UTC")
POLICY = Policy.from_dict({"tiers": [{"level": 1, "all": ["volume_ratio >= 3"]}]})


def _features(ratio, planned, topic="a"):
    return pd.DataFrame({
        "topic": topic,
        "window_start": pd.date_range(T0, periods=len(ratio), freq="1h"),
        "volume_ratio": np.asarray(ratio, dtype=float),
        "planned_event": np.asarray(planned, dtype=bool),
    })


#              0  1  2  3  4  5  6  7  8  9
RATIO = [0, 5, 0, 5, 5, 5, 0, 0, 5, 0]
PLANNED = [0, 0, 0, 1, 1, 0, 0, 0, 0, 0]  # a launch over windows 3-4
NO_INCIDENT = pd.DataFrame(
    {"incident_id": ["I1"], "topic": ["a"], "started_at": [T0 + pd.Timedelta(hours=8)],
     "ended_at": [T0 + pd.Timedelta(hours=9)], "severity": [1]}
)


def test_mute_stands_the_plan_down_during_the_event_and_lists_what_it_muted():
    features = _features(RATIO, PLANNED)
    plain = evaluate(POLICY, features)
    assert plain.notifications["window_start"].dt.hour.tolist() == [1, 3, 8]
    muted = evaluate(POLICY, features, planned_events="mute")
    # window 3's page is muted; the episode still running when the launch ends pages at 5
    assert muted.notifications["window_start"].dt.hour.tolist() == [1, 5, 8]
    assert muted.muted["window_start"].dt.hour.tolist() == [3]
    assert muted.windows["tier"].tolist() == [0, 1, 0, 0, 0, 1, 0, 0, 1, 0]
    result = backtest(muted, NO_INCIDENT, max_early="0h")
    assert len(result.muted) == 1 and len(result.false_alerts) == 2
    assert "muted in planned events: 1 notifications (tier 1: 1)" in result.summary()
    assert result.to_dict()["muted"][0]["topic"] == "a"


def test_mark_sends_the_alerts_and_never_counts_them_false():
    features = _features(RATIO, PLANNED)
    marked = evaluate(POLICY, features, planned_events="mark")
    assert marked.notifications["planned_event"].tolist() == [False, True, False]
    result = backtest(marked, NO_INCIDENT, max_early="0h")
    assert result.false_alerts["window_start"].dt.hour.tolist() == [1]
    assert result.planned_alerts["window_start"].dt.hour.tolist() == [3]
    tier1 = result.tiers.set_index("tier").loc[1]
    assert tier1["notifications"] == 3 and tier1["false_notifications"] == 1
    plain = backtest(evaluate(POLICY, features), NO_INCIDENT, max_early="0h")
    assert len(plain.false_alerts) == 2  # without planned events: both false


def test_an_incident_during_a_marked_event_is_still_caught():
    features = _features(RATIO, PLANNED)
    during = NO_INCIDENT.assign(started_at=T0 + pd.Timedelta(hours=3),
                                ended_at=T0 + pd.Timedelta(hours=4))
    assert backtest(evaluate(POLICY, features, planned_events="mark"), during).recall == 1.0


def test_errors_are_one_line_and_actionable():
    with pytest.raises(PolicyError, match="'mute' or 'mark'"):
        evaluate(POLICY, _features(RATIO, PLANNED), planned_events="silence")
    with pytest.raises(DataLoadError, match="planned_event column"):
        evaluate(POLICY, _features(RATIO, PLANNED).drop(columns="planned_event"),
                 planned_events="mute")


def test_planned_events_come_from_build_features():
    from esc_analytics import build_features

    mentions = pd.DataFrame({
        "mention_id": [str(i) for i in range(6)],
        "created_at": pd.date_range(T0, periods=6, freq="30min"),
        "topic": "a", "text": "x", "sentiment": 0.0,
    })
    launches = pd.DataFrame({"topic": ["a"], "started_at": [T0 + pd.Timedelta(hours=1)],
                             "ended_at": [T0 + pd.Timedelta(minutes=90)]})
    features = build_features(mentions, freq="1h", planned_events=launches)
    assert features["planned_event"].tolist() == [False, True, False]


@pytest.mark.parametrize("mode", ["mute", "mark"])
def test_the_template_sweep_scores_planned_events_as_evaluate_does(mode):
    rng = np.random.default_rng(5)
    n = 80
    features = pd.concat([
        _features(np.round(rng.gamma(1.5, 1.5, n), 1), rng.random(n) < 0.2, topic)
        for topic in ("a", "b")
    ], ignore_index=True)
    incidents = pd.DataFrame({
        "incident_id": ["I1", "I2", "I3"], "topic": ["a", "b", "a"],
        "started_at": [T0 + pd.Timedelta(hours=h) for h in (10, 30, 60)],
        "ended_at": [T0 + pd.Timedelta(hours=h) for h in (13, 33, 62)], "severity": [1, 1, 1],
    })
    policy = Policy.from_dict({"tiers": [{"level": 1, "all": ["volume_ratio >= 3"], "for": 2,
                                          "cooldown": 1}]})
    costs = CostModel()
    prep = _prepare(features, incidents, MatchRules.of(max_early="3h"), costs, None)
    planned = prep.features["planned_event"].to_numpy(dtype=bool)
    prep = (dataclasses.replace(prep, muted_rows=planned) if mode == "mute"
            else dataclasses.replace(prep, in_window=prep.in_window | planned))
    param = _threshold_params(policy)["tier1__volume_ratio"]
    values = [1.0, 2.0, 3.0, 4.5, 6.0]
    table = sweep_threshold(prep, policy, param, values)
    for value, (_, row) in zip(values, table.iterrows(), strict=True):
        esc = evaluate(policy.set_params(tier1__volume_ratio=value), features,
                       planned_events=mode)
        result = backtest(esc, incidents, max_early="3h", costs=costs)
        tier1 = result.tiers.set_index("tier").loc[1]
        assert row["notifications_1"] == tier1["notifications"], value
        assert row["false_1"] == tier1["false_notifications"], value
        assert row["caught_1"] == tier1["caught"], value
