"""Backtest: hand-computed small cases for every metric, properties and an integration test."""

from __future__ import annotations

import json
import math

import numpy as np
import pandas as pd
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from esc_analytics import Escalations, nab_from_escalations
from esc_analytics._util.errors import DataLoadError, PolicyError
from esc_analytics.backtesting._backtest import OUTCOMES, BacktestResult, CostModel, backtest

FREQ = pd.Timedelta("1h")
GRID_START = pd.Timestamp("2024-01-01", tz="UTC")
GRID = pd.date_range(GRID_START, periods=24 * 14, freq=FREQ)  # exactly two weeks of hours


def T(text: str) -> pd.Timestamp:
    return pd.Timestamp(text, tz="UTC")


def make_escalations(alerts, topics=("a",)) -> Escalations:
    """Escalations over a two-week hourly grid per topic with the given notifications.

    ``alerts``: (topic, window_start, tier, episode_id). Windows carry the tier of their alert.
    """
    windows = pd.DataFrame(
        {
            "topic": np.repeat(list(topics), len(GRID)),
            "window_start": np.tile(GRID, len(topics)),
            "tier": 0,
            "escalation": 0,
        }
    )
    windows["window_start"] = pd.to_datetime(windows["window_start"], utc=True)
    notes = pd.DataFrame(alerts, columns=["topic", "window_start", "tier", "episode_id"])
    notes["window_start"] = pd.to_datetime(notes["window_start"], utc=True)
    notes["alerted_at"] = notes["window_start"] + FREQ
    for n in notes.itertuples():
        hit = (windows["topic"] == n.topic) & (windows["window_start"] == n.window_start)
        windows.loc[hit, ["tier", "escalation"]] = [n.tier, 1]
    episodes = (
        notes.groupby("episode_id", as_index=False)
        .agg(
            topic=("topic", "first"),
            tier=("tier", "max"),
            started_at=("window_start", "min"),
            ended_at=("alerted_at", "max"),
        )
        .loc[:, ["episode_id", "topic", "tier", "started_at", "ended_at"]]
    )
    return Escalations(windows, episodes, notes, FREQ)


def make_incidents(rows) -> pd.DataFrame:
    """rows: dicts with incident_id, started_at, severity and optional other columns."""
    frame = pd.DataFrame(rows)
    if "topic" not in frame:
        frame["topic"] = "a"
    frame["topic"] = frame["topic"].fillna("a")
    for col in ("started_at", "ended_at", "detected_at", "escalated_at"):
        if col in frame:
            frame[col] = pd.to_datetime(frame[col], utc=True)
    return frame


def one(result: BacktestResult, incident_id: str) -> pd.Series:
    return result.incidents.set_index("incident_id").loc[incident_id]


# ----------------------------------------------------------------------------- matching
@pytest.mark.parametrize(
    ("alert_window", "max_early", "caught"),
    [
        ("2024-01-05 00:00", "24h", True),  # alerted 01:00, 11 h before the start
        ("2024-01-04 12:00", "24h", True),  # alerted 13:00, 23 h before
        ("2024-01-04 11:00", "24h", False),  # alerted 12:00, exactly 24 h before: too early
        ("2024-01-05 00:00", "6h", False),  # 11 h early is beyond 6 h
        ("2024-01-05 12:00", "0h", True),  # the window starting with the incident
        ("2024-01-05 14:00", "0h", True),  # the window holding the end (ended 14:30)
        ("2024-01-05 15:00", "0h", False),  # after the end
    ],
)
def test_alert_matching_interval(alert_window, max_early, caught):
    esc = make_escalations([("a", alert_window, 1, "e")])
    inc = make_incidents(
        [
            {
                "incident_id": "i",
                "started_at": "2024-01-05 12:00",
                "ended_at": "2024-01-05 14:30",
                "severity": 1,
            }
        ]
    )
    res = backtest(esc, inc, max_early=max_early)
    row = one(res, "i")
    assert bool(row["caught"]) is caught
    assert len(res.false_alerts) == (0 if caught else 1)
    assert res.tiers.loc[0, "precision"] == (1.0 if caught else 0.0)


