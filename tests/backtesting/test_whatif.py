"""Policy what-if on a hand-built topic: newly caught, lead-time change, alerts per week."""

from __future__ import annotations

import pandas as pd
import pytest
from small_topic import POLICY, _features, _incidents

from esc_analytics import Policy, compare_policies, scale_thresholds
from esc_analytics._util.errors import PolicyError


def test_lower_threshold_catches_earlier_and_costs_alerts():
    feats = _features()
    b = POLICY.set_params(tier1__volume_ratio=2.5)
    c = compare_policies(feats, _incidents(), POLICY, b, names=("old", "new"))
    row = c.incidents.iloc[0]
    assert row["change"] == "both caught"
    # A alerts at 21:00 (window 20:00); B at 20:00 (window 19:00, ratio 2.5).
    assert row["lead_time_change_h"] == pytest.approx(1.0)
    assert row["lead_time_b_h"] == pytest.approx(4.0)
    assert c.newly_caught == [] and c.newly_missed == []
    assert "old → new" in c.summary()


def test_newly_missed_and_newly_caught():
    feats = _features()
    strict = POLICY.set_params(tier1__volume_ratio=9.0, tier2__volume_ratio=9.5)
    c = compare_policies(feats, _incidents(), POLICY, strict)
    assert c.newly_missed == ["INC-1"]
    back = compare_policies(feats, _incidents(), strict, POLICY)
    assert back.newly_caught == ["INC-1"]
    weeks = 48 / (24 * 7)
    t1 = c.tiers.set_index("tier").loc[1]
    assert t1["alerts_per_week_a"] == pytest.approx(1 / weeks)
    assert t1["alerts_per_week_b"] == 0
    assert len(c.plot(topic="T").data) > 0
    assert pd.api.types.is_string_dtype(c.incidents["change"])


def test_scale_thresholds_multiplies_thresholds_only():
    plan = Policy.from_yaml(
        """
tiers:
  - {level: 1, name: watch, owner: a, all: ["volume_ratio >= 3", "negative_share > 0.5"],
     for: 2, cooldown: 4, min_volume: 10}
  - {level: 2, name: esc, owner: b, all: ["volume_ratio >= 6"]}
"""
    )
    scaled = scale_thresholds(plan, 0.5).get_params()
    assert scaled["tier1__volume_ratio"] == pytest.approx(1.5)
    assert scaled["tier1__negative_share"] == pytest.approx(0.25)
    assert scaled["tier2__volume_ratio"] == pytest.approx(3.0)
    # Window counts and the volume floor are not thresholds: unchanged.
    assert (scaled["tier1__persistence"], scaled["tier1__cooldown"]) == (2, 4)
    assert scaled["tier1__min_volume"] == 10
    assert plan.get_params()["tier1__volume_ratio"] == 3  # the original is untouched


def test_scale_thresholds_keeps_the_refractory_period():
    plan = Policy.from_yaml(
        """
tiers:
  - {level: 1, name: watch, owner: a, all: ["volume_ratio >= 3"], refractory: 3}
"""
    )
    scaled = scale_thresholds(plan, 0.8).get_params()  # 3 × 0.8 windows is no refractory period
    assert scaled["tier1__volume_ratio"] == pytest.approx(2.4)
    assert scaled["tier1__refractory"] == 3


@pytest.mark.parametrize("factor", [0, -1.0, float("nan"), "x"])
def test_scale_thresholds_rejects_a_non_positive_factor(factor):
    with pytest.raises(PolicyError, match="scale factor"):
        scale_thresholds(POLICY, factor)
