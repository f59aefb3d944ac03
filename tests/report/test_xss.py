"""Mention texts come from the public internet: markup in a post must be shown, never run.

Unit tests of the escaping helpers, then an end-to-end test: a notebook shows hostile mentions
through the library's table and plotly hover helpers (and in widgets), is rendered to HTML, and
the HTML is opened in chromium offline: no script ran and the literal text is visible.
"""

from __future__ import annotations

import html
import json
from pathlib import Path

import pandas as pd
import pytest
from browser_utils import artifact_path, browser_page, require_browser, screenshot, write_notebook
from hypothesis import given, settings
from hypothesis import strategies as st

from esc_analytics._util.errors import DataLoadError
from esc_analytics._util.html import (
    SafeHTML,
    escape_text,
    mentions_table_html,
    plotly_safe,
    plotly_safe_many,
)
from esc_analytics.report import _render as report

SCRIPT = "<script>window.__xss=1</script>"
IMG = '<img src=x onerror="window.__xss=2">'
SVG = "<svg onload=\"window.__xss=4\"></svg> & 'quotes'"


# --- helpers ----------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("value", "expected"),
    [
        (SCRIPT, "&lt;script&gt;window.__xss=1&lt;/script&gt;"),
        (IMG, "&lt;img src=x onerror=&quot;window.__xss=2&quot;&gt;"),
        ("Tom & Jerry's", "Tom &amp; Jerry&#x27;s"),
        (None, ""),
        (float("nan"), ""),
        (pd.NA, ""),
        (pd.NaT, ""),
        (42, "42"),
        (pd.Timestamp("2026-01-05 10:00", tz="UTC"), "2026-01-05T10:00:00+00:00"),
    ],
)
def test_escape_text(value: object, expected: str) -> None:
    assert escape_text(value) == expected


def test_escape_text_shortens_before_escaping() -> None:
    assert escape_text("a&b&c&d", max_chars=4) == "a&amp;b…"  # 3 chars + "…", then escaped
    assert escape_text("short", max_chars=10) == "short"
    with pytest.raises(ValueError, match="max_chars"):
        escape_text("x", max_chars=0)


@settings(deadline=None)  # trivial work: a loaded CI box must not make it flaky
@given(st.text())
def test_escape_text_round_trips_and_leaves_no_markup(text: str) -> None:
    escaped = escape_text(text)
    assert not set("<>\"'") & set(escaped)
    assert html.unescape(escaped) == text


@settings(deadline=None)
@given(st.text())
def test_plotly_safe_round_trips_without_angle_brackets(text: str) -> None:
    safe = plotly_safe(text)
    assert "<" not in safe and ">" not in safe
    assert html.unescape(safe) == text


def test_plotly_safe_values() -> None:
    assert plotly_safe("<b>bold</b> & co") == "&lt;b&gt;bold&lt;/b&gt; &amp; co"
    assert plotly_safe(None) == ""
    assert plotly_safe_many(["<i>", None, 3]) == ["&lt;i&gt;", "", "3"]


def test_mentions_table_escapes_every_cell_and_header() -> None:
    frame = pd.DataFrame({"text": [SCRIPT, IMG, None], "<th>": ["<b>", "ok", "x"], "n": [1, 2, 3]})
    table = mentions_table_html(frame, ["text", "<th>"], max_rows=2, caption="<i>cap</i>")
    assert isinstance(table, SafeHTML) and table._repr_html_() == str(table)
    assert "<script" not in table and "<img" not in table and "<b>" not in table
    assert "<i>" not in table
    assert "&lt;script&gt;window.__xss=1&lt;/script&gt;" in table
    assert '<th style="text-align:left">&lt;th&gt;</th>' in table
    assert table.count("<tr>") == 3  # header + 2 rows
    assert "2 of 3 rows shown" in table
    # the full frame is shown when it fits; all columns when none are named
    full = mentions_table_html(frame)
    assert full.count("<tr>") == 4 and "rows shown" not in full
    assert '<td style="text-align:left"></td>' in full  # None → empty cell


