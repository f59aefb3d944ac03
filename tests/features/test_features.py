"""Features: hand-computed measures, empty windows, past-only baselines, planned events."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

import esc_analytics as esc
from esc_analytics import DataLoadError
from esc_analytics._util.schema import FEATURE_BASELINES, FEATURE_KEYS, FEATURE_MEASURES
from esc_analytics.features import (
    add_baselines,
    aggregate_mentions,
    build_features,
    features_from_series,
    rolling_negative_share,
    topic_overview,
    window_length,
)


def _utc(*stamps: str) -> pd.Series:
    return pd.Series(pd.to_datetime(list(stamps), utc=True, format="ISO8601"))


@pytest.fixture
def seven_mentions() -> pd.DataFrame:
    """7 mentions over 3 hours, 2 topics (expected counts written by hand in the tests)."""
    return pd.DataFrame(
        {
            "mention_id": list("abcdefg"),
            "created_at": _utc(
                "2024-01-01 00:10",
                "2024-01-01 00:50",
                "2024-01-01 02:05",
                "2024-01-01 00:20",
                "2024-01-01 00:30",
                "2024-01-01 02:59",
                "2024-01-01 02:00",
            ),
            "topic": ["A", "A", "A", "B", "B", "B", "B"],
            "author": ["x", "x", "y", "u", None, "v", "v"],
            "author_followers": [10, 20_000, None, 5, 5, 5, 5],
            "sentiment": [-0.5, 0.1, -0.05, np.nan, -1.0, 0.0, 0.0],
            "engagement": [1, 2, 3, 4, 5, 6, 7],
            "is_verified": [False, False, False, True, False, False, None],
        }
    )


def test_hand_computed_measures(seven_mentions: pd.DataFrame) -> None:
    counts = aggregate_mentions(seven_mentions, freq="1h")
    assert list(counts.columns) == [*FEATURE_KEYS, *FEATURE_MEASURES]
    assert counts["topic"].tolist() == ["A"] * 3 + ["B"] * 3
    starts = pd.date_range("2024-01-01", periods=3, freq="h", tz="UTC")
    assert counts["window_start"].tolist() == list(starts) * 2
    # A: 00h {a: -0.5, 10 fol, x; b: 0.1, 20000 fol, x}; 01h empty; 02h {c: -0.05 (negative), y}
    # B: 00h {d: verified, u; e: -1, no author}; 01h empty; 02h {f, g: both author v}
    expected = {
        "volume": [2, 0, 1, 2, 0, 2],
        "negative_volume": [1, 0, 1, 1, 0, 0],
        "negative_share": [0.5, 0.0, 1.0, 0.5, 0.0, 0.0],
        "unique_authors": [1, 0, 1, 1, 0, 1],
        "reach": [20_010.0, 0.0, 0.0, 10.0, 0.0, 10.0],
        "engagement": [3.0, 0.0, 3.0, 9.0, 0.0, 13.0],
        "influencer_mentions": [1, 0, 0, 1, 0, 0],
    }
    for column, values in expected.items():
        assert counts[column].tolist() == values, column


def test_influencer_bar_is_settable(seven_mentions: pd.DataFrame) -> None:
    counts = aggregate_mentions(seven_mentions, influencer_followers=5)
    # every author with >= 5 followers: a(10), b, d, e, f, g ; c has none
    assert counts["influencer_mentions"].tolist() == [2, 0, 0, 2, 0, 2]


def test_absent_columns_give_zero_measures() -> None:
    mentions = pd.DataFrame(
        {"created_at": _utc("2024-01-01 00:00", "2024-01-01 02:30"), "topic": ["t", "t"]}
    )
    counts = aggregate_mentions(mentions)
    assert counts["volume"].tolist() == [1, 0, 1]
    for column in FEATURE_MEASURES[1:]:
        assert counts[column].eq(0).all(), column


def test_every_topic_spans_the_global_grid() -> None:
    mentions = pd.DataFrame(
        {
            "created_at": _utc("2024-01-01 00:01", "2024-01-01 00:07", "2024-01-01 00:16"),
            "topic": ["early", "late", "late"],
        }
    )
    counts = aggregate_mentions(mentions, freq="5min")
    assert counts.groupby("topic")["window_start"].apply(list).to_dict() == {
        t: list(pd.date_range("2024-01-01", periods=4, freq="5min", tz="UTC"))
        for t in ("early", "late")
    }
    assert counts["volume"].tolist() == [1, 0, 0, 0, 0, 1, 0, 1]


def test_windows_floor_from_the_epoch_like_pandas() -> None:
    times = _utc("2024-03-05 10:59:59.999", "2024-03-05 11:00", "2024-03-05 11:44:59")
    counts = aggregate_mentions(pd.DataFrame({"created_at": times, "topic": "t"}), freq="45min")
    assert counts["window_start"].iloc[0] == times.iloc[0].floor("45min")
    assert counts["volume"].sum() == 3


@pytest.mark.parametrize("freq", ["1h", "5min", pd.Timedelta("2h"), "1D", "90s"])
def test_window_length_accepts_fixed_lengths(freq: object) -> None:
    assert window_length(freq) == pd.Timedelta(freq)


@pytest.mark.parametrize("freq", ["soon", "0h", "-1h", "1ms", "MS", None])
def test_window_length_rejects_bad_values(freq: object) -> None:
    with pytest.raises(DataLoadError, match="freq"):
        window_length(freq)


def test_bad_inputs_raise_the_library_error() -> None:
    with pytest.raises(DataLoadError, match="created_at"):
        aggregate_mentions(pd.DataFrame({"topic": ["a"]}))
    with pytest.raises(DataLoadError, match="missing times"):
        aggregate_mentions(pd.DataFrame({"created_at": [pd.NaT], "topic": ["a"]}))
    with pytest.raises(DataLoadError, match="influencer_followers"):
        aggregate_mentions(
            pd.DataFrame({"created_at": _utc("2024-01-01")}), influencer_followers=-1
        )


def test_first_windows_fall_back_to_past_medians(seven_mentions: pd.DataFrame) -> None:
    features = build_features(seven_mentions)
    a = features[features["topic"] == "A"]
    assert np.isnan(a["baseline_volume"].iloc[0])  # nothing earlier
    assert a["baseline_volume"].iloc[1] == pytest.approx(2.0)  # the one earlier window
    # median of log1p(2), log1p(0) -> expm1 = sqrt(3) - 1
    assert a["baseline_volume"].iloc[2] == pytest.approx(np.sqrt(3) - 1)
    # but during the topic's first day nothing is compared with it (warm-up: no alert)
    assert a[["volume_ratio", "volume_z", "negative_share_change"]].isna().all().all()


def test_measures_against_the_baseline_start_after_a_day_of_history() -> None:
    frame = _daily_pattern(3)
    features = add_baselines(frame, freq="1h")
    defined = features["volume_ratio"].notna().to_numpy()
    assert not defined[:24].any() and defined[24:].all()
    assert features["volume_z"].notna().to_numpy()[24:].all()
    # a later start of another topic has its own warm-up
    late = frame.assign(topic="u", window_start=frame["window_start"] + pd.Timedelta("36h"))
    both = add_baselines(pd.concat([frame, late], ignore_index=True), freq="1h")
    u = both[both["topic"] == "u"]["volume_ratio"].notna().to_numpy()
    assert not u[:24].any() and u[24:].all()


def _daily_pattern(days: int, freq: str = "1h") -> pd.DataFrame:
    index = pd.date_range("2024-01-01", periods=days * 24, freq=freq, tz="UTC")
    return pd.DataFrame({"topic": "t", "window_start": index, "volume": 10 + index.hour * 5})


def test_seasonal_baseline_learns_the_hour_of_day() -> None:
    features = features_from_series(_daily_pattern(21))
    late = features.iloc[-24:]
    np.testing.assert_allclose(late["baseline_volume"], 10 + np.arange(24) * 5)
    np.testing.assert_allclose(late["volume_ratio"], 1.0)
    np.testing.assert_allclose(late["volume_z"], 0.0)


def test_planned_event_is_kept_out_of_the_baseline() -> None:
    series = _daily_pattern(21)
    spiked = series.copy()
    launch = (spiked["window_start"] >= "2024-01-15") & (spiked["window_start"] < "2024-01-18")
    spiked.loc[launch, "volume"] = 5_000
    events = pd.DataFrame(
        {"topic": [None], "started_at": _utc("2024-01-15"), "ended_at": _utc("2024-01-17 23:59")}
    )
    with_event = features_from_series(spiked, planned_events=events)
    clean = features_from_series(series, planned_events=events)
    after = with_event["window_start"] >= "2024-01-18"
    np.testing.assert_allclose(
        with_event.loc[after, "baseline_volume"], clean.loc[after, "baseline_volume"]
    )
    assert with_event.loc[launch, "planned_event"].all()
    assert not with_event.loc[~launch, "planned_event"].any()
    assert (with_event.loc[launch, "volume_ratio"] > 10).all()  # the event still has features
    without = features_from_series(spiked)
    assert (without.loc[after, "baseline_volume"].iloc[:24] > 100).any()  # it would leak


def test_planned_event_of_another_topic_does_not_apply() -> None:
    series = pd.concat([_daily_pattern(3).assign(topic=t) for t in ("a", "b")])
    events = pd.DataFrame(
        {"topic": ["a"], "started_at": _utc("2024-01-02"), "ended_at": _utc("2024-01-02 05:00")}
    )
    features = features_from_series(series, planned_events=events)
    flagged = features[features["planned_event"]]
    assert set(flagged["topic"]) == {"a"}
    assert len(flagged) == 6  # 00:00 .. 05:00 windows


def test_series_missing_windows_become_zero_and_volume_is_kept() -> None:
    series = _daily_pattern(2).drop(index=[5, 6])
    features = features_from_series(series)
    assert len(features) == 48
    assert features["volume"].iloc[5:7].tolist() == [0, 0]
    assert features["volume"].sum() == series["volume"].sum()
    assert list(features.columns[:13]) == [*FEATURE_KEYS, *FEATURE_MEASURES, *FEATURE_BASELINES]


def test_series_off_grid_or_duplicated_is_rejected() -> None:
    series = _daily_pattern(1)
    with pytest.raises(DataLoadError, match="several rows"):
        features_from_series(pd.concat([series, series.iloc[:1]]))
    shifted = series.copy()
    shifted.loc[3, "window_start"] += pd.Timedelta("10min")
    with pytest.raises(DataLoadError, match="grid"):
        features_from_series(shifted, freq="1h")


def test_nab_series_features(nab_dir) -> None:
    raw = pd.read_csv(nab_dir / "Twitter_volume_AAPL.csv")
    series = pd.DataFrame(
        {
            "topic": "AAPL",
            "window_start": pd.to_datetime(raw["timestamp"], utc=True),
            "volume": raw["value"],
        }
    )
    features = features_from_series(series)
    assert len(features) == len(raw)
    assert features["volume"].tolist() == raw["value"].tolist()
    assert features["baseline_volume"].iloc[1:].notna().all()
    ratio = features["volume_ratio"].iloc[3000:]
    assert 0.8 < ratio.median() < 1.25  # a fair baseline is right on a typical window


mention_rows = st.lists(
    st.tuples(
        st.integers(0, 3 * 24 * 60),  # minute offset
        st.sampled_from(["a", "b", "c"]),
        st.sampled_from(["u1", "u2", "u3", None]),
        st.floats(-1, 1),
        st.integers(0, 50_000),
    ),
    min_size=1,
    max_size=120,
)


def _frame(rows: list[tuple]) -> pd.DataFrame:
    minutes, topics, authors, sentiments, followers = zip(*rows, strict=True)
    base = pd.Timestamp("2024-02-01", tz="UTC")
    return pd.DataFrame(
        {
            "created_at": base + pd.to_timedelta(list(minutes), unit="min"),
            "topic": list(topics),
            "author": list(authors),
            "sentiment": list(sentiments),
            "author_followers": list(followers),
        }
    )


@settings(max_examples=40, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(rows=mention_rows, freq=st.sampled_from(["15min", "1h", "3h"]))
def test_summed_volume_equals_rows(rows: list[tuple], freq: str) -> None:
    mentions = _frame(rows)
    counts = aggregate_mentions(mentions, freq=freq)
    assert counts["volume"].sum() == len(mentions)
    assert (counts["negative_volume"] <= counts["volume"]).all()
    assert (counts["unique_authors"] <= counts["volume"]).all()
    per_topic = counts.groupby("topic")["volume"].sum()
    assert per_topic.to_dict() == mentions["topic"].value_counts().to_dict()


@settings(max_examples=30, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(rows=mention_rows, cut=st.integers(1, 3 * 24 * 60))
def test_appending_later_data_never_changes_earlier_windows(rows: list[tuple], cut: int) -> None:
    mentions = _frame(rows)
    full = build_features(mentions, freq="1h")
    cutoff = pd.Timestamp("2024-02-01", tz="UTC") + pd.Timedelta(minutes=cut)
    prefix_rows = mentions[mentions["created_at"] < cutoff.floor("1h")]
    if prefix_rows.empty:
        return
    prefix = build_features(prefix_rows, freq="1h")
    # topics first seen after the cut do not exist in the prefix; compare those that do
    joined = prefix.merge(full, on=list(FEATURE_KEYS), suffixes=("_p", "_f"), how="left")
    for column in (*FEATURE_MEASURES, *FEATURE_BASELINES):
        np.testing.assert_allclose(
            joined[f"{column}_p"].to_numpy(float),
            joined[f"{column}_f"].to_numpy(float),
            rtol=1e-12,
            err_msg=column,
        )


def test_add_baselines_is_fast_enough_for_a_year_of_ten_topics() -> None:
    """Smoke check of vectorisation: a year of hourly windows for 10 topics completes."""
    rng = np.random.default_rng(7)
    index = pd.date_range("2024-01-01", periods=24 * 365, freq="h", tz="UTC")
    counts = pd.concat(
        pd.DataFrame(
            {"topic": f"t{i}", "window_start": index, "volume": rng.poisson(40, len(index))}
        )
        for i in range(10)
    )
    features = add_baselines(counts, freq="1h")
    assert len(features) == 10 * len(index)
    settled = features["window_start"] >= index[24 * 30]
    assert features.loc[settled, "baseline_volume"].between(20, 60).all()


def test_rolling_negative_share_sums_the_last_day_per_topic():
    # 2 topics × 4 six-hour windows: a "day" is 4 windows, so the share is cumulative here;
    # topic B starts over (no carry-over from A) and an empty stretch gives NaN.
    feats = pd.DataFrame(
        {
            "topic": ["A"] * 4 + ["B"] * 4,
            "window_start": list(pd.date_range("2024-01-01", periods=4, freq="6h", tz="UTC")) * 2,
            "volume": [4, 0, 6, 10, 0, 0, 2, 2],
            "negative_volume": [1, 0, 3, 0, 0, 0, 2, 0],
        }
    )
    share = rolling_negative_share(feats, freq="6h", span="1D")
    expected = [1 / 4, 1 / 4, 4 / 10, 4 / 20, np.nan, np.nan, 1.0, 2 / 4]
    np.testing.assert_allclose(share.to_numpy(), expected)
    # A 12-hour span keeps the last two windows only.
    short = rolling_negative_share(feats, freq="6h", span="12h")
    np.testing.assert_allclose(short.to_numpy()[:4], [1 / 4, 1 / 4, 3 / 6, 3 / 16])


def test_topic_overview_counts_per_topic(seven_mentions: pd.DataFrame) -> None:
    mentions = seven_mentions.assign(sentiment=[-0.5, 0.2, np.nan, -0.05, 0.0, -0.9, 0.1])
    incidents = pd.DataFrame({"topic": ["B", "B", "nowhere"]})
    overview = topic_overview(mentions, incidents)
    assert list(overview.columns) == ["mentions", "first", "last", "negative_share", "incidents"]
    assert overview.index.tolist() == ["A", "B"]
    assert overview["mentions"].tolist() == [3, 4]
    assert overview["first"].tolist() == _utc("2024-01-01 00:10", "2024-01-01 00:20").tolist()
    assert overview["last"].tolist() == _utc("2024-01-01 02:05", "2024-01-01 02:59").tolist()
    # Negative = sentiment <= -0.05; the unknown sentiment of A counts as not negative.
    assert overview["negative_share"].tolist() == pytest.approx([1 / 3, 2 / 4])
    assert overview["incidents"].tolist() == [0, 2]  # "nowhere" has no mention: not listed
    assert topic_overview(mentions)["incidents"].tolist() == [0, 0]


@pytest.mark.parametrize(
    ("minutes", "expected"),
    [
        (list(range(0, 100, 5)), "5min"),  # regular
        ([*range(0, 100, 5), 101], "5min"),  # one stray timestamp is not the window length
        ([0, 5, 10, 20, 25, 40, 45, 50], "5min"),  # gaps
        ([0, 1, 2, 3, 5, 6, 8], "1min"),  # minute data with gaps
        # irregular (zero-suppressed) export: steps 2..30 min, none common: the smallest
        ([int(m) for m in np.cumsum(np.arange(1, 31))], "2min"),
    ],
)
def test_infer_freq_ignores_a_stray_step(minutes, expected) -> None:
    from esc_analytics._util.schema import infer_freq

    times = pd.Timestamp("2026-01-01", tz="UTC") + pd.to_timedelta(minutes, unit="min")
    frame = pd.DataFrame({"topic": "t", "window_start": times})
    assert infer_freq(frame) == pd.Timedelta(expected)


def test_a_stray_series_timestamp_is_named_not_turned_into_one_minute_windows() -> None:
    times = pd.Timestamp("2026-01-01", tz="UTC") + pd.to_timedelta(
        [*range(0, 300, 5), 101], unit="min"
    )
    series = pd.DataFrame({"topic": "acme", "window_start": times, "volume": 3.0})
    with pytest.raises(DataLoadError, match="off the 5 min grid") as err:
        features_from_series(series)
    assert "acme 2026-01-01 01:41:00" in str(err.value) and "freq=" in str(err.value)
    assert len(features_from_series(series, freq="1min")) == 296  # the caller's choice


@settings(max_examples=30, deadline=None)
@given(
    volume=st.lists(st.integers(0, 500), min_size=30, max_size=90),
    start_hour=st.integers(0, 23),
    feature=st.sampled_from(["volume_ratio", "volume_z", "volume_rank_28d"]),
)
def test_no_alert_can_come_from_a_warm_up_window(volume, start_hour, feature) -> None:
    """Whatever the volumes, a plan on a measure that compares with the topic's past never
    escalates before the topic has a day of history (so warm-up never adds false alarms)."""
    start = pd.Timestamp("2024-01-01", tz="UTC") + pd.Timedelta(hours=start_hour)
    counts = pd.DataFrame(
        {
            "topic": "t",
            "window_start": start + pd.Timedelta("1h") * np.arange(len(volume)),
            "volume": volume,
        }
    )
    features = add_baselines(counts, freq="1h")
    policy = esc.Policy.from_yaml(
        f"tiers:\n  - {{level: 1, name: a, owner: b, all: ['{feature} > -1000']}}\n"
    )
    windows = esc.evaluate(policy, features).windows
    assert (windows["tier"].to_numpy()[:24] == 0).all()
