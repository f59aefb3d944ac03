"""Real-browser tests (Debian's chromium via Playwright, no network):

- JupyterLab on loopback: open a notebook, Run All from the menu, move a slider with the keyboard,
  assert the chart's data changed (a tiny notebook proving the harness; the threshold tuner of
  notebooks/02 when it exists);
- rendered HTML opened from file:// with every non-file request aborted must draw its charts and
  widgets;
- Voilà serves the tuner (or a tiny widget notebook) and renders widgets.

Screenshots go to test-artifacts/ (git-ignored).
"""

from __future__ import annotations

import re
import shutil
import time
from pathlib import Path

import pytest
from browser_utils import (
    artifact_path,
    browser_page,
    chart_selector,
    jupyter_lab,
    open_notebook_in_lab,
    plotly_traces,
    press_slider,
    real_page_errors,
    require_browser,
    run_all_cells,
    screenshot,
    slider_readout,
    voila,
    wait_for_js,
    write_notebook,
)

from esc_analytics.report import _render as report

pytestmark = [pytest.mark.browser, pytest.mark.slow]

REPO_ROOT = Path(__file__).resolve().parents[2]
NOTEBOOKS = REPO_ROOT / "notebooks"
TUNER = NOTEBOOKS / "02_tune_thresholds.ipynb"
# A FigureWidget's own element carries both its CSS class and .js-plotly-plot.
TIMELINE = chart_selector("esc-timeline")
TRADEOFF = chart_selector("esc-tradeoff")

# A slider with a CSS class driving a FigureWidget: y = n * x for x in 0..4.
TINY_WIDGET_CELL = """
import ipywidgets as w
import plotly.graph_objects as go

slider = w.IntSlider(value=n, min=0, max=10, description="n", continuous_update=True)
slider.add_class("esc-test-slider")
chart = go.FigureWidget(go.Scatter(x=list(range(5)), y=[n * x for x in range(5)], name="n*x"))
chart.layout.height = 320


def redraw(change):
    with chart.batch_update():
        chart.data[0].y = [change["new"] * x for x in range(5)]


slider.observe(redraw, "value")
box = w.VBox([slider, chart])
box.add_class("esc-test-box")
box
"""
STATIC_FIGURE_CELL = "go.Figure(go.Bar(x=['a', 'b', 'c'], y=[n, 2 * n, 3 * n]))"

PLOTS_DRAWN = """(minimum) => {
    const plots = Array.from(document.querySelectorAll('.js-plotly-plot'));
    const drawn = plots.filter(p => p.querySelector('.main-svg') && (p.data || []).length > 0);
    return drawn.length >= minimum;
}"""


@pytest.fixture()
def tiny_notebook(tmp_path: Path) -> Path:
    return write_notebook(tmp_path / "tiny.ipynb", "n = 2", TINY_WIDGET_CELL, STATIC_FIGURE_CELL)


def _chart_y(page, css_class: str) -> list[float]:
    traces = plotly_traces(page, f".{css_class} .js-plotly-plot")
    assert traces and traces[0], f"no plotly chart inside .{css_class}"
    return traces[0][0]["y"]


def test_lab_runs_a_notebook_and_a_keyboard_slider_redraws_the_chart(tiny_notebook: Path) -> None:
    require_browser()
    with (
        jupyter_lab(tiny_notebook.parent) as lab,
        browser_page(allow_local_http=True) as (
            page,
            _log,
        ),
    ):
        open_notebook_in_lab(page, lab, tiny_notebook.name)
        run_all_cells(page)
        page.locator(".esc-test-slider [role='slider']").wait_for(state="visible")
        wait_for_js(page, PLOTS_DRAWN, 2)
        assert _chart_y(page, "esc-test-box") == [0, 2, 4, 6, 8]
        screenshot(page.locator(".esc-test-box").first, "lab-tiny-before.png")

        press_slider(page, "esc-test-slider", "ArrowRight", times=2)
        wait_for_js(
            page,
            "() => document.querySelector('.esc-test-slider .widget-readout')"
            ".textContent.trim() === '4'",
        )
        assert slider_readout(page, "esc-test-slider") == "4"
        wait_for_js(
            page,
            """() => { const gd = document.querySelector('.esc-test-box .js-plotly-plot');
                       return gd && gd.data[0].y[4] === 16; }""",
        )
        assert _chart_y(page, "esc-test-box") == [0, 4, 8, 12, 16]
        screenshot(page.locator(".esc-test-box").first, "lab-tiny-after.png")


