"""Hand-made hourly features for calibration tests: one ``volume_z`` value per window."""

from __future__ import annotations

import numpy as np
import pandas as pd

T0 = pd.Timestamp("2026-01-05", tz="UTC")


def hourly_features(values_by_topic: dict[str, list[float]]) -> pd.DataFrame:
    """Topics × hourly windows from ``T0`` with ``volume`` 10 and the given ``volume_z``."""
    parts = []
    for topic, values in values_by_topic.items():
        parts.append(
            pd.DataFrame(
                {
                    "topic": topic,
                    "window_start": pd.date_range(T0, periods=len(values), freq="1h"),
                    "volume": 10.0,
                    "volume_z": np.asarray(values, dtype=float),
                }
            )
        )
    return pd.concat(parts, ignore_index=True)
