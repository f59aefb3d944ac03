"""Per-topic overrides: written in the plan, validated, evaluated per topic, fitted per topic
with shrinkage towards the shared thresholds."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from esc_analytics import Policy, PolicyError, calibrate_policy, evaluate, save_policy
from esc_analytics.calibration._tiers import rounding_options

PLAN = """\
tiers:
  - level: 1
    all: [volume_ratio >= 3]
  - level: 2
    all: [volume_ratio >= 5, negative_share >= 0.5]
overrides:
  flagship:                      # a big brand: a spike must be larger
    tier2.volume_ratio: 8
    tier1__volume_ratio: 4
"""
T0 = pd.Timestamp("2026-01-01", tz="UTC")


def _features():
    ratio = [2, 3.5, 4.5, 6, 9]
    return pd.concat([
        pd.DataFrame({"topic": topic, "window_start": pd.date_range(T0, periods=5, freq="1h"),
                      "volume_ratio": ratio, "negative_share": 0.6})
        for topic in ("small", "flagship")
    ], ignore_index=True)


def test_overrides_are_evaluated_per_topic_by_hand():
    policy = Policy.from_yaml(PLAN)
    tiers = evaluate(policy, _features()).windows["tier"].to_numpy()
    assert tiers[:5].tolist() == [0, 1, 1, 2, 2]  # shared: 3 and 5
    assert tiers[5:].tolist() == [0, 0, 1, 1, 2]  # flagship: 4 and 8
    assert policy.for_topic("flagship").get_params()["tier2__volume_ratio"] == 8
    assert policy.for_topic("small") == Policy.from_yaml(PLAN.split("overrides")[0])


def test_overrides_round_trip_and_plan_edits_keep_the_comment(tmp_path):
    policy = Policy.from_yaml(PLAN)
    assert Policy.from_yaml(policy.to_yaml()) == policy
    assert policy.to_dict()["overrides"] == {
        "flagship": {"tier2.volume_ratio": 8, "tier1.volume_ratio": 4}
    }
    source = tmp_path / "plan.yaml"
    source.write_text(PLAN, encoding="utf-8")
    changed = policy.set_params(tier1__volume_ratio=2.5)  # the shared value only
    text = save_policy(changed, tmp_path / "out.yaml", like=source).read_text(encoding="utf-8")
    assert "# a big brand" in text and "volume_ratio >= 2.5" in text
    assert Policy.from_yaml(text) == changed


@pytest.mark.parametrize(
    ("overrides", "message", "key"),
    [
        ({"b": {"tier2.volume_rato": 8}}, "did you mean 'tier2.volume_ratio'", None),
        ({"b": {"tier1.persistence": 2}}, "overrides set thresholds", None),
        ({"b": {"tier1.volume_ratio": "lots"}}, "finite number", "overrides.b.tier1.volume_ratio"),
        ({"b": 8}, "must map thresholds", "overrides.b"),
        ([1, 2], "must map a topic", "overrides"),
    ],
)
def test_bad_overrides_are_one_line_errors_naming_the_key(overrides, message, key):
    with pytest.raises(PolicyError, match=message) as info:
        Policy.from_dict({"tiers": [{"level": 1, "all": ["volume_ratio >= 3"]},
                                    {"level": 2, "all": ["volume_ratio >= 5"]}],
                          "overrides": overrides})
    assert "\n" not in str(info.value)
    if key:
        assert info.value.key == key


def _history(seed=0):
    """'loud' has big bursts at its incidents and noise up to ratio 4 (the shared threshold
    must stay above it), 'calm' small bursts over little noise; 'rare' has one incident."""
    rng = np.random.default_rng(seed)
    n = 24 * 20
    frames, incidents = [], []
    for topic, noise, burst, starts in (
        ("loud", 4.0, 9.0, range(30, n - 10, 60)),
        ("calm", 1.5, 3.0, range(40, n - 10, 60)),
        ("rare", 1.5, 3.0, [200]),
    ):
        ratio = rng.uniform(0.5, noise, n)
        for k, s in enumerate(starts):
            ratio[s : s + 3] = burst
            incidents.append((f"{topic}{k}", topic, T0 + pd.Timedelta(hours=s),
                              T0 + pd.Timedelta(hours=s + 3), 1))
        frames.append(pd.DataFrame({"topic": topic, "volume_ratio": np.round(ratio, 2),
                                    "window_start": pd.date_range(T0, periods=n, freq="1h")}))
    inc = pd.DataFrame(incidents, columns=["incident_id", "topic", "started_at", "ended_at",
                                           "severity"])
    return pd.concat(frames, ignore_index=True), inc


@pytest.mark.parametrize("shrinkage", [0.0, 5.0])
def test_per_topic_fit_blends_each_topic_towards_the_shared_value(shrinkage):
    features, incidents = _history()
    plan = Policy.from_dict({"tiers": [{"level": 1, "all": ["volume_ratio >= 2"]}]})
    options = {"objective": "recall", "max_false_per_week": 1.0, "max_early": "1h"}
    fit = calibrate_policy(plan, features, incidents, per_topic=True, shrinkage=shrinkage,
                           min_topic_incidents=3, **options)
    shared = fit.policy.get_params()["tier1__volume_ratio"]
    overrides = fit.policy.topic_overrides
    assert "rare" not in overrides  # one incident: keeps the shared threshold
    calm = features["topic"] == "calm"
    own = calibrate_policy(fit.policy.for_topic("calm"),
                           features[calm].reset_index(drop=True),
                           incidents[incidents["topic"] == "calm"],
                           max_false_per_week=calm.mean(), run_backtest=False,
                           **{k: v for k, v in options.items() if k != "max_false_per_week"})
    own_value = own.policy.get_params()["tier1__volume_ratio"]
    n = int((incidents["topic"] == "calm").sum())
    expected = rounding_options(shared + n / (n + shrinkage) * (own_value - shared))[0]
    assert overrides["calm"]["tier1__volume_ratio"] == expected
    assert own_value < shared  # the calm topic's small bursts need a lower threshold
    if shrinkage:
        assert own_value < expected < shared
    # the plan with overrides is what is evaluated (and what the backtest scored)
    tiers = evaluate(fit.policy, features).windows["tier"].to_numpy()
    assert (tiers[calm.to_numpy()] == (features.loc[calm, "volume_ratio"] >= expected)).all()
    shared_only = calibrate_policy(plan, features, incidents, **options).backtest.recall
    if shrinkage:  # 8 incidents, weight 8/13: still above the calm topic's bursts
        assert fit.backtest.recall == shared_only
    else:  # the calm topic's own threshold catches its incidents
        assert fit.backtest.recall > shared_only
