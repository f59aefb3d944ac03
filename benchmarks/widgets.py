"""Benchmark: one threshold-tuner slider change, in the kernel and in a real browser.

Builds a year of hourly windows × 10 topics (87,600 feature rows) with injected incidents.

Kernel: constructs ``ThresholdTuner`` (no browser) and moves a threshold slider N times; prints
the median and p95 time per change against the 50 ms target, and its parts (evaluate,
backtest, redraw, from ``tuner.timings``), with the full backtest it avoids as the baseline.

Browser (JupyterLab + Debian's chromium, 1400x900, file browser open; skipped without them):
drags the tier-1 threshold handle with the mouse and times from the release of the button to
the charts' ``plotly_afterplot`` (the last chart redrawn), against two baselines measured in
the same run on the same data: the old path that re-sends the whole timeline on each change
(``timeline_figure`` assigned trace by trace into a FigureWidget), and a no-op round trip (a
slider updating a one-point chart: the floor of kernel + comm + plotly). Target ≤ 300 ms.

    .venv/bin/python benchmarks/widgets.py [--changes 40] [--drags 8] [--no-browser]
"""

from __future__ import annotations

import argparse
import shutil
import statistics
import sys
import tempfile
import time
from pathlib import Path

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


def kernel_benchmark(features: pd.DataFrame, incidents: pd.DataFrame, changes: int) -> None:
    """Slider changes in the kernel only (no browser): total and parts."""
    policy = Policy.from_yaml(POLICY)
    import plotly.graph_objects as go  # import cost (seconds, jsonschema) is not the widget's

    go.FigureWidget()
    t0 = time.perf_counter()
    tuner = ThresholdTuner(features, incidents, policy, save_dir="/tmp/esc-bench-policies")
    build = time.perf_counter() - t0
    slider = tuner.sliders["tier1__volume_ratio"]
    values = np.round(np.linspace(2.0, 3.5, changes), 2)
    times, parts = [], {"evaluate": [], "backtest": [], "redraw": []}
    for v in values:
        t = time.perf_counter()
        slider.value = float(v)
        times.append(time.perf_counter() - t)
        for name in parts:
            parts[name].append(tuner.timings[name])
    # The full backtest the prepared one replaces, same data, same run (the baseline).
    grid = prepare_grid(tuner.features)
    full = []
    for v in values[:10]:
        esc = evaluate(policy.set_params(tier1__volume_ratio=float(v)), tuner.features, grid=grid)
        t = time.perf_counter()
        backtest(esc, incidents)
        full.append(time.perf_counter() - t)
    ms = np.array(times) * 1000
    print(
        f"features: {len(features):,} rows ({features['topic'].nunique()} topics × "
        f"{len(features) // features['topic'].nunique():,} hourly windows), "
        f"{len(incidents)} incidents"
    )
    print(f"tuner construction: {build * 1000:.0f} ms")
    print(
        f"kernel, slider change ({len(ms)} changes): median {np.median(ms):.1f} ms, "
        f"p95 {np.percentile(ms, 95):.1f} ms (target ≤ 50 ms: "
        f"{'met' if np.percentile(ms, 95) <= 50 else 'NOT met'})"
    )
    for name, vals in parts.items():
        print(f"  {name:<20} median {statistics.median(vals) * 1000:.1f} ms")
    print(
        f"  {'backtest (full)':<20} median {statistics.median(full) * 1000:.1f} ms "
        f"(prepared: {statistics.median(full) / statistics.median(parts['backtest']):.1f}× faster)"
    )


