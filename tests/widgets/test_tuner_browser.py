"""The tuner and the what-if in JupyterLab at 1400x900 with the file browser open (the default
layout a newcomer sees): every slider handle, readout, picker and button fully visible (not
clipped by a box, not cut short), tables inside their box with one-line rows, and a real mouse
drag of a threshold handle (press, move, release — not the keyboard) redraws the charts.

Screenshots go to test-artifacts/ (git-ignored).
"""

from __future__ import annotations

import contextlib
import shutil
import time
from collections.abc import Iterator
from pathlib import Path

import pytest
from browser_utils import (
    artifact_path,
    browser_page,
    chart_selector,
    jupyter_lab,
    open_notebook_in_lab,
    plotly_traces,
    require_browser,
    run_all_cells,
)

pytestmark = [pytest.mark.browser, pytest.mark.slow]

NOTEBOOKS = Path(__file__).resolve().parents[2] / "notebooks"
VIEWPORT = (1400, 900)
TIMELINE = chart_selector("esc-timeline")
TRADEOFF = chart_selector("esc-tradeoff")

# Controls that must be whole: inside the viewport and inside every box that clips them
# horizontally; buttons and labels not cut short (their text fits).
UNCLIPPED = """([root, selector]) => {
    const box = document.querySelector(root);
    const out = [];
    for (const el of box.querySelectorAll(selector)) {
        const r = el.getBoundingClientRect();
        const name = (el.innerText || el.getAttribute('aria-valuenow') || el.className || '')
            .toString().trim().slice(0, 40);
        if (r.width < 2 || r.height < 2) { out.push(`${name}: not shown`); continue; }
        if (r.left < 0 || r.right > window.innerWidth) { out.push(`${name}: off screen`); }
        for (let p = el.parentElement; p && p !== document.body; p = p.parentElement) {
            if (!/(hidden|auto|scroll|clip)/.test(getComputedStyle(p).overflowX)) { continue; }
            const q = p.getBoundingClientRect();
            if (r.left < q.left - 1 || r.right > q.right + 1) {
                out.push(`${name}: clipped by .${String(p.className).split(' ').pop()}`);
                break;
            }
        }
        if (/BUTTON|LABEL/.test(el.tagName) || el.classList.contains('widget-readout')) {
            if (el.scrollWidth > el.clientWidth + 1) { out.push(`${name}: text cut short`); }
        }
    }
    return out;
}"""
CONTROLS = (
    "[role='slider'], .widget-readout, .widget-dropdown select, button, .esc-param-label,"
    " .esc-tier-head"
)


def _viewport_shots(page, selector: str, stem: str, count: int = 3) -> list[Path]:
    """Screenshots of the viewport while scrolling through the widget (Lab scrolls its panes)."""
    el = page.locator(selector).first
    el.evaluate("e => e.scrollIntoView({block: 'start'})")
    page.wait_for_timeout(500)
    paths = []
    for i in range(count):
        path = artifact_path(f"{stem}-{i}.png")
        page.screenshot(path=str(path))
        paths.append(path)
        el.evaluate(
            """e => { let p = e.parentElement;
                      while (p && p.scrollHeight <= p.clientHeight + 2) p = p.parentElement;
                      if (p) p.scrollBy(0, 700); }"""
        )
        page.wait_for_timeout(400)
    el.evaluate("e => e.scrollIntoView({block: 'start'})")
    return paths


def _open(page, lab, notebook: Path) -> None:
    open_notebook_in_lab(page, lab, notebook.name, timeout_ms=90_000)
    left = page.evaluate(
        "() => { const e = document.querySelector('#jp-left-stack');"
        " return e ? e.getBoundingClientRect().width : 0; }"
    )
    assert left > 200, "the file browser sidebar should be open (Lab's default layout)"
    run_all_cells(page, timeout_ms=400_000)


@contextlib.contextmanager
def _notebook_in_lab(tmp_path: Path, name: str) -> Iterator:
    """A copy of notebook ``name`` open in JupyterLab (file browser open) at ``VIEWPORT``,
    all cells run: the page."""
    copy = tmp_path / name
    shutil.copy(NOTEBOOKS / copy.name, copy)
    with (
        jupyter_lab(tmp_path) as lab,
        browser_page(allow_local_http=True, viewport=VIEWPORT) as (page, _log),
    ):
        _open(page, lab, copy)
        yield page


def _wait_data_changed(page, selector: str, before: list, timeout_s: float = 60) -> None:
    deadline = time.monotonic() + timeout_s
    while plotly_traces(page, selector) == before:
        assert time.monotonic() < deadline, f"{selector} did not change"
        page.wait_for_timeout(200)


