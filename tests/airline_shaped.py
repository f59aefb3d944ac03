"""An airline-shaped history built by hand (issue 9): eight days of hourly volumes, one busy
topic with two overlapping incidents, a quiet topic whose baseline is zero, and a topic that
appears two days before the end with an incident in its first day. Shared by the readiness,
calibration and backtest tests."""

from __future__ import annotations

import numpy as np
import pandas as pd

from esc_analytics import add_baselines

T0 = pd.Timestamp("2015-02-16 00:00", tz="UTC")
HOUR = pd.Timedelta("1h")
DAYS = 8


def volumes() -> pd.DataFrame:
    """Hourly counts per topic (seeded)."""
    rng = np.random.default_rng(20150216)
    hours = np.arange(DAYS * 24)
    daily = 1 + 0.6 * np.sin((hours % 24 - 6) / 24 * 2 * np.pi)
    busy = rng.poisson(30 * daily).astype(float)
    busy[100:106] += [60, 150, 240, 200, 120, 60]  # a surge on day 5 (both incidents)
    busy[140:143] += [50, 90, 40]  # a smaller surge on day 6 (the severity-2 incident)
    quiet = rng.poisson(0.15, len(hours)).astype(float)
    quiet[150] = 9.0  # nine posts in one hour on a topic that is almost silent
    late = np.full(len(hours), np.nan)
    late[144:] = rng.poisson(12, len(hours) - 144)
    late[150:153] += [40, 70, 30]  # its surge, six hours after it first appears
    frames = []
    for topic, values in (("busy", busy), ("quiet", quiet), ("late", late)):
        keep = ~np.isnan(values)
        frames.append(
            pd.DataFrame(
                {"topic": topic, "window_start": T0 + HOUR * hours[keep], "volume": values[keep]}
            )
        )
    return pd.concat(frames, ignore_index=True)


def features() -> pd.DataFrame:
    """The volumes with their baselines (past only)."""
    return add_baselines(volumes(), freq="1h")


def incidents() -> pd.DataFrame:
    """Four incidents: two overlapping on the busy topic (the second starts while the first
    runs), one severity-2 on the busy topic, one on the quiet topic and one in the late topic's
    first day."""
    rows = [
        ("AIR-1", "busy", 3, 100, 108, 103),
        ("AIR-2", "busy", 1, 103, 115, None),  # starts while AIR-1 still runs
        ("AIR-3", "busy", 2, 140, 146, 142),
        ("AIR-4", "quiet", 1, 150, 153, None),
        ("AIR-5", "late", 1, 150, 155, 152),
    ]
    return pd.DataFrame(
        {
            "incident_id": [r[0] for r in rows],
            "topic": [r[1] for r in rows],
            "severity": [r[2] for r in rows],
            "started_at": [T0 + HOUR * r[3] for r in rows],
            "ended_at": [T0 + HOUR * r[4] for r in rows],
            "detected_at": [T0 + HOUR * r[5] if r[5] is not None else pd.NaT for r in rows],
        }
    )