NOTEBOOK_SETUP = """
import pandas as pd
import plotly.graph_objects as go
import ipywidgets as W
import esc_analytics as esc
from esc_analytics import plots, widgets

features = pd.read_parquet("features.parquet")
incidents = pd.read_parquet("incidents.parquet")
policy = esc.load_policy("policy.yaml")
"""
NOTEBOOK_TUNER = """
tuner = widgets.ThresholdTuner(features, incidents, policy, save_dir="policies")
tuner
"""
# The old path: every change re-sends the whole timeline (all traces' x and y, shapes).
NOTEBOOK_FULL = """
topic = tuner.topic_picker.value
full_policy = policy
full = go.FigureWidget(plots.timeline_figure(
    features, esc.evaluate(policy, features), incidents, topic=topic, policy=policy))
full_box = W.VBox([full])
full_box.add_class("esc-bench-full")

def resend(change):
    global full_policy
    full_policy = full_policy.set_params(tier1__volume_ratio=change["new"])
    fresh = plots.timeline_figure(features, esc.evaluate(full_policy, features), incidents,
                                  topic=topic, policy=full_policy)
    with full.batch_update():
        for trace, new in zip(full.data, fresh.data):
            trace.x, trace.y = new.x, new.y
        full.layout.shapes = fresh.layout.shapes

full_slider = W.FloatSlider(value=2.5, min=0, max=5, step=0.01, continuous_update=False,
                            layout=W.Layout(width="400px"))
full_slider.add_class("esc-bench-full-slider")
full_slider.observe(resend, "value")
W.VBox([full_slider, full_box])
"""
# The floor: a slider whose callback moves one point of a tiny chart.
NOTEBOOK_NOOP = """
noop = go.FigureWidget(go.Scatter(x=[0], y=[0]))
noop_box = W.VBox([noop])
noop_box.add_class("esc-bench-noop")
noop_slider = W.FloatSlider(value=2.5, min=0, max=5, step=0.01, continuous_update=False,
                            layout=W.Layout(width="400px"))
noop_slider.add_class("esc-bench-noop-slider")

def move(change):
    with noop.batch_update():
        noop.data[0].y = [change["new"]]

noop_slider.observe(move, "value")
W.VBox([noop_slider, noop_box])
"""

# Listeners on every chart: time of the last plotly_afterplot after the mouse button is released.
ARM = """(sel) => {
    window.__escAfter = window.__escAfter || {};
    for (const gd of document.querySelectorAll(sel)) {
        if (gd.__escArmed || !gd.on) { continue; }
        gd.__escArmed = true;
        const key = sel + '#' + Array.from(document.querySelectorAll(sel)).indexOf(gd);
        gd.on('plotly_afterplot', () => { window.__escAfter[key] = performance.now(); });
    }
    window.__escAfter = {};
    window.__escUp = null;
    document.addEventListener('mouseup', () => { window.__escUp = performance.now(); },
                              {capture: true, once: true});
}"""
ELAPSED = """() => {
    const up = window.__escUp;
    const after = Object.values(window.__escAfter || {}).filter(t => up !== null && t > up);
    return after.length ? Math.max(...after) - up : null;
}"""


def _drag(page, handle_selector: str, dx: float) -> None:
    """A real mouse drag of a slider handle: press on its centre, move, release."""
    handle = page.locator(handle_selector).first
    handle.scroll_into_view_if_needed()
    box = handle.bounding_box()
    x, y = box["x"] + box["width"] / 2, box["y"] + box["height"] / 2
    page.mouse.move(x, y)
    page.mouse.down()
    page.mouse.move(x + dx, y, steps=6)
    page.mouse.up()


def _time_drags(page, slider_css: str, charts: str, drags: int, settle_ms: int) -> list[float]:
    """Milliseconds from mouse up to the last chart redrawn, for ``drags`` drags of the slider
    with class ``slider_css`` (alternating right and left so the value keeps changing)."""
    out = []
    for i in range(drags):
        page.evaluate(ARM, charts)
        _drag(page, f".{slider_css} .noUi-handle", 28 if i % 2 == 0 else -20)
        page.wait_for_timeout(settle_ms)  # later redraws (the other chart) land in here too
        elapsed = page.evaluate(ELAPSED)
        if elapsed is None:  # nothing redrawn yet: wait for it (a slow machine)
            page.wait_for_function(f"() => ({ELAPSED})() !== null", timeout=30_000)
            page.wait_for_timeout(settle_ms)
            elapsed = page.evaluate(ELAPSED)
        out.append(float(elapsed))
    return out