@pytest.mark.skipif(not TUNER.exists(), reason="notebooks/02_tune_thresholds.ipynb not there yet")
def test_tuner_in_lab_threshold_slider_changes_the_figures(tmp_path: Path) -> None:
    """Open 02 in Lab (a copy: Lab must never write outputs into the repo), run all, move the
    first threshold slider with the keyboard, and check timeline and trade-off data change."""
    require_browser()
    copy = tmp_path / TUNER.name
    shutil.copy(TUNER, copy)
    with jupyter_lab(tmp_path) as lab, browser_page(allow_local_http=True) as (page, _log):
        open_notebook_in_lab(page, lab, copy.name, timeout_ms=90_000)
        run_all_cells(page, timeout_ms=180_000)
        sliders = page.locator(".esc-threshold-slider")
        sliders.first.wait_for(state="visible", timeout=60_000)
        slider = sliders.first
        wait_for_js(page, PLOTS_DRAWN, 2, timeout_ms=60_000)
        timeline_before = plotly_traces(page, TIMELINE)
        tradeoff_before = plotly_traces(page, TRADEOFF)
        assert timeline_before and timeline_before[0], "no timeline chart found"
        assert tradeoff_before and tradeoff_before[0], "no trade-off chart found"
        screenshot(page.locator(".esc-timeline").first, "tuner-timeline-before.png")
        screenshot(page.locator(".esc-tradeoff").first, "tuner-tradeoff-before.png")

        tiers_before = page.locator(".esc-tier-table").first.inner_text()

        # Arrow keys step the threshold (the readout follows); End jumps to the strictest value,
        # which must remove escalations: timeline, trade-off point and tier table all change.
        readout = slider.locator(".widget-readout")
        before = readout.inner_text().strip()
        slider.locator("[role='slider']").first.focus()
        page.keyboard.press("ArrowRight")
        _wait_changed(page, readout, before)
        before = readout.inner_text().strip()
        page.keyboard.press("End")
        _wait_changed(page, readout, before)
        _wait_data_changed(page, TIMELINE, timeline_before)
        _wait_data_changed(page, TRADEOFF, tradeoff_before)
        page.wait_for_function(
            "([el, before]) => el.innerText !== before",
            arg=[page.locator(".esc-tier-table").first.element_handle(), tiers_before],
        )
        assert plotly_traces(page, TIMELINE) != timeline_before
        assert plotly_traces(page, TRADEOFF) != tradeoff_before
        screenshot(page.locator(".esc-timeline").first, "tuner-timeline-after.png")
        screenshot(page.locator(".esc-tradeoff").first, "tuner-tradeoff-after.png")
        if page.locator(".esc-tier-table").count():
            screenshot(page.locator(".esc-tier-table").first, "tuner-tier-table-after.png")


def _wait_changed(page, locator, before: str, timeout_ms: int = 60_000) -> None:
    """Wait until ``locator``'s text differs from ``before`` (the widget took the key press)."""
    locator.page.wait_for_function(
        "([el, before]) => el.textContent.trim() !== before",
        arg=[locator.element_handle(), before],
        timeout=timeout_ms,
    )


def _wait_data_changed(page, selector: str, before: list, timeout_ms: int = 60_000) -> None:
    """Poll the charts' data until it differs from ``before`` (the kernel redrew them)."""
    deadline = time.monotonic() + timeout_ms / 1000
    while plotly_traces(page, selector) == before:
        assert time.monotonic() < deadline, f"{selector} did not change"
        page.wait_for_timeout(200)





def _open_offline(page, html_path: Path, minimum_plots: int) -> None:
    page.goto(html_path.resolve().as_uri())
    wait_for_js(page, PLOTS_DRAWN, minimum_plots, timeout_ms=60_000)


def test_rendered_widget_notebook_draws_offline(tiny_notebook: Path) -> None:
    require_browser()
    out = report.render_notebook(tiny_notebook, artifact_path("tiny.html"), {"n": 3}, timeout=120)
    with browser_page(allow_local_http=False) as (page, log):
        errors: list[str] = []
        page.on("pageerror", lambda exc: errors.append(str(exc)))
        _open_offline(page, out, 2)
        page.locator(".esc-test-slider.widget-slider").wait_for(state="visible")
        assert slider_readout(page, "esc-test-slider") == "3"
        assert _chart_y(page, "esc-test-box") == [0, 3, 6, 9, 12]
        bars = [t for plot in plotly_traces(page) for t in plot if t["type"] == "bar"]
        assert [b["y"] for b in bars] == [[3, 6, 9]]
        screenshot(page.locator(".esc-test-box").first, "offline-tiny-widgets.png")
        assert real_page_errors(errors) == []
        assert log.aborted == [], f"requests tried to leave the machine: {log.aborted}"
        assert all(url.startswith("file:") for url in log.allowed if "://" in url)


