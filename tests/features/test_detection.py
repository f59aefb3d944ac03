"""Detection measures: past-only percentile rank and burst level, on demand in evaluate."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

import esc_analytics as esc
from esc_analytics import DataLoadError, Policy, PolicyError
from esc_analytics.features._detection import past_rank, trailing_mean

T0 = pd.Timestamp("2026-01-01", tz="UTC")


def _features(volume, topic="a", freq="1h") -> pd.DataFrame:
    step = pd.Timedelta(freq)
    return pd.DataFrame(
        {"topic": topic, "window_start": T0 + step * np.arange(len(volume)), "volume": volume}
    )


@pytest.mark.parametrize(
    ("values", "lookback", "gap", "history", "expected"),
    [
        # t=1 has one reference value (< history 2); t=2 is above [1, 2]; t=3 above [1, 2, 3]
        ([1, 2, 3, 4, 5], 3, 1, 2, [np.nan, np.nan, 1.0, 1.0, 1.0]),
        # below the whole reference: 0; ties count half
        ([5, 5, 5, 1, 5], 3, 1, 2, [np.nan, np.nan, 0.5, 0.0, 2 / 3]),
        # NaN values are left out of the reference and have no rank
        ([1, np.nan, 2, 3, np.nan], 2, 1, 1, [np.nan, np.nan, 1.0, 1.0, np.nan]),
        # the gap keeps the last `gap` values out: t=3 compares with x[0..1], t=4 with x[1..2]
        ([0, 0, 9, 9, 9], 2, 2, 1, [np.nan, np.nan, 1.0, 1.0, 0.75]),
    ],
)
def test_past_rank_hand_computed(values, lookback, gap, history, expected):
    got = past_rank(np.asarray(values, float), lookback=lookback, gap=gap, min_history=history)
    np.testing.assert_allclose(got, expected, equal_nan=True)


def test_trailing_mean_ignores_missing_values():
    np.testing.assert_allclose(
        trailing_mean(np.array([2.0, np.nan, 4.0, np.nan, np.nan, np.nan]), 3),
        [2.0, 2.0, 3.0, 4.0, 4.0, np.nan],
        equal_nan=True,
    )


def test_volume_rank_is_nan_for_the_first_day_then_defined():
    rank = esc.volume_rank(_features(np.arange(60.0)), freq="1h")
    # 24 hourly values (a day), the newest an hour before, before the first rank
    assert np.isnan(rank[:24]).all() and np.isfinite(rank[24:]).all()
    assert (rank[24:] == 1.0).all()  # a rising series is always at a four-week high


@settings(max_examples=40, deadline=None)
@given(
    st.lists(st.integers(0, 50), min_size=30, max_size=80),
    st.integers(1, 1000),
    st.integers(0, 79),
)
def test_volume_rank_is_past_only_and_scale_free(volume, scale, cut):
    base = esc.volume_rank(_features(np.asarray(volume, float)), freq="1h")
    scaled = esc.volume_rank(_features(np.asarray(volume, float) * scale), freq="1h")
    np.testing.assert_allclose(base, scaled, equal_nan=True)
    cut = min(cut, len(volume))
    changed = np.asarray(volume, float)
    changed[cut:] = 999.0  # the future changes
    later = esc.volume_rank(_features(changed), freq="1h")
    np.testing.assert_allclose(base[:cut], later[:cut], equal_nan=True)


def test_topics_never_share_a_reference():
    quiet = _features(np.zeros(48), topic="quiet")
    loud = _features(np.full(48, 100.0), topic="loud")
    both = pd.concat([loud, quiet], ignore_index=True)
    rank = esc.volume_rank(both, freq="1h")
    alone = esc.volume_rank(quiet, freq="1h")
    np.testing.assert_allclose(rank[48:], alone, equal_nan=True)
    assert np.nanmax(rank[48:]) == 0.5  # a flat topic never looks like a burst


def test_burst_level_is_the_calibrations_level_q99_7d_s3():
    rng = np.random.default_rng(1)
    features = _features(rng.poisson(5, 24 * 12).astype(float))
    added = esc.add_detection_measures(features)
    reference = esc.add_detection_features(features)["level_q99_7d_s3"]
    np.testing.assert_allclose(added["burst_level_7d"], reference, equal_nan=True)
    assert set(esc.add_detection_measures(features, ["volume_rank_28d"]).columns) == {
        *features.columns, "volume_rank_28d"
    }


def test_a_policy_on_a_detection_measure_evaluates_without_the_column():
    volume = np.r_[np.full(72, 10.0), [80, 90, 85], np.full(20, 10.0)]
    features = _features(volume)
    policy = Policy.from_yaml(
        "tiers:\n  - {level: 1, name: Watch, owner: CM, all: ['volume_rank_28d >= 0.99'],"
        " for: 2, refractory: 24}\n"
    )
    on_demand = esc.evaluate(policy, features)
    precomputed = esc.evaluate(policy, esc.add_detection_measures(features))
    pd.testing.assert_frame_equal(on_demand.windows, precomputed.windows)
    assert on_demand.notifications["window_start"].tolist() == [T0 + pd.Timedelta(hours=73)]


@pytest.mark.parametrize("name", ["volume_rank_28d", "burst_level_7d", "level_q995_10d_s2"])
def test_policies_may_name_detection_measures(name):
    policy = Policy.from_yaml(f"tiers:\n  - {{level: 1, name: a, owner: b, all: ['{name} > 0']}}\n")
    assert policy.features_used == (name,)


def test_unknown_measure_names_are_refused():
    with pytest.raises(PolicyError, match="unknown feature 'volume_rank_7days'"):
        Policy.from_yaml(
            "tiers:\n  - {level: 1, name: a, owner: b, all: ['volume_rank_7days > 0']}\n"
        )


def test_detection_measures_need_volume():
    with pytest.raises(DataLoadError, match="volume"):
        esc.add_detection_measures(pd.DataFrame({"topic": ["a"], "window_start": [T0]}))
