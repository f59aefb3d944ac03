"""Benchmark: the retrospective's meeting report vs its interactive page, size and load time.

Renders notebook 04 on the bundled sample twice — the interactive page (``--hide-code``, the
baseline, measured in the same run) and the meeting report (``--meeting``) — then opens each
from ``file://`` in Debian's chromium with every non-file request aborted, N times, timing
from navigation to the moment every chart is drawn (the meeting report's own performance
mark where it has one, else until the harness sees every chart drawn). Prints sizes, median
load times, their ratios to the baseline, and the targets (≤ 3 MB, < 2 s).

    .venv/bin/python benchmarks/report.py [--loads 5] [--keep DIR]
"""

from __future__ import annotations

import argparse
import statistics
import sys
import tempfile
import time
from pathlib import Path

from esc_analytics.report import render_notebook

NOTEBOOK = Path(__file__).resolve().parents[1] / "notebooks" / "04_retrospective.ipynb"
sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "tests"))
from browser_utils import CHROMIUM_ARGS as ARGS  # noqa: E402  (the tests' chromium flags)

CHROMIUM = "/usr/bin/chromium"
DRAWN = """() => {
  const plots = Array.from(document.querySelectorAll('.js-plotly-plot'));
  return document.readyState === 'complete' && plots.length >= %d
    && plots.every(p => p.querySelector('.main-svg'));
}"""
TARGET_BYTES, TARGET_S = 3_000_000, 2.0


def load_times(path: Path, charts: int, loads: int) -> tuple[list[float], list[float], list[str]]:
    """Per load, seconds from navigation to every chart drawn as the harness sees it, and as
    the page's own performance mark says (meeting report only); the requests that failed."""
    from playwright.sync_api import sync_playwright

    times, marks, failed = [], [], []
    with sync_playwright() as pw:
        browser = pw.chromium.launch(executable_path=CHROMIUM, args=ARGS)
        try:
            for _ in range(loads):
                context = browser.new_context(viewport={"width": 1400, "height": 1000})
                context.route(
                    "**/*",
                    lambda r: r.continue_() if r.request.url.startswith("file:") else r.abort(),
                )
                page = context.new_page()
                page.on("requestfailed", lambda req: failed.append(req.url[:80]))
                started = time.perf_counter()
                page.goto(path.as_uri())
                page.wait_for_function(DRAWN % charts, timeout=120_000)
                wall = time.perf_counter() - started
                # the meeting report marks when its figures are drawn (ms since navigation)
                mark = page.evaluate(
                    "() => (performance.getEntriesByName('esc-figures-drawn')[0] || {}).startTime"
                )
                times.append(wall)
                if mark:
                    marks.append(mark / 1000)
                context.close()
        finally:
            browser.close()
    return times, marks, failed


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--loads", type=int, default=5)
    parser.add_argument("--keep", type=Path, default=None, help="folder to keep the HTML in")
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as tmp:
        folder = args.keep or Path(tmp)
        folder.mkdir(parents=True, exist_ok=True)
        notes = {"notes_dir": str(folder / "notes")}
        pages = {
            "interactive (baseline)": render_notebook(
                NOTEBOOK, folder / "interactive.html", notes, hide_code=True
            ),
            "meeting": render_notebook(NOTEBOOK, folder / "meeting.html", notes, meeting=True),
        }
        rows = {}
        for name, path in pages.items():
            charts = path.read_text(encoding="utf-8").count("plotly") and 1
            times, marks, failed = load_times(path, charts, args.loads)
            mark = statistics.median(marks) if marks else float("nan")
            rows[name] = (path.stat().st_size, statistics.median(times), len(failed), mark)
        base_size, base_time, _, _ = rows["interactive (baseline)"]
        print(f"notebook 04 on the bundled sample, {args.loads} loads each, chromium, offline")
        print(
            f"{'page':24s} {'size':>9s} {'× base':>7s} {'load (median)':>14s} {'× base':>7s}"
            f" {'failed requests':>16s} {'own mark':>9s}"
        )
        for name, (size, seconds, failed, mark) in rows.items():
            print(
                f"{name:24s} {size / 1e6:7.2f}MB {size / base_size:7.2f} {seconds:12.2f} s"
                f" {seconds / base_time:7.2f} {failed:16d} {mark:7.2f} s"
            )
        print("(load: navigation to every chart drawn, as the harness sees it; own mark: when")
        print(" the meeting report's script has drawn its figures, from navigation start)")
        size, seconds, failed, _ = rows["meeting"]
        print(
            f"meeting report targets: size ≤ {TARGET_BYTES / 1e6:g} MB: "
            f"{'met' if size <= TARGET_BYTES else 'NOT met'}; load < {TARGET_S:g} s: "
            f"{'met' if seconds < TARGET_S else 'NOT met'}; no failed request: "
            f"{'met' if not failed else 'NOT met'}"
        )


if __name__ == "__main__":
    main()
