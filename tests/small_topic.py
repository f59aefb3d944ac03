"""A small hand-built topic shared by the retrospective, what-if, tuning and widget tests.

48 hourly windows with a ramp on day 1, one incident over it, and a two-tier policy.
"""

from __future__ import annotations

import numpy as np
import pandas as pd

from esc_analytics import Policy

POLICY = Policy.from_yaml(
    """
name: t
tiers:
  - {level: 1, name: watch, owner: a, all: ["volume_ratio >= 3"]}
  - {level: 2, name: esc, owner: b, all: ["volume_ratio >= 6"]}
"""
)


def _features():
    """48 hourly windows, baseline 9 (ratio = (v+1)/10); a ramp 20:00–23:00 on day 1."""
    idx = pd.date_range("2026-03-01", periods=48, freq="1h", tz="UTC")
    vol = np.full(48, 9.0)
    vol[[18, 19, 20, 21, 22]] = [19, 24, 39, 69, 29]  # ratios 2.0, 2.5, 4.0, 7.0, 3.0
    return pd.DataFrame(
        {
            "topic": "T",
            "window_start": idx,
            "volume": vol,
            "baseline_volume": 9.0,
            "volume_ratio": (vol + 1) / 10,
        }
    )


def _incidents(**extra):
    row = {
        "incident_id": "INC-1",
        "topic": "T",
        "severity": 2,
        "started_at": pd.Timestamp("2026-03-01 19:30", tz="UTC"),
        "ended_at": pd.Timestamp("2026-03-02 02:00", tz="UTC"),
        "detected_at": pd.Timestamp("2026-03-02 00:00", tz="UTC"),
        "title": "App <b>down</b>",
    }
    row.update(extra)
    return pd.DataFrame([row])