def test_window_just_before_start_with_zero_early_is_excluded():
    # Window 11:00-12:00 is alerted at 12:00 = started_at: the match needs alerted_at > start.
    esc = make_escalations([("a", "2024-01-05 11:00", 1, "e")])
    inc = make_incidents(
        [
            {
                "incident_id": "i",
                "started_at": "2024-01-05 12:00",
                "ended_at": "2024-01-05 14:00",
                "severity": 1,
            }
        ]
    )
    assert not one(backtest(esc, inc, max_early="0h"), "i")["caught"]
    assert one(backtest(esc, inc, max_early="1h"), "i")["caught"]


def test_alert_before_the_incident_gives_positive_lead_and_negative_delay():
    esc = make_escalations([("a", "2024-01-05 00:00", 1, "e")])
    inc = make_incidents(
        [
            {
                "incident_id": "i",
                "started_at": "2024-01-05 12:00",
                "ended_at": "2024-01-05 14:00",
                "detected_at": "2024-01-05 15:00",
                "severity": 1,
            }
        ]
    )
    row = one(backtest(esc, inc), "i")
    assert row["first_alert_at"] == T("2024-01-05 01:00")  # when the window closes
    assert row["detection_delay"] == pd.Timedelta(hours=-11)
    assert row["lead_time"] == pd.Timedelta(hours=14)
    assert row["outcome"] == "exact"


@pytest.mark.parametrize(
    ("detected_at", "escalated_at", "lead", "escalation_lead"),
    [
        ("2024-01-05 18:00", "2024-01-05 20:00", pd.Timedelta(hours=5), pd.Timedelta(hours=7)),
        (None, "2024-01-05 20:00", pd.Timedelta(hours=7), pd.Timedelta(hours=7)),
        (None, None, pd.NaT, pd.NaT),
    ],
)
def test_lead_time_uses_detected_else_escalated_else_nat(
    detected_at, escalated_at, lead, escalation_lead
):
    esc = make_escalations([("a", "2024-01-05 12:00", 1, "e")])  # alerted 13:00
    inc = make_incidents(
        [
            {
                "incident_id": "i",
                "started_at": "2024-01-05 12:00",
                "ended_at": "2024-01-06 00:00",
                "severity": 1,
                "detected_at": detected_at,
                "escalated_at": escalated_at,
            }
        ]
    )
    res = backtest(esc, inc)
    row = one(res, "i")
    assert bool(row["caught"])  # caught whatever the team's own times
    assert (pd.isna(row["lead_time"]) and pd.isna(lead)) or row["lead_time"] == lead
    assert (pd.isna(row["escalation_lead_time"]) and pd.isna(escalation_lead)) or (
        row["escalation_lead_time"] == escalation_lead
    )


def test_two_alerts_in_one_incident_both_counted_as_notifications():
    esc = make_escalations([("a", "2024-01-05 12:00", 1, "e"), ("a", "2024-01-05 13:00", 2, "e")])
    inc = make_incidents(
        [
            {
                "incident_id": "i",
                "started_at": "2024-01-05 12:00",
                "ended_at": "2024-01-05 18:00",
                "severity": 2,
            }
        ]
    )
    res = backtest(esc, inc)
    row = one(res, "i")
    assert row["notifications"] == 2
    assert row["tier_reached"] == 2
    assert row["first_alert_at"] == T("2024-01-05 13:00")
    assert row["first_alert_tier"] == 1
    assert row["first_alert_at_severity"] == T("2024-01-05 14:00")
    assert row["detection_delay_at_severity"] == pd.Timedelta(hours=2)
    assert res.tiers["notifications"].tolist() == [1, 1]
    assert res.tiers["false_notifications"].tolist() == [0, 0]
    assert len(res.false_alerts) == 0


