"""The readiness check before a fit, on the airline-shaped history and on edge cases."""

from __future__ import annotations

import math

import pandas as pd
import pytest
from airline_shaped import features, incidents

import esc_analytics as esc
from esc_analytics import DataLoadError
from esc_analytics._util.stats import wilson_interval


@pytest.fixture(scope="module")
def check() -> esc.HistoryCheck:
    return esc.check_history(features(), incidents())


def test_per_topic_table(check):
    topics = check.topics.set_index("topic")
    assert topics.loc["busy", "history_days"] == pytest.approx(8.0)
    assert topics.loc["late", "history_days"] == pytest.approx(2.0)
    assert topics.loc["late", "warm_up_windows"] == 24
    assert topics.loc["busy", "incidents"] == 3
    assert topics.loc["late", "incidents_in_warm_up"] == 1
    assert topics.loc["busy", "incidents_in_warm_up"] == 0
    assert topics.loc["quiet", "zero_baseline_share"] > 0.5


def test_findings_say_what_they_mean_for_the_fit(check):
    text = check.summary()
    assert check.ok
    assert "late: 2 d of history or less" in text and "prefer volume_rank_28d" in text
    assert "quiet: the baseline is 0 in" in text and "a handful of posts" in text
    assert "late: 1 incident(s) start in the topic's first day" in text
    # severity 2 or above: AIR-1 and AIR-3; severity 3: AIR-1 only
    assert check.severities["at_or_above"].tolist() == [5, 2, 1]
    assert "tier 3: only 1 incident(s)" in text and "Wilson" in text
    assert "tier 1:" not in text  # five incidents: no note


def test_nothing_to_fit_is_blocking():
    far = incidents().assign(started_at=pd.Timestamp("2020-01-01", tz="UTC"), ended_at=pd.NaT)
    result = esc.check_history(features(), far)
    assert not result.ok and "nothing to fit" in result.summary()
    other = incidents().assign(topic="nobody")
    assert "no incident falls on a topic" in esc.check_history(features(), other).summary()


def test_absent_measures_are_reported():
    series = features().loc[:, ["topic", "window_start", "volume"]]
    marked = esc.features_from_series(series)
    result = esc.check_history(marked, incidents())
    assert "negative_share" in result.absent_measures
    assert "negative_share: volume series do not carry it" in result.summary()


def test_bad_inputs():
    with pytest.raises(DataLoadError, match="volume"):
        esc.check_history(pd.DataFrame({"topic": ["a"]}), incidents())
    with pytest.raises(DataLoadError, match="empty"):
        esc.check_history(features().iloc[:0], incidents())


@pytest.mark.parametrize(
    ("k", "n", "low", "high"),
    [(0, 0, math.nan, math.nan), (0, 5, 0.0, 0.4345), (5, 5, 0.5655, 1.0), (1, 2, 0.0945, 0.9055)],
)
def test_wilson_interval(k, n, low, high):
    got = wilson_interval(k, n)
    if math.isnan(low):
        assert all(math.isnan(v) for v in got)
    else:
        assert got == pytest.approx((low, high), abs=1e-4)


def test_wilson_bounds_match_the_scalar_interval():
    import numpy as np

    from esc_analytics._util.stats import wilson_bounds

    k, n = np.array([0, 3, 5, 0]), np.array([5, 5, 5, 0])
    low, high = wilson_bounds(k, n)
    for i in range(3):
        assert (low[i], high[i]) == pytest.approx(wilson_interval(int(k[i]), int(n[i])))
    assert np.isnan(low[3]) and np.isnan(high[3])


def test_the_frontier_carries_recall_intervals():
    fit = esc.calibrate(features(), incidents(), n_tiers=1, objective="recall",
                        max_false_per_week=5)
    frontier = fit.frontier
    assert {"recall_low", "recall_high"} <= set(frontier.columns)
    ok = frontier["incidents"] > 0
    assert (frontier.loc[ok, "recall_low"] <= frontier.loc[ok, "recall"]).all()
    assert (frontier.loc[ok, "recall"] <= frontier.loc[ok, "recall_high"]).all()