def browser_benchmark(features: pd.DataFrame, incidents: pd.DataFrame, drags: int) -> None:
    """Mouse drags in JupyterLab: the tuner against the full-resend path and a no-op trip."""
    sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "tests"))
    try:
        import playwright.sync_api  # noqa: F401
        from browser_utils import (
            CHROMIUM,
            browser_page,
            jupyter_lab,
            open_notebook_in_lab,
            run_all_cells,
            write_notebook,
        )
    except ImportError as exc:
        print(f"browser: skipped ({exc})")
        return
    if not CHROMIUM.exists():
        print(f"browser: skipped ({CHROMIUM} not found)")
        return
    root = Path(tempfile.mkdtemp(prefix="esc-bench-widgets-"))
    try:
        features.to_parquet(root / "features.parquet")
        incidents.to_parquet(root / "incidents.parquet")
        (root / "policy.yaml").write_text(POLICY)
        write_notebook(
            root / "bench.ipynb",
            "drags = 0",
            NOTEBOOK_SETUP,
            NOTEBOOK_TUNER,
            NOTEBOOK_FULL,
            NOTEBOOK_NOOP,
        )
        with (
            jupyter_lab(root) as lab,
            browser_page(allow_local_http=True, viewport=(1400, 900)) as (page, _log),
        ):
            open_notebook_in_lab(page, lab, "bench.ipynb", timeout_ms=90_000)
            print("browser: JupyterLab up, running the notebook...", flush=True)
            run_all_cells(page, timeout_ms=300_000)
            page.wait_for_function(
                "() => document.querySelectorAll('.js-plotly-plot .main-svg').length >= 4",
                timeout=120_000,
            )
            page.wait_for_timeout(2000)
            tuner_charts = ".esc-timeline .js-plotly-plot, .esc-tradeoff .js-plotly-plot"
            runs = {
                "tuner (changed traces only)": _time_drags(
                    page, "esc-param-tier1__volume_ratio", tuner_charts, drags, 1500
                ),
                "old path (whole timeline re-sent)": _time_drags(
                    page, "esc-bench-full-slider", ".esc-bench-full .js-plotly-plot", drags, 2500
                ),
                "no-op round trip (one point)": _time_drags(
                    page, "esc-bench-noop-slider", ".esc-bench-noop .js-plotly-plot", drags, 800
                ),
            }
    finally:
        shutil.rmtree(root, ignore_errors=True)
    medians = {name: statistics.median(v) for name, v in runs.items()}
    tuner_ms = medians["tuner (changed traces only)"]
    print(
        f"browser (JupyterLab, chromium 1400x900, sidebar open), mouse drag → charts redrawn, "
        f"{drags} drags each:"
    )
    for name, values in runs.items():
        print(
            f"  {name:<36} median {medians[name]:6.0f} ms, max {max(values):6.0f} ms"
            + (
                ""
                if values is runs["tuner (changed traces only)"]
                else f"  (tuner = {tuner_ms / medians[name]:.2f}× this)"
            )
        )
    print(
        f"  target ≤ 300 ms from release to redrawn charts: "
        f"{'met' if tuner_ms <= 300 else 'NOT met'} (median {tuner_ms:.0f} ms)"
    )


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--changes", type=int, default=60)
    parser.add_argument("--drags", type=int, default=8)
    parser.add_argument("--no-browser", action="store_true", help="kernel figures only")
    parser.add_argument("--browser-only", action="store_true", help="browser figures only")
    args = parser.parse_args()
    features, incidents = year_of_features()
    if not args.browser_only:
        kernel_benchmark(features, incidents, args.changes)
    if not args.no_browser:
        browser_benchmark(features, incidents, args.drags)


if __name__ == "__main__":
    main()