def test_an_alert_raised_during_one_incident_is_not_early_for_the_next():
    """One alert (window 13:00, sent 14:00) while i1 runs: it belongs to i1; i2, starting
    at 14:00, is not 'caught' by it (an early alert counts only when nothing else runs)."""
    esc = make_escalations([("a", "2024-01-05 13:00", 1, "e")])
    inc = make_incidents(
        [
            {
                "incident_id": "i1",
                "started_at": "2024-01-05 12:00",
                "ended_at": "2024-01-05 16:00",
                "severity": 1,
            },
            {
                "incident_id": "i2",
                "started_at": "2024-01-05 14:00",
                "ended_at": "2024-01-05 20:00",
                "severity": 1,
            },
        ]
    )
    res = backtest(esc, inc)
    assert res.incidents["caught"].tolist() == [True, False]
    assert res.tiers.loc[
        0, ["incidents", "caught", "notifications", "true_notifications"]
    ].tolist() == [2, 1, 1, 1]
    assert one(res, "i1")["detection_delay"] == pd.Timedelta(hours=2)


def test_missing_end_uses_24h_or_max_delay():
    esc = make_escalations([("a", "2024-01-06 06:00", 1, "e")])  # 18 h after the start
    inc = make_incidents(
        [{"incident_id": "i", "started_at": "2024-01-05 12:00", "severity": 1, "ended_at": None}]
    )
    assert one(backtest(esc, inc), "i")["caught"]  # open incident: 24 h
    assert not one(backtest(esc, inc, max_delay="12h"), "i")["caught"]
    # max_delay overrides a known end too.
    inc2 = inc.assign(ended_at=pd.Timestamp("2024-01-05 13:00", tz="UTC"))
    assert not one(backtest(esc, inc2), "i")["caught"]
    assert one(backtest(esc, inc2, max_delay="20h"), "i")["caught"]


# ----------------------------------------------------------------------------- tiers, matrix
@pytest.mark.parametrize(
    ("severity", "alert_tier", "outcome", "at_severity"),
    [
        (3, 1, "under", False),
        (3, 3, "exact", True),
        (1, 3, "over", True),
        (2, 0, "missed", False),
    ],
)
def test_under_and_over_escalation(severity, alert_tier, outcome, at_severity):
    alerts = [("a", "2024-01-05 12:00", alert_tier, "e")] if alert_tier else []
    esc = make_escalations(alerts)
    inc = make_incidents(
        [
            {
                "incident_id": "i",
                "started_at": "2024-01-05 12:00",
                "ended_at": "2024-01-05 14:00",
                "severity": severity,
            }
        ]
    )
    res = backtest(esc, inc)
    row = one(res, "i")
    assert row["outcome"] == outcome
    assert bool(row["caught_at_severity"]) is at_severity
    assert res.matrix.loc[severity, alert_tier] == 1
    assert int(res.matrix.to_numpy().sum()) == 1
    # Recall at tier k: 1 for k <= tier reached, 0 above it, up to the severity.
    for tier_row in res.tiers.itertuples():
        if tier_row.tier <= severity:
            assert tier_row.recall == (1.0 if alert_tier >= tier_row.tier else 0.0)
        else:
            assert math.isnan(tier_row.recall)


