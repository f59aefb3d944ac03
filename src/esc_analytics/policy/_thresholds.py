"""What a tier's thresholds mean on the data: the volume at which a tier starts to hold."""

from __future__ import annotations

import numpy as np
import pandas as pd

from ._policy import Condition, Policy


def threshold_volume(
    policy: Policy | None, level: int, features: pd.DataFrame
) -> np.ndarray | None:
    """The volume at which tier ``level``'s ``all`` conditions on volume and volume_ratio start
    to hold, per window (volume_ratio = (volume + 1) / (baseline + 1)); None when the tier has
    no such condition (the line would not be meaningful)."""
    if policy is None:
        return None
    tier = next((t for t in policy.tiers if int(t.level) == int(level)), None)
    if tier is None:
        return None
    bars = []
    for cond in tier.all:
        if not isinstance(cond, Condition) or cond.op not in (">", ">="):
            continue
        if cond.feature == "volume":
            bars.append(np.full(len(features), float(cond.value)))
        elif cond.feature == "volume_ratio" and "baseline_volume" in features:
            base = features["baseline_volume"].to_numpy(dtype=float)
            bars.append(cond.value * (base + 1.0) - 1.0)
    if tier.min_volume is not None:
        bars.append(np.full(len(features), float(tier.min_volume)))
    if not bars:
        return None
    return np.maximum.reduce(bars)
