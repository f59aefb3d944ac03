"""Benchmark: exporting several figures to PNG with one browser (``export_figures``) against one
browser per figure (``export_figure``, what ``fig.write_image`` does), same figures, same run.

The figures are those a retrospective exports: a timeline per topic of the bundled sample
(hourly volume, baseline, threshold, escalations, incidents) and the backtest's lead-time bars.

    .venv/bin/python benchmarks/export.py [--figures 6] [--format png]
"""

from __future__ import annotations

import argparse
import shutil
import tempfile
import time
from pathlib import Path

import esc_analytics as esc
from esc_analytics import plots


def figures(n: int) -> dict[str, object]:
    """``n`` figures built from the bundled sample (timelines of its topics, then bars)."""
    inputs = esc.load_inputs(None)
    escalations = esc.evaluate(inputs.policy, inputs.features)
    result = esc.backtest(escalations, inputs.incidents.data)
    topics = sorted(inputs.features["topic"].astype(str).unique())
    out: dict[str, object] = {}
    for i in range(n):
        if i < len(topics):
            topic = topics[i]
            out[f"timeline-{topic}"] = plots.timeline_figure(
                inputs.features, escalations, inputs.incidents.data, topic=topic,
                policy=inputs.policy,
            )  # fmt: skip
        else:
            out[f"lead-times-{i}"] = result.plot("lead_time")
    return out


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--figures", type=int, default=6)
    parser.add_argument("--format", default="png")
    args = parser.parse_args()
    figs = figures(args.figures)
    folder = Path(tempfile.mkdtemp(prefix="esc-bench-export-"))
    try:
        t0 = time.perf_counter()
        for name, fig in figs.items():  # the baseline: a new browser per figure
            esc.export_figure(fig, folder / "one" / f"{name}.{args.format}")
        one_each = time.perf_counter() - t0
        t0 = time.perf_counter()
        paths = plots.export_figures(figs, folder / "batch", format=args.format)
        batch = time.perf_counter() - t0
        sizes = [p.stat().st_size for p in paths]
    finally:
        shutil.rmtree(folder, ignore_errors=True)
    n = len(figs)
    print(f"{n} figures to {args.format} ({min(sizes) // 1024}-{max(sizes) // 1024} KiB each)")
    print(f"  export_figure, one browser per figure: {one_each:6.1f} s ({one_each / n:.2f} s each)")
    print(f"  export_figures, one browser for all:   {batch:6.1f} s ({batch / n:.2f} s each)")
    print(f"  speed-up: {one_each / batch:.1f}×")


if __name__ == "__main__":
    main()
