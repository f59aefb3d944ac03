"""The meeting report's structure, from executed-notebook outputs (no kernel): what is kept,
what is left out, the header, and the plotly bundle chosen."""

from __future__ import annotations

import nbformat
import pytest

from esc_analytics.report import meeting_report
from esc_analytics.widgets.meeting import MEETING_MIMETYPE, plain_warning


def _nb(*outputs, markdown="# Title of the notes\n\nIntro."):
    nb = nbformat.v4.new_notebook()
    code = nbformat.v4.new_code_cell("x = 1")
    code.outputs = [nbformat.from_dict(o) for o in outputs]
    nb.cells = [nbformat.v4.new_markdown_cell(markdown), code]
    return nb


def _display(data):
    return {"output_type": "display_data", "data": data, "metadata": {}}


FIGURE = {"data": [{"type": "scatter", "x": [1, 2], "y": [3, 4]}], "layout": {"height": 300}}
SUMMARY = {
    "data_notes": ["tier 3 uses influencer_mentions, which the mentions do not carry"],
    "technical_warnings": 2,
    "snapshot": {"data_until": "2026-03-01T00:00:00+00:00", "inputs": ["m.csv", "i.csv"]},
}


def test_outputs_kept_and_left_out():
    nb = _nb(
        {"output_type": "stream", "name": "stderr", "text": "UserWarning: /home/me/x.py:3"},
        {"output_type": "stream", "name": "stdout", "text": "raw print"},
        _display({"text/html": "<script>plotly.js init</script>"}),
        _display({"application/vnd.plotly.v1+json": FIGURE, "text/html": "<div>x</div>"}),
        _display({"text/markdown": "a <b>bold</b> claim | [l](javascript:alert(1))"}),
        _display({"text/html": "<table><tr><td>1</td></tr></table>"}),
        _display({"text/plain": "<Widget>"}),
        _display({MEETING_MIMETYPE: SUMMARY}),
    )
    report = meeting_report(
        nb, source="nb.ipynb", parameters={"incident_id": "INC-1", "data_dir": "/secret/path"}
    )
    kinds = [b.kind for b in report.blocks]
    assert kinds == ["markdown", "figure", "markdown", "html"]
    assert report.title == "Title of the notes"
    assert report.data_notes == (SUMMARY["data_notes"][0],)
    assert report.snapshot == (
        "Snapshot of the data up to 2026-03-01 00:00 UTC, generated from m.csv, i.csv by "
        "nb.ipynb (incident id INC-1)."
    )
    html = report.to_html()
    for gone in ("raw print", "UserWarning", "plotly.js init", "/secret/path", "&lt;Widget&gt;"):
        assert gone not in html
    assert "a &lt;b&gt;bold&lt;/b&gt; claim" in html and "javascript:" not in html
    at = [html.index(f'class="esc-{name}"') for name in ("snapshot", "data-notes", "figure")]
    assert at == sorted(at)  # the snapshot line, then the data notes, then the content
    assert "2 technical warnings from other libraries left out" in html
    assert html.count("plotly.js (basic") == 1  # scatter only: the smallest bundle
    assert report.to_html() == html  # deterministic


@pytest.mark.parametrize(
    ("trace", "bundle"),
    [("bar", "plotly.js (basic"), ("heatmap", "plotly.js (cartesian"), ("sankey", "plotly.js v")],
)
def test_the_smallest_bundle_that_draws_every_figure(trace, bundle):
    fig = {"data": [{"type": trace}], "layout": {}}
    html = meeting_report(_nb(_display({"application/vnd.plotly.v1+json": fig}))).to_html()
    assert html.count(bundle) == 1 and html.count("Copyright 2012-") == 1


def test_no_figure_no_plotly_and_an_explicit_snapshot_date():
    report = meeting_report(_nb(_display({"text/html": "<p>x</p>"})), snapshot="2026-04-01")
    html = report.to_html()
    assert "Copyright 2012-" not in html
    assert "Snapshot of 2026-04-01." in html and 'class="esc-data-notes"' not in html


@pytest.mark.parametrize(
    ("message", "plain"),
    [
        ("tier 2 reads /home/ana/data/export.csv now", "tier 2 reads export.csv now"),
        ("see C:\\Users\\ana\\x\\file.yaml\n  twice", "see file.yaml twice"),
        ("volume_ratio >= 2.5", "volume_ratio >= 2.5"),
    ],
)
def test_warnings_in_plain_words(message, plain):
    assert plain_warning(message) == plain