def test_mentions_table_shortens_long_texts() -> None:
    table = mentions_table_html(pd.DataFrame({"text": ["x" * 500]}), max_chars=10)
    assert "x" * 9 + "…" in table and "x" * 10 not in table


def test_mentions_table_rejects_missing_columns_and_non_frames() -> None:
    frame = pd.DataFrame({"text": ["a"]})
    with pytest.raises(DataLoadError, match=r"\['author'\] are not in the frame.*'text'"):
        mentions_table_html(frame, ["text", "author"])
    with pytest.raises(DataLoadError, match="expected a pandas DataFrame"):
        mentions_table_html([{"text": "a"}])  # type: ignore[arg-type]
    with pytest.raises(ValueError, match="max_rows"):
        mentions_table_html(frame, max_rows=-1)


# --- end to end in a real browser -------------------------------------------------------------

HOSTILE_CELL = f"""
import ipywidgets as w
import pandas as pd
import plotly.graph_objects as go
from IPython.display import display

from esc_analytics._util.html import mentions_table_html, plotly_safe_many

texts = {json.dumps([SCRIPT, IMG, SVG])}
mentions = pd.DataFrame({{"author": ["<b>eve</b>", "mallory", "trudy"], "text": texts}})
display(mentions_table_html(mentions, ["author", "text"], caption="hostile mentions"))
fig = go.Figure(go.Scatter(x=[1, 2, 3], y=[3, 1, 2], mode="markers",
                           hovertext=plotly_safe_many(texts), hoverinfo="text"))
fig.update_layout(title="hostile hover")
display(fig)
area = w.Textarea(value=texts[0] + "</script><script>window.__xss=3</script>")
area.add_class("esc-xss-textarea")
display(w.VBox([w.HTML(mentions_table_html(mentions, ["text"])), area]))
"""


@pytest.mark.browser
@pytest.mark.slow
def test_hostile_mentions_are_displayed_not_executed(tmp_path: Path) -> None:
    require_browser()
    notebook = write_notebook(tmp_path / "xss.ipynb", "n = 1", HOSTILE_CELL)
    out = report.render_notebook(notebook, artifact_path("xss.html"), timeout=120)
    with browser_page(allow_local_http=False) as (page, log):
        errors: list[str] = []
        page.on("pageerror", lambda exc: errors.append(str(exc)))
        page.goto(out.resolve().as_uri())
        # everything that could run has had its chance: chart drawn, widgets rendered
        page.wait_for_selector(".js-plotly-plot .main-svg")
        page.wait_for_selector(".esc-xss-textarea textarea")
        assert page.evaluate("() => window.__xss") is None
        # the texts are on the page, literally
        table = page.locator("table.esc-mentions").first
        assert table.locator("td").nth(1).inner_text() == SCRIPT
        assert table.locator("td").nth(3).inner_text() == IMG
        assert table.locator("td").nth(0).inner_text() == "<b>eve</b>"
        assert page.locator("table.esc-mentions img, table.esc-mentions script").count() == 0
        area = page.locator(".esc-xss-textarea textarea")
        assert area.input_value() == SCRIPT + "</script><script>window.__xss=3</script>"
        widget_table = page.locator(".widget-html table.esc-mentions")
        assert widget_table.locator("td").first.inner_text() == SCRIPT
        # plotly hover: show the label of the <img> point, it must be text
        plot = page.locator(".js-plotly-plot").first
        page.evaluate(
            """() => { const gd = document.querySelector('.js-plotly-plot');
                       Plotly.Fx.hover(gd, [{curveNumber: 0, pointNumber: 1}]); }"""
        )
        hover = page.locator(".js-plotly-plot .hoverlayer .hovertext").first
        hover.wait_for(state="attached")
        assert hover.text_content() == IMG
        assert page.locator(".js-plotly-plot .hoverlayer image").count() == 0
        screenshot(plot, "xss-hover.png")
        screenshot(table, "xss-table.png")
        assert page.evaluate("() => window.__xss") is None
        assert errors == []
        assert [u for u in log.aborted] == []
