"""The tuner's fast backtest gives exactly the figures of ``backtest`` (sample data + small)."""

from __future__ import annotations

import pandas as pd
import pytest
from small_topic import POLICY, _features, _incidents

from esc_analytics import backtest, evaluate
from esc_analytics.backtesting._live import PreparedBacktest

INCIDENT_COLS = [
    "incident_id",
    "evaluated",
    "caught",
    "tier_reached",
    "outcome",
    "first_alert_at",
    "first_alert_at_severity",
    "lead_time",
]
TIER_COLS = [
    "tier",
    "incidents",
    "caught",
    "recall",
    "notifications",
    "true_notifications",
    "false_notifications",
    "precision",
    "false_per_week",
]


def _same(fast, full):
    pd.testing.assert_frame_equal(
        fast.incidents[INCIDENT_COLS].reset_index(drop=True),
        full.incidents[INCIDENT_COLS].reset_index(drop=True),
        check_dtype=False,
    )
    pd.testing.assert_frame_equal(
        fast.tiers[TIER_COLS].reset_index(drop=True),
        full.tiers[TIER_COLS].reset_index(drop=True),
        check_dtype=False,
    )
    assert fast.false_per_week == pytest.approx(full.false_per_week)
    assert len(fast.false_alerts) == len(full.false_alerts)


@pytest.mark.parametrize("ratio", [2.0, 2.5, 3.0, 9.0])
def test_fast_equals_full_on_hand_built(ratio):
    feats, inc = _features(), _incidents()
    prepared = PreparedBacktest(evaluate(POLICY, feats), inc)
    esc = evaluate(POLICY.set_params(tier1__volume_ratio=ratio), feats)
    _same(prepared.run(esc), backtest(esc, inc))


@pytest.mark.slow
def test_fast_equals_full_on_sample(sample_dir):
    from esc_analytics import build_features, load_incidents, load_mentions, load_policy

    feats = build_features(load_mentions(sample_dir / "mentions.csv.gz").data)
    inc = load_incidents(sample_dir / "incidents.csv").data
    policy = load_policy(sample_dir / "policy.yaml")
    prepared = PreparedBacktest(evaluate(policy, feats), inc)
    params = policy.get_params()
    for scale in (0.5, 0.8, 1.0, 1.3):
        changed = {
            k: v * scale
            for k, v in params.items()
            if v is not None and not k.endswith(("persistence", "cooldown", "min_volume"))
        }
        esc = evaluate(policy.set_params(**changed), feats)
        _same(prepared.run(esc), backtest(esc, inc))