def test_tuner_fits_1400x900_with_the_sidebar_and_a_mouse_drag_redraws(tmp_path: Path) -> None:
    require_browser()
    with _notebook_in_lab(tmp_path, "02_tune_thresholds.ipynb") as page:
        page.locator(".esc-tuner .esc-threshold-slider").first.wait_for(timeout=90_000)
        page.wait_for_function(
            "() => document.querySelectorAll('.esc-tuner .js-plotly-plot .main-svg').length >= 2",
            timeout=90_000,
        )
        page.wait_for_timeout(1500)  # charts re-fit to their box
        _viewport_shots(page, ".esc-tuner", "tuner-1400x900")

        assert page.evaluate(UNCLIPPED, [".esc-tuner", CONTROLS]) == []
        geometry = page.evaluate(
            """() => {
                const tuner = document.querySelector('.esc-tuner');
                const out = document.querySelector('.esc-tuner').closest('.jp-OutputArea-output');
                const width = (sel) => Array.from(tuner.querySelectorAll(sel)).map(e => [
                    Math.round(e.getBoundingClientRect().width),
                    Math.round(e.parentElement.getBoundingClientRect().width)]);
                return {
                    tuner: [tuner.scrollWidth, tuner.clientWidth, out.clientWidth],
                    charts: width('.js-plotly-plot .main-svg'),
                    rows: Array.from(tuner.querySelectorAll('.esc-incidents tr'))
                        .map(r => r.getBoundingClientRect().height),
                    heads: Array.from(tuner.querySelectorAll('.esc-tier-head'))
                        .map(h => h.innerText),
                };
            }"""
        )
        scroll, client, output = geometry["tuner"]
        assert scroll <= client + 1 and client <= output + 1, geometry["tuner"]
        for chart, parent in geometry["charts"]:  # each chart fits the box it is drawn in
            assert chart <= parent + 1, geometry["charts"]
        assert geometry["rows"] and max(geometry["rows"]) <= 24, geometry["rows"][:5]
        assert any(h.startswith("Tier 1 · Community manager") for h in geometry["heads"])
        assert "Community team" in geometry["heads"][0]

        # The calibrated value is marked on each threshold slider's track.
        marks = page.evaluate(
            """() => Array.from(document.querySelectorAll('.esc-tuner .noUi-base')).map(b =>
                getComputedStyle(b, '::after').content !== 'none')"""
        )
        assert marks and all(marks)

        # A real mouse drag of the first threshold's handle (not the keyboard).
        slider = page.locator(".esc-tuner .esc-threshold-slider").first
        readout = slider.locator(".widget-readout")
        before_value = readout.inner_text().strip()
        timeline_before = plotly_traces(page, TIMELINE)
        tradeoff_before = plotly_traces(page, TRADEOFF)
        handle = slider.locator(".noUi-handle").first
        handle.scroll_into_view_if_needed()
        box = handle.bounding_box()
        x, y = box["x"] + box["width"] / 2, box["y"] + box["height"] / 2
        page.mouse.move(x, y)
        page.mouse.down()
        page.mouse.move(x + 70, y, steps=8)
        page.mouse.up()
        page.wait_for_function(
            "([el, before]) => el.textContent.trim() !== before",
            arg=[readout.element_handle(), before_value],
            timeout=30_000,
        )
        _wait_data_changed(page, TIMELINE, timeline_before)
        _wait_data_changed(page, TRADEOFF, tradeoff_before)
        assert float(readout.inner_text()) > float(before_value)
        _viewport_shots(page, ".esc-tuner", "tuner-1400x900-after-drag", count=1)

        # Narrow (a smaller window, the sidebar still open): controls go above the charts,
        # still whole.
        page.set_viewport_size({"width": 1000, "height": 900})
        page.wait_for_timeout(2500)
        boxes = page.evaluate(
            """() => ['.esc-controls', '.esc-charts'].map(s => {
                const r = document.querySelector('.esc-tuner ' + s).getBoundingClientRect();
                return [r.top, r.bottom, r.left, r.right]; })"""
        )
        (_ct, c_bottom, _cl, _cr), (g_top, _gb, _gl, _gr) = boxes
        assert g_top >= c_bottom - 1, boxes  # the trade-off chart wrapped under the controls
        assert page.evaluate(UNCLIPPED, [".esc-tuner", CONTROLS]) == []
        width = page.evaluate(
            """() => { const gd = document.querySelector('.esc-tradeoff .js-plotly-plot');
                return [gd.getBoundingClientRect().width,
                        Number(gd.querySelector('.main-svg').getAttribute('width'))]; }"""
        )
        assert abs(width[0] - width[1]) <= 2, width  # the chart re-fitted its new box
        _viewport_shots(page, ".esc-tuner", "tuner-1000x900-narrow", count=2)


def test_whatif_tables_fit_their_box_at_1400x900(tmp_path: Path) -> None:
    require_browser()
    with _notebook_in_lab(tmp_path, "05_policy_what_if.ipynb") as page:
        page.locator(".esc-whatif-box .esc-table").first.wait_for(timeout=90_000)
        page.wait_for_timeout(1500)
        _viewport_shots(page, ".esc-whatif-box", "whatif-1400x900")
        sizes = page.evaluate(
            """() => {
                const box = document.querySelector('.esc-whatif-box');
                const out = box.closest('.jp-OutputArea-output');
                return {
                    box: [box.scrollWidth, box.clientWidth, out.clientWidth],
                    tables: Array.from(box.querySelectorAll('.esc-whatif-incidents, '
                        + '.esc-whatif-tiers')).map(t => [t.getBoundingClientRect().right,
                        box.getBoundingClientRect().right]),
                    rows: Array.from(box.querySelectorAll('.esc-whatif-incidents tr'))
                        .map(r => r.getBoundingClientRect().height),
                };
            }"""
        )
        scroll, client, output = sizes["box"]
        assert scroll <= client + 1 and client <= output + 1, sizes["box"]
        assert all(right <= limit + 1 for right, limit in sizes["tables"]), sizes["tables"]
        assert max(sizes["rows"]) <= 24
        assert page.evaluate(UNCLIPPED, [".esc-whatif-box", ".widget-dropdown select"]) == []