def test_recall_precision_and_false_per_week_arithmetic():
    alerts = [
        ("a", "2024-01-02 10:00", 1, "e1"),  # catches i1 (sev 1)
        ("a", "2024-01-03 10:00", 1, "e2"),  # false
        ("a", "2024-01-04 10:00", 1, "e3"),  # false
        ("a", "2024-01-09 10:00", 2, "e4"),  # catches i2 (sev 2)
        ("a", "2024-01-12 10:00", 2, "e5"),  # false
    ]
    esc = make_escalations(alerts)
    inc = make_incidents(
        [
            {
                "incident_id": "i1",
                "started_at": "2024-01-02 10:00",
                "ended_at": "2024-01-02 12:00",
                "severity": 1,
            },
            {
                "incident_id": "i2",
                "started_at": "2024-01-09 10:00",
                "ended_at": "2024-01-09 12:00",
                "severity": 2,
            },
            {
                "incident_id": "i3",
                "started_at": "2024-01-13 10:00",
                "ended_at": "2024-01-13 12:00",
                "severity": 3,
            },
        ]
    )
    res = backtest(esc, inc, max_early="2h")
    assert res.weeks == pytest.approx(2.0)
    t = res.tiers.set_index("tier")
    # Tier 1: incidents of severity >= 1 = 3; caught at tier >= 1 = 2.
    assert t.loc[1, ["incidents", "caught"]].tolist() == [3, 2]
    assert t.loc[2, ["incidents", "caught"]].tolist() == [2, 1]
    assert t.loc[3, ["incidents", "caught"]].tolist() == [1, 0]
    assert t["recall"].tolist() == pytest.approx([2 / 3, 1 / 2, 0.0])
    assert t["notifications"].tolist() == [3, 2, 0]
    assert t["false_notifications"].tolist() == [2, 1, 0]
    assert t.loc[1, "precision"] == pytest.approx(1 / 3)
    assert t.loc[2, "precision"] == pytest.approx(1 / 2)
    assert math.isnan(t.loc[3, "precision"])
    assert t["false_per_week"].tolist() == pytest.approx([1.0, 0.5, 0.0])
    assert t["false_episodes"].tolist() == [2, 1, 0]
    assert res.false_per_week == pytest.approx(1.5)
    assert res.recall == pytest.approx(2 / 3)
    # The same over the first week only.
    week1 = backtest(esc, inc, max_early="2h", period=("2024-01-01", "2024-01-08"))
    assert week1.weeks == pytest.approx(1.0)
    assert week1.incidents["incident_id"].tolist() == ["i1"]
    assert week1.tiers.set_index("tier").loc[1, "false_per_week"] == pytest.approx(2.0)


def test_period_alert_on_an_incident_ongoing_at_the_period_start_is_not_false():
    # i0 starts before the period and is still going on at 02:00 on the 8th, when a tier-1
    # alert fires: i0 is not scored in the period, but that alert is not a false alarm. The
    # alert on the 10th matches nothing: false.
    alerts = [("a", "2024-01-08 02:00", 1, "e1"), ("a", "2024-01-10 02:00", 1, "e2")]
    inc = make_incidents(
        [
            {
                "incident_id": "i0",
                "started_at": "2024-01-07 20:00",
                "ended_at": "2024-01-08 06:00",
                "severity": 1,
            }
        ]
    )
    res = backtest(make_escalations(alerts), inc, period=("2024-01-08", "2024-01-15"))
    assert res.incidents["incident_id"].tolist() == []
    assert res.false_alerts["window_start"].tolist() == [T("2024-01-10 02:00")]
    tier1 = res.tiers.set_index("tier").loc[1]
    assert (tier1["true_notifications"], tier1["false_notifications"]) == (1, 1)
    assert tier1["false_per_week"] == pytest.approx(1.0)


def test_median_detection_delay_per_tier_and_tiers_that_caught_nothing():
    # i1 (sev 2): tier-1 alert 2 h after the start, tier-2 alert 5 h after it.
    # i2 (sev 2): tier-1 alert 4 h after the start; no tier-2 alert. Tier 3 catches nothing.
    alerts = [
        ("a", "2024-01-02 11:00", 1, "e1"),
        ("a", "2024-01-02 14:00", 2, "e1"),
        ("a", "2024-01-05 13:00", 1, "e2"),
    ]
    inc = make_incidents(
        [
            {
                "incident_id": "i1",
                "started_at": "2024-01-02 10:00",
                "ended_at": "2024-01-02 18:00",
                "severity": 2,
            },
            {
                "incident_id": "i2",
                "started_at": "2024-01-05 10:00",
                "ended_at": "2024-01-05 18:00",
                "severity": 3,
            },
        ]
    )
    res = backtest(make_escalations(alerts), inc, max_early="0h")
    delay = res.tiers.set_index("tier")["median_detection_delay"]
    assert res.tiers["median_detection_delay"].dtype == "timedelta64[ns]"
    # alerted_at = window end: tier >= 1 first alerts at +2 h and +4 h (median 3 h);
    # tier >= 2 only i1 at +5 h; tier 3 nothing.
    assert delay[1] == pd.Timedelta("3h")
    assert delay[2] == pd.Timedelta("5h")
    assert pd.isna(delay[3])
    # No alert at all (a held-out topic nothing fired on): every tier NaT, summary still renders.
    quiet = backtest(make_escalations([]), inc)
    assert quiet.tiers["median_detection_delay"].dtype == "timedelta64[ns]"
    assert quiet.tiers["median_detection_delay"].isna().all()
    assert "median detection delay: -" in quiet.summary()


