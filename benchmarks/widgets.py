"""Benchmark: one threshold-tuner slider change (evaluate + backtest + redraw), in the kernel.

Builds a year of hourly windows × 10 topics (87,600 feature rows) with injected incidents,
constructs ``ThresholdTuner`` (no browser) and moves a threshold slider N times; prints the
median and p95 time per change against the 50 ms target, and its parts (evaluate, backtest,
redraw) measured in the same run.

    .venv/bin/python benchmarks/widgets.py [--changes 40]
"""

from __future__ import annotations

import argparse
import statistics
import time

import numpy as np
import pandas as pd

from esc_analytics import Policy, backtest, evaluate, prepare_grid
from esc_analytics.widgets import ThresholdTuner

POLICY = """
name: benchmark
tiers:
  - {level: 1, name: watch, owner: social, all: ["volume_ratio >= 2.5", "volume >= 20"],
     for: 1, cooldown: 3}
  - {level: 2, name: escalate, owner: comms, all: ["volume_ratio >= 4", "negative_share >= 0.4"],
     for: 2}
  - {level: 3, name: crisis, owner: exec, all: ["volume_ratio >= 8", "negative_share >= 0.5"],
     for: 2}
"""


def year_of_features(n_topics: int = 10, seed: int = 7) -> tuple[pd.DataFrame, pd.DataFrame]:
    """Hourly features for a year and ~12 incidents per topic (spikes in volume)."""
    rng = np.random.default_rng(seed)
    idx = pd.date_range("2025-01-01", periods=24 * 365, freq="1h", tz="UTC")
    frames, incidents = [], []
    for t in range(n_topics):
        topic = f"topic{t:02d}"
        hour = idx.hour.to_numpy()
        base = 40 + 25 * np.sin((hour - 6) / 24 * 2 * np.pi)
        volume = rng.poisson(base).astype(float)
        neg = rng.beta(2, 6, len(idx))
        starts = np.sort(rng.choice(np.arange(200, len(idx) - 48), 12, replace=False))
        for j, s in enumerate(starts):
            sev = int(rng.integers(1, 4))
            length = int(rng.integers(4, 24))
            volume[s : s + length] *= 2 + 3 * sev * rng.random()
            neg[s : s + length] = np.clip(neg[s : s + length] + 0.2 * sev, 0, 1)
            incidents.append(
                {
                    "incident_id": f"{topic}-{j:02d}",
                    "topic": topic,
                    "severity": sev,
                    "started_at": idx[s],
                    "ended_at": idx[s + length],
                    "detected_at": idx[s] + pd.Timedelta(hours=int(rng.integers(1, 8))),
                }
            )
        frames.append(
            pd.DataFrame(
                {
                    "topic": topic,
                    "window_start": idx,
                    "volume": volume,
                    "baseline_volume": base,
                    "volume_ratio": (volume + 1) / (base + 1),
                    "negative_share": neg,
                }
            )
        )
    return pd.concat(frames, ignore_index=True), pd.DataFrame(incidents)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--changes", type=int, default=60)
    args = parser.parse_args()
    features, incidents = year_of_features()
    policy = Policy.from_yaml(POLICY)
    import plotly.graph_objects as go  # import cost (seconds, jsonschema) is not the widget's

    go.FigureWidget()
    t0 = time.perf_counter()
    tuner = ThresholdTuner(features, incidents, policy, save_dir="/tmp/esc-bench-policies")
    build = time.perf_counter() - t0
    slider = tuner.sliders["tier1__volume_ratio"]
    values = np.round(np.linspace(2.0, 3.5, args.changes), 2)
    times = []
    for v in values:
        t = time.perf_counter()
        slider.value = float(v)
        times.append(time.perf_counter() - t)
    # Parts, same data, same run: what the tuner calls per change, and the full backtest it
    # replaces (the baseline the prepared backtest is measured against).
    parts = {"evaluate": [], "backtest (prepared)": [], "backtest (full)": [], "redraw": []}
    grid = prepare_grid(tuner.features)  # the tuner prepares its window grid once, likewise
    for v in values[:10]:
        pol = policy.set_params(tier1__volume_ratio=float(v))
        t = time.perf_counter()
        esc = evaluate(pol, tuner.features, grid=grid)
        parts["evaluate"].append(time.perf_counter() - t)
        t = time.perf_counter()
        tuner._prepared.run(esc)
        parts["backtest (prepared)"].append(time.perf_counter() - t)
        t = time.perf_counter()
        backtest(esc, incidents)
        parts["backtest (full)"].append(time.perf_counter() - t)
        t = time.perf_counter()
        tuner._redraw()
        parts["redraw"].append(time.perf_counter() - t)
    ms = np.array(times) * 1000
    print(
        f"features: {len(features):,} rows ({features['topic'].nunique()} topics × "
        f"{len(features) // features['topic'].nunique():,} hourly windows), "
        f"{len(incidents)} incidents"
    )
    print(f"tuner construction: {build * 1000:.0f} ms")
    print(
        f"slider change ({len(ms)} changes): median {np.median(ms):.1f} ms, "
        f"p95 {np.percentile(ms, 95):.1f} ms (target ≤ 50 ms: "
        f"{'met' if np.percentile(ms, 95) <= 50 else 'NOT met'})"
    )
    for name, vals in parts.items():
        print(f"  {name:<20} median {statistics.median(vals) * 1000:.1f} ms")


if __name__ == "__main__":
    main()