UPDATED_FIGURE_WIDGET_CELL = """
import plotly.graph_objects as go

chart = go.FigureWidget()
chart.add_class("esc-updated-chart")
chart.add_traces([go.Scatter(x=[1, 2, 3], y=[n, n, n], name="first")])
chart.add_traces([go.Bar(x=[1, 2, 3], y=[1.5, 2.5, 3.5], name="second")])
with chart.batch_update():
    chart.data[0].y = [n, 2 * n, 3 * n]
    chart.layout.title = "updated after display"
chart
"""


def test_rendered_figure_widget_shows_its_final_state(tmp_path: Path) -> None:
    """A FigureWidget built empty and updated from Python (traces added, data restyled) must
    show its final figure in the offline HTML, without script errors."""
    require_browser()
    notebook = write_notebook(tmp_path / "upd.ipynb", "n = 2", UPDATED_FIGURE_WIDGET_CELL)
    out = report.render_notebook(notebook, artifact_path("updated-widget.html"), timeout=120)
    with browser_page(allow_local_http=False) as (page, log):
        errors: list[str] = []
        page.on("pageerror", lambda exc: errors.append(str(exc)))
        _open_offline(page, out, 1)
        traces = plotly_traces(page, chart_selector("esc-updated-chart"))
        assert [(t["name"], t["y"]) for t in traces[0]] == [
            ("first", [2, 4, 6]),
            ("second", [1.5, 2.5, 3.5]),
        ]
        assert "updated after display" in page.locator(".esc-updated-chart .gtitle").text_content()
        assert real_page_errors(errors) == []
        assert log.aborted == []


SECOND_FIGURE_WIDGET_CELL = """
other = go.FigureWidget(go.Scatter(x=[0, 1], y=[n, 10 * n], name="other"))
other.add_class("esc-second-chart")
other
"""


def test_two_figure_widgets_share_one_bundle_and_both_draw(tmp_path: Path) -> None:
    """Each FigureWidget saves plotly.js (≈5 MB) as its module source; the report stores it
    once and puts it back before the widgets are built: both charts still draw offline."""
    require_browser()
    notebook = write_notebook(
        tmp_path / "two.ipynb", "n = 2", UPDATED_FIGURE_WIDGET_CELL, SECOND_FIGURE_WIDGET_CELL
    )
    out = report.render_notebook(notebook, artifact_path("two-widgets.html"), timeout=120)
    html = out.read_text(encoding="utf-8")
    assert 'id="esc-shared-widget-texts"' in html
    assert len(re.findall(r'"esc_shared_text":\s*0\b', html)) == 2
    with browser_page(allow_local_http=False) as (page, log):
        errors: list[str] = []
        page.on("pageerror", lambda exc: errors.append(str(exc)))
        _open_offline(page, out, 2)
        first = plotly_traces(page, chart_selector("esc-updated-chart"))[0]
        second = plotly_traces(page, chart_selector("esc-second-chart"))[0]
        assert [t["y"] for t in first] == [[2, 4, 6], [1.5, 2.5, 3.5]]
        assert [(t["name"], t["y"]) for t in second] == [("other", [2, 20])]
        assert real_page_errors(errors) == []
        assert log.aborted == []


@pytest.mark.skipif(
    not (REPO_ROOT / "data" / "sample" / "mentions.csv.gz").exists(),
    reason="bundled sample data not generated yet",
)
def test_rendered_explore_notebook_draws_offline() -> None:
    require_browser()
    out = report.render_notebook(
        NOTEBOOKS / "01_explore_data.ipynb", artifact_path("01_explore_data.html"), timeout=300
    )
    with browser_page(allow_local_http=False) as (page, log):
        _open_offline(page, out, 1)
        traces = plotly_traces(page)
        assert sum(len(plot) for plot in traces) >= 3  # volume, baseline, negative share
        assert all(any(t["y"] for t in plot) for plot in traces)
        assert page.locator("table.esc-mentions").count() >= 2  # incidents + spike sample
        screenshot(page.locator(".js-plotly-plot").first, "offline-01-volume.png")
        assert log.aborted == [], f"requests tried to leave the machine: {log.aborted}"


def test_voila_serves_widgets(tiny_notebook: Path) -> None:
    """What `make app` does (voila on loopback), on the tuner when it exists, else a tiny one."""
    require_browser()
    target = TUNER if TUNER.exists() else tiny_notebook
    widget = ".esc-threshold-slider" if TUNER.exists() else ".esc-test-slider"
    with voila(target) as server, browser_page(allow_local_http=True) as (page, log):
        page.goto(server.url, wait_until="domcontentloaded")
        page.locator(f"{widget} [role='slider']").first.wait_for(state="visible", timeout=90_000)
        wait_for_js(page, PLOTS_DRAWN, 1, timeout_ms=60_000)
        screenshot(page.locator(widget).first, "voila-widget.png")
        assert not [u for u in log.aborted if u.startswith(("http://127.0.0.1", "ws://127."))]