def test_median_of_durations_tolerates_untyped_missing_values():
    from esc_analytics.backtesting._backtest import _median_td

    assert pd.isna(_median_td(pd.Series([pd.NaT, pd.NaT])))  # inferred as datetime64
    assert pd.isna(_median_td(pd.Series([], dtype=object)))
    assert _median_td(pd.Series([pd.Timedelta("1h"), pd.NaT, pd.Timedelta("3h")])) == pd.Timedelta(
        "2h"
    )


def test_cost_arithmetic():
    costs = CostModel(
        miss={1: 2.0, 2: 10.0, 3: 50.0}, false_alarm={1: 0.5, 3: 4.0}, late_per_hour=1.0
    )
    alerts = [
        ("a", "2024-01-02 13:00", 1, "e1"),  # i1 (sev 3) only at tier 1: under
        ("a", "2024-01-05 14:00", 2, "e2"),  # i2 (sev 2) at severity, 3 h late (alerted 15:00)
        ("a", "2024-01-07 00:00", 1, "e3"),  # false, tier 1: 0.5
        ("a", "2024-01-08 00:00", 2, "e4"),  # false, tier 2 (no entry -> tier 1's 0.5)
        ("a", "2024-01-09 00:00", 3, "e5"),  # false, tier 3: 4
    ]
    esc = make_escalations(alerts)
    inc = make_incidents(
        [
            {
                "incident_id": "i1",
                "started_at": "2024-01-02 12:00",
                "ended_at": "2024-01-02 18:00",
                "severity": 3,
            },
            {
                "incident_id": "i2",
                "started_at": "2024-01-05 12:00",
                "ended_at": "2024-01-05 18:00",
                "severity": 2,
            },
            {
                "incident_id": "i3",
                "started_at": "2024-01-11 12:00",
                "ended_at": "2024-01-11 18:00",
                "severity": 1,
            },  # missed
        ]
    )
    res = backtest(esc, inc, max_early="1h", costs=costs)
    assert res.cost_breakdown["under_escalated"] == pytest.approx(50.0 - 2.0)
    assert res.cost_breakdown["late"] == pytest.approx(3.0)
    assert res.cost_breakdown["missed"] == pytest.approx(2.0)
    assert res.cost_breakdown["false_alarms"] == pytest.approx(0.5 + 0.5 + 4.0)
    assert res.cost == pytest.approx(48.0 + 3.0 + 2.0 + 5.0)
    assert res.cost_breakdown["per_week"] == pytest.approx(58.0 / 2)
    assert one(res, "i1")["cost"] == pytest.approx(48.0)
    assert one(res, "i2")["cost"] == pytest.approx(3.0)


def test_cost_model_validation():
    with pytest.raises(PolicyError, match=r"costs\.miss"):
        CostModel(miss={0: 1.0})
    with pytest.raises(PolicyError, match=r"costs\.false_alarm"):
        CostModel(false_alarm={1: -1.0})
    assert CostModel(miss=3.0).miss_cost(np.array([1, 2, 3])).tolist() == [3.0, 3.0, 3.0]


# ----------------------------------------------------------------------------- evaluation scope
def test_incidents_not_covered_are_reported_not_missed():
    esc = make_escalations([])
    inc = make_incidents(
        [
            {"incident_id": "elsewhere", "topic": "b", "started_at": "2024-01-05", "severity": 1},
            {
                "incident_id": "before",
                "started_at": "2023-06-01",
                "ended_at": "2023-06-02",
                "severity": 1,
            },
            {
                "incident_id": "inside",
                "started_at": "2024-01-05",
                "ended_at": "2024-01-06",
                "severity": 1,
            },
        ]
    )
    res = backtest(esc, inc)
    by_id = res.incidents.set_index("incident_id")
    assert by_id["outcome"].to_dict() == {
        "before": "not_evaluated",
        "elsewhere": "not_evaluated",
        "inside": "missed",
    }
    assert by_id.loc["elsewhere", "not_evaluated_reason"] == "topic not in escalations"
    assert res.tiers.loc[0, "incidents"] == 1
    assert int(res.matrix.to_numpy().sum()) == 1
    assert res.cost_breakdown["missed"] == pytest.approx(CostModel().miss[1])
    assert set(res.incidents["outcome"]) <= set(OUTCOMES)


