"""Walk-forward: folds never read the future (or the held-out topic)."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from esc_analytics.calibration._sweep import CalibrationError
from esc_analytics.calibration._walk_forward import walk_forward

T0 = pd.Timestamp("2026-02-02", tz="UTC")


def _data(seed: int = 3):
    rng = np.random.default_rng(seed)
    n = 24 * 20
    frames, incidents = [], []
    for ti, topic in enumerate(("a", "b", "c")):
        z = rng.normal(0, 1, n)
        for k, h in enumerate(rng.choice(np.arange(30, n - 10), 5, replace=False)):
            z[h : h + 3] += 6
            incidents.append(
                {
                    "incident_id": f"{topic}{k}",
                    "topic": topic,
                    "started_at": T0 + pd.Timedelta(hours=int(h)),
                    "ended_at": T0 + pd.Timedelta(hours=int(h) + 3),
                    "severity": 1 + (k % 2),
                }
            )
        frames.append(
            pd.DataFrame(
                {
                    "topic": topic,
                    "volume": 100.0,
                    "volume_z": z,
                    "window_start": pd.date_range(T0, periods=n, freq="1h"),
                }
            )
        )
        del ti
    return pd.concat(frames, ignore_index=True), pd.DataFrame(incidents)


KW = dict(
    n_tiers=2,
    feature_candidates=["volume_z"],
    persistence_grid=(1, 2),
    cooldown_grid=(0, 3),
    max_false_per_week=2.0,
    n_thresholds=40,
)


def test_expanding_folds_never_read_the_future():
    features, incidents = _data()
    base = walk_forward(features, incidents, n_folds=3, **KW)
    assert len(base.folds) == 3
    boundary = base.folds["train_until"].iloc[0]
    garbage = features.copy()
    future = garbage["window_start"] >= boundary
    garbage.loc[future, "volume_z"] = np.random.default_rng(9).normal(50, 30, int(future.sum()))
    late = incidents["started_at"] >= boundary
    shuffled = incidents.copy()
    shuffled.loc[late, "severity"] = 2
    again = walk_forward(garbage, shuffled, n_folds=3, **KW)
    assert again.calibrations[0].policy == base.calibrations[0].policy
    # and the garbage does change later folds (the property is not vacuous)
    assert again.folds["params"].tolist() != base.folds["params"].tolist()
    assert base.folds["test_from"].is_monotonic_increasing
    assert (base.folds["train_until"] == base.folds["test_from"]).all()


def test_topic_folds_never_read_the_held_out_topic():
    features, incidents = _data()
    base = walk_forward(features, incidents, scheme="topics", **KW)
    assert base.folds["topic"].tolist() == ["a", "b", "c"]
    garbage = features.copy()
    garbage.loc[garbage["topic"] == "a", "volume_z"] = 99.0
    again = walk_forward(garbage, incidents, scheme="topics", **KW)
    assert again.calibrations[0].policy == base.calibrations[0].policy
    pooled = base.pooled.set_index("tier")
    assert pooled.loc[1, "incidents"] == len(incidents)
    assert 0.0 <= pooled.loc[1, "recall"] <= 1.0


def test_bad_scheme_and_folds():
    features, incidents = _data()
    with pytest.raises(CalibrationError, match="scheme"):
        walk_forward(features, incidents, scheme="random", **KW)
    with pytest.raises(CalibrationError, match="min_train"):
        walk_forward(features, incidents, min_train="400D", **KW)


def test_plots_show_the_folds_and_the_frontier():
    features, incidents = _data()
    result = walk_forward(features, incidents, n_folds=2, **KW)
    fig = result.plot()
    recall_bars = [t for t in fig.data if t.yaxis in (None, "y")]
    assert len(recall_bars) == 2  # one bar trace per tier in the recall panel
    assert list(recall_bars[0].y) == result.folds["recall_1"].tolist()
    cal = result.calibrations[0]
    frontier_fig = cal.plot(tier=1)
    chosen = cal.chosen[cal.chosen["tier"] == 1].iloc[0]
    point = next(t for t in frontier_fig.data if t.name == "calibrated policy")
    assert list(point.x) == [chosen["false_per_week"]] and list(point.y) == [chosen["caught"]]


def test_fold_params_text_shows_the_conditions_written_into_the_policy():
    # "<" features are swept negated and ">=" / "<=" written strict: the per-fold text must
    # read like the fold's policy, not like the sweep's internals.
    from esc_analytics.policy._policy import Condition, Policy, Tier

    features, incidents = _data()
    features = features.assign(calm=-features["volume_z"])
    template = Policy((Tier(1, "watch", "desk", all=(Condition("calm", "<=", -3.0),)),))
    kw = {**KW, "n_tiers": 1, "feature_candidates": None}
    result = walk_forward(features, incidents, n_folds=2, template=template, **kw)
    for text, fit in zip(result.folds["params"], result.calibrations, strict=True):
        (cond,) = fit.policy.tiers[0].all
        assert cond.op == "<"
        assert text.startswith(f"t1: calm < {cond.value:.4g} for ")


def test_topic_fold_figure_escapes_topic_names():
    # Topics come from users' files (or file names); plotly renders markup in tick labels.
    features, incidents = _data()
    rename = {"a": "<b>a</b>"}
    features = features.assign(topic=features["topic"].replace(rename))
    incidents = incidents.assign(topic=incidents["topic"].replace(rename))
    result = walk_forward(features, incidents, scheme="topics", **KW)
    assert list(result.plot().data[0].x) == ["&lt;b&gt;a&lt;/b&gt;", "b", "c"]


def test_a_week_of_history_gets_a_workable_fold_plan_by_itself():
    """Eight days and five incidents: even cuts would train the first fold on no incident;
    walk_forward cuts between incidents instead, says so, and every fold trains on some."""
    from airline_shaped import features, incidents

    import esc_analytics as esc

    result = esc.walk_forward(features(), incidents(), n_folds=4)
    assert (result.folds["plan"] == "between incidents").all()
    assert len(result.folds) == 3  # four distinct start times: three cuts between them
    inc = incidents()
    for row in result.folds.itertuples():
        assert (inc["started_at"] < row.train_until).any()
        assert ((inc["started_at"] >= row.test_from) & (inc["started_at"] < row.test_until)).any()
    text = result.summary()
    assert "short history" in text and "95% interval" in text


def test_walk_forward_with_one_incident_says_what_to_do():
    from airline_shaped import features, incidents

    import esc_analytics as esc

    with pytest.raises(esc.EscAnalyticsError, match="at least 2 incidents"):
        esc.walk_forward(features(), incidents().iloc[:1], n_folds=3)
