"""Calibration speed on ~1 M windows: 10 topics × one year of 5-minute windows with incidents.

Prints the time of one backtest of a fixed 3-tier policy (evaluate + backtest), of a
calibration sweeping >= 10,000 candidates, their ratio (target <= 20x), and a naive loop
(evaluate + backtest per candidate) timed on a subset, with the per-candidate speed-up
(target >= 100x). Run: .venv/bin/python benchmarks/calibrate.py [--quick]
"""

from __future__ import annotations

import sys
import time
import warnings

import numpy as np
import pandas as pd

from esc_analytics import Condition, Policy, Tier, backtest, calibrate, evaluate


def synthetic(n_topics: int = 10, days: int = 365, seed: int = 7):
    """Features (volume, volume_z, volume_ratio) and ~30 incidents per topic."""
    rng = np.random.default_rng(seed)
    n = days * 288
    times = pd.date_range("2025-01-01", periods=n, freq="5min", tz="UTC")
    frames, incidents = [], []
    for t in range(n_topics):
        topic = f"topic{t:02d}"
        z = rng.standard_t(5, n)
        starts = np.sort(rng.choice(np.arange(300, n - 300), 30, replace=False))
        for k, s in enumerate(starts):
            length = int(rng.integers(6, 48))
            severity = int(rng.choice([1, 2, 3], p=[0.6, 0.3, 0.1]))
            z[s : s + length] += rng.uniform(2, 5) + 2 * severity
            incidents.append(
                {
                    "incident_id": f"{topic}-{k}",
                    "topic": topic,
                    "started_at": times[s],
                    "ended_at": times[s + length],
                    "detected_at": times[min(s + length // 2 + 12, n - 1)],
                    "severity": severity,
                }
            )
        volume = np.maximum(np.round(50 * np.exp(0.3 * z)), 0)
        frames.append(
            pd.DataFrame(
                {
                    "topic": topic,
                    "window_start": times,
                    "volume": volume,
                    "volume_z": z,
                    "volume_ratio": np.exp(0.3 * z),
                }
            )
        )
    return pd.concat(frames, ignore_index=True), pd.DataFrame(incidents)


def fixed_policy(z1: float = 4.0, p: int = 2, c: int = 6) -> Policy:
    tiers = [
        Tier(
            k,
            f"tier{k}",
            "desk",
            all=(Condition("volume_z", ">", z1 + 2 * (k - 1)),),
            persistence=p,
            cooldown=c,
        )
        for k in (1, 2, 3)
    ]
    return Policy(tuple(tiers))


def main() -> int:
    warnings.filterwarnings("ignore", category=RuntimeWarning)
    quick = "--quick" in sys.argv
    features, incidents = synthetic(days=60 if quick else 365)
    print(
        f"{len(features):,} windows, {features['topic'].nunique()} topics, "
        f"{len(incidents)} incidents"
    )

    t0 = time.perf_counter()
    result = backtest(evaluate(fixed_policy(), features), incidents)
    one = time.perf_counter() - t0
    print(
        f"one backtest of a fixed 3-tier policy (evaluate + backtest): {one:.2f} s "
        f"(recall tier 1 {result.tiers['recall'].iloc[0]:.2f})"
    )

    t0 = time.perf_counter()
    cal = calibrate(
        features,
        incidents,
        n_tiers=3,
        objective="recall",
        max_false_per_week=2.0,
        feature_candidates=["volume_z", "volume_ratio"],
        n_thresholds=600,
        persistence_grid=(1, 2, 3),
        cooldown_grid=(0, 6, 24),
    )
    sweep = time.perf_counter() - t0
    n = cal.n_candidates
    print(
        f"calibration over {n:,} candidates (feature x threshold x persistence x cooldown "
        f"x tier, each with exact caught/false counts) + final backtest: {sweep:.2f} s"
    )
    print(f"ratio calibration / one backtest: {sweep / one:.1f}x (target <= 20x)")
    print(cal.summary().splitlines()[1])

    subset = cal.candidates.sample(12 if not quick else 6, random_state=1)
    t0 = time.perf_counter()
    for row in subset.itertuples(index=False):
        tier = Tier(
            1,
            "t",
            "desk",
            all=(Condition(row.feature, ">", float(row.threshold)),),
            persistence=int(row.persistence),
            cooldown=int(row.cooldown),
        )
        backtest(evaluate(Policy((tier,)), features), incidents)
    naive = (time.perf_counter() - t0) / len(subset)
    per = sweep / n
    print(
        f"naive loop (evaluate + backtest per candidate, {len(subset)} sampled): "
        f"{naive:.3f} s/candidate -> {naive * n / 60:.0f} min for all {n:,}"
    )
    print(
        f"vectorised: {per * 1e3:.2f} ms/candidate; speed-up per candidate: "
        f"{naive / per:.0f}x (target >= 100x)"
    )
    return 0


if __name__ == "__main__":
    sys.exit(main())