def test_alerts_of_another_topic_do_not_match():
    esc = make_escalations([("b", "2024-01-05 12:00", 1, "e")], topics=("a", "b"))
    inc = make_incidents(
        [
            {
                "incident_id": "i",
                "topic": "a",
                "started_at": "2024-01-05 12:00",
                "ended_at": "2024-01-05 14:00",
                "severity": 1,
            }
        ]
    )
    res = backtest(esc, inc)
    assert not one(res, "i")["caught"]
    assert len(res.false_alerts) == 1


# ----------------------------------------------------------------------------- validation
@pytest.mark.parametrize(
    ("frame", "error", "match"),
    [
        (pd.DataFrame({"incident_id": ["x"], "topic": ["a"]}), DataLoadError, "started_at"),
        (
            make_incidents([{"incident_id": "x", "started_at": "2024-01-05", "severity": "huge"}]),
            DataLoadError,
            "severity",
        ),
        (
            make_incidents([{"incident_id": "x", "started_at": "2024-01-05", "severity": 0}]),
            DataLoadError,
            "severity",
        ),
    ],
)
def test_bad_incidents_raise_actionable_errors(frame, error, match):
    with pytest.raises(error, match=match):
        backtest(make_escalations([]), frame)


@pytest.mark.parametrize(
    ("kwargs", "key"),
    [
        ({"max_early": "soon"}, "max_early"),
        ({"max_delay": "-1h"}, "max_delay"),
        ({"nab_profile": "nope"}, "nab_profile"),
        ({"period": ("2024-01-05", "2024-01-01")}, "period"),
    ],
)
def test_bad_parameters_raise_policy_errors_naming_the_key(kwargs, key):
    inc = make_incidents([{"incident_id": "x", "started_at": "2024-01-05", "severity": 1}])
    with pytest.raises(PolicyError, match=key):
        backtest(make_escalations([]), inc, **kwargs)


def test_severity_labels_and_naive_times_are_accepted():
    esc = make_escalations([("a", "2024-01-05 12:00", 3, "e")])
    inc = pd.DataFrame(
        {
            "incident_id": [1],
            "topic": ["a"],
            "severity": ["Critical"],
            "started_at": ["2024-01-05 12:00"],
            "ended_at": ["2024-01-05 14:00"],
        }
    )
    row = backtest(esc, inc).incidents.iloc[0]
    assert row["severity"] == 3 and row["outcome"] == "exact" and row["incident_id"] == "1"
    assert row["started_at"] == T("2024-01-05 12:00")


# ----------------------------------------------------------------------------- outputs
def test_summary_to_dict_and_nab():
    esc = make_escalations([("a", "2024-01-05 12:00", 1, "e1"), ("a", "2024-01-09 00:00", 2, "e2")])
    inc = make_incidents(
        [
            {
                "incident_id": "i",
                "started_at": "2024-01-05 12:00",
                "ended_at": "2024-01-05 14:00",
                "detected_at": "2024-01-05 16:00",
                "severity": 1,
            }
        ]
    )
    res = backtest(esc, inc, nab_profile="standard")
    text = res.summary()
    assert "1 incidents evaluated" in text and "caught 1, missed 0" in text
    assert "median lead time vs the team: 3 h" in text
    assert "false notifications: 1 (0.50/week)" in text
    payload = json.loads(json.dumps(res.to_dict()))
    assert payload["incidents"][0]["lead_time_hours"] == pytest.approx(3.0)
    assert payload["tiers"][1]["false_per_week"] == pytest.approx(0.5)
    assert payload["matrix"]["severity_1"] == {"0": 0, "1": 1, "2": 0}
    expected = nab_from_escalations(esc, inc.assign(ended_at=inc["ended_at"]))
    assert res.nab["score"] == pytest.approx(expected.normalised)
    frame = res.to_frame()
    frame.loc[0, "caught"] = False  # a copy: the result is unchanged
    assert res.incidents.loc[0, "caught"]


# ----------------------------------------------------------------------------- properties
_HOURS = st.integers(0, len(GRID) - 1)


@settings(max_examples=30, deadline=None)
@given(
    st.lists(
        st.tuples(_HOURS, st.integers(1, 3)), min_size=0, max_size=12, unique_by=lambda t: t[0]
    ),
    st.lists(st.tuples(_HOURS, st.integers(1, 30), st.integers(1, 3)), min_size=1, max_size=6),
    st.data(),
)
def test_more_alerts_never_catch_less(alerts, incidents, data):
    keep = data.draw(st.lists(st.booleans(), min_size=len(alerts), max_size=len(alerts)))
    rows = [
        {
            "incident_id": f"i{k}",
            "started_at": GRID[h],
            "ended_at": GRID[h] + pd.Timedelta(hours=d),
            "severity": s,
        }
        for k, (h, d, s) in enumerate(incidents)
    ]
    inc = make_incidents(rows)
    full = [("a", GRID[h], t, f"e{h}") for h, t in alerts]
    subset = [a for a, k in zip(full, keep, strict=True) if k]
    big, small = backtest(make_escalations(full), inc), backtest(make_escalations(subset), inc)
    assert (big.incidents["tier_reached"] >= small.incidents["tier_reached"]).all()
    caught_big = big.tiers.set_index("tier")["caught"]
    caught_small = small.tiers.set_index("tier")["caught"].reindex(caught_big.index, fill_value=0)
    assert (caught_big >= caught_small).all()
    # Every notification is either true or false, and false ones are listed.
    assert int(big.tiers["notifications"].sum()) == len(full)
    assert int(big.tiers["false_notifications"].sum()) == len(big.false_alerts)
    assert int(big.matrix.to_numpy().sum()) == len(inc)


# ----------------------------------------------------------------------------- integration
def test_integration_with_escalations_from_tiers():
    from esc_analytics.escalations import _evaluate as evaluate

    tiers = np.zeros(len(GRID), dtype=np.int64)
    tiers[100:103] = 1  # episode 1 at tier 1, rising to 2 for one window
    tiers[102] = 2
    tiers[200:202] = 1  # episode 2: false
    frame = pd.DataFrame({"topic": "a", "window_start": GRID, "tier": tiers})
    esc = evaluate.escalations_from_tiers(frame, freq=FREQ)
    inc = make_incidents(
        [
            {
                "incident_id": "i",
                "started_at": GRID[101],
                "ended_at": GRID[105],
                "detected_at": GRID[110],
                "severity": 2,
            }
        ]
    )
    res = backtest(esc, inc, max_early="1h")
    row = one(res, "i")
    assert row["tier_reached"] == 2 and row["outcome"] == "exact"
    assert row["first_alert_at"] == GRID[101]  # window 100 closes at GRID[101]
    assert row["lead_time"] == pd.Timedelta(hours=9)
    assert res.tiers["notifications"].tolist() == [2, 1]
    assert res.tiers["false_notifications"].tolist() == [1, 0]


# ----------------------------------------------------------------------------- figures
def test_plots_show_the_result_figures():
    esc = make_escalations([("a", "2024-01-05 12:00", 1, "e1"), ("a", "2024-01-09 00:00", 2, "e2")])
    inc = make_incidents(
        [
            {
                "incident_id": "i",
                "started_at": "2024-01-05 12:00",
                "ended_at": "2024-01-05 14:00",
                "detected_at": "2024-01-05 16:00",
                "severity": 1,
            },
            {
                "incident_id": "j",
                "started_at": "2024-01-11 12:00",
                "ended_at": "2024-01-11 14:00",
                "severity": 2,
            },
        ]
    )
    res = backtest(esc, inc)
    lead = res.plot()
    bars = [t for t in lead.data if t.type == "bar"]
    assert [list(b.y) for b in bars] == [[pytest.approx(3.0)]]  # 16:00 - 13:00
    assert [t.name for t in lead.data] == ["caught at its severity", "missed"]
    tiers = res.plot(kind="tiers")
    assert list(tiers.data[0].y) == pytest.approx([0.5, 0.0])  # recall per tier
    assert list(tiers.data[1].y) == pytest.approx([0.0, 0.5])  # false per week
    matrix = res.plot(kind="matrix")
    assert matrix.data[0].z.tolist() == res.matrix.to_numpy().tolist()
    with pytest.raises(ValueError, match="kind"):
        res.plot(kind="pie")


def test_lead_time_plot_escapes_incident_ids_and_topics():
    # Incident ids and topics come from users' files; plotly renders <a>/<b> in tick labels.
    hostile = '<a href="https://evil.example">x</a>'
    esc = make_escalations([("<b>t</b>", "2024-01-05 12:00", 1, "e1")], topics=("<b>t</b>",))
    inc = make_incidents(
        [
            {
                "incident_id": hostile,
                "topic": "<b>t</b>",
                "started_at": "2024-01-05 12:00",
                "ended_at": "2024-01-05 14:00",
                "severity": 1,
            },
            {
                "incident_id": "j",
                "topic": "<b>t</b>",
                "started_at": "2024-01-11 12:00",
                "ended_at": "2024-01-11 14:00",
                "severity": 1,
            },
        ]
    )
    fig = backtest(esc, inc).plot()
    shown = [str(x) for trace in fig.data for x in trace.x]
    assert shown == [
        '&lt;a href="https://evil.example"&gt;x&lt;/a&gt; · &lt;b&gt;t&lt;/b&gt;',
        "j · &lt;b&gt;t&lt;/b&gt;",
    ]


# ----------------------------------------------------------------------------- real data
def test_real_nab_windows_as_incidents(nab_dir):
    """Alerts at each labelled window's first row: every incident caught at 0 delay and the
    backtest's NAB score is 100; dropping one file's alerts leaves its windows missed."""
    labels = json.loads((nab_dir / "anomaly_windows.json").read_text())
    windows, alerts, incidents = [], [], []
    for name, wins in sorted(labels.items()):
        topic = name.removesuffix(".csv")
        ts = pd.to_datetime(pd.read_csv(nab_dir / name, usecols=["timestamp"])["timestamp"])
        ts = ts.dt.tz_localize("UTC")
        windows.append(
            pd.DataFrame({"topic": topic, "window_start": ts, "tier": 0, "escalation": 0})
        )
        for k, w in enumerate(wins):
            start = pd.Timestamp(w["start"], tz="UTC")
            incidents.append(
                {
                    "incident_id": f"{topic}-{k}",
                    "topic": topic,
                    "severity": 1,
                    "started_at": start,
                    "ended_at": pd.Timestamp(w["end"], tz="UTC"),
                }
            )
            alerts.append(
                {"topic": topic, "window_start": start, "tier": 1, "episode_id": f"{topic}-{k}"}
            )
    freq = pd.Timedelta("5min")
    notes = pd.DataFrame(alerts)
    notes["alerted_at"] = notes["window_start"] + freq
    episodes = notes.assign(started_at=notes["window_start"], ended_at=notes["alerted_at"])
    esc = Escalations(pd.concat(windows, ignore_index=True), episodes, notes, freq)
    inc = pd.DataFrame(incidents)
    res = backtest(esc, inc, max_early="0h", nab_profile="standard")
    assert res.incidents["caught"].all() and len(res.incidents) == 17
    assert (res.incidents["detection_delay"] == freq).all()  # the window closes 5 min later
    assert res.nab["score"] == pytest.approx(100.0)
    assert res.false_alerts.empty
    fewer = Escalations(esc.windows, episodes, notes[notes["topic"] != "Twitter_volume_UPS"], freq)
    res2 = backtest(fewer, inc, max_early="0h", nab_profile="standard")
    assert int((~res2.incidents["caught"]).sum()) == 5  # UPS has five windows
    # raw = 12 windows hit - 5 missed = 7; null = -17, perfect = 17.
    assert res2.nab["score"] == pytest.approx(100.0 * (7 + 17) / 34)
