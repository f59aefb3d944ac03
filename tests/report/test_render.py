"""Notebook execution with injected parameters, self-contained HTML rendering, the render CLI,
figure export, and the state of the committed notebooks (no outputs, a parameters cell)."""

from __future__ import annotations

import json
import re
from pathlib import Path

import nbformat
import plotly.graph_objects as go
import pytest
from browser_utils import CHROMIUM, write_notebook

from esc_analytics._util.errors import EscAnalyticsError
from esc_analytics.cli import main
from esc_analytics.cli._render import parse_parameter
from esc_analytics.report import _render as report

REPO_ROOT = Path(__file__).resolve().parents[2]
NOTEBOOKS = sorted((REPO_ROOT / "notebooks").glob("*.ipynb"))

ECHO_CELL = "import json\nprint('PARAMS=' + json.dumps({'n': n, 'label': label, 'items': items}))"


def _stdout(nb: nbformat.NotebookNode) -> str:
    return "".join(
        out.get("text", "")
        for cell in nb.cells
        for out in cell.get("outputs", ())
        if out.get("output_type") == "stream"
    )


def _echoed(nb: nbformat.NotebookNode) -> dict:
    match = re.search(r"PARAMS=(\{.*\})", _stdout(nb))
    assert match, _stdout(nb)
    return json.loads(match.group(1))


@pytest.fixture()
def echo_notebook(tmp_path: Path) -> Path:
    return write_notebook(
        tmp_path / "echo.ipynb", "n = 1\nlabel = 'default'\nitems = []", ECHO_CELL
    )


@pytest.fixture(scope="module")
def widget_html(tmp_path_factory: pytest.TempPathFactory) -> str:
    """HTML of a rendered notebook with a slider, a FigureWidget and a plain figure."""
    folder = tmp_path_factory.mktemp("widgets")
    path = write_notebook(
        folder / "w.ipynb",
        "n = 3",
        "import ipywidgets as w\nimport plotly.graph_objects as go\n"
        "s = w.IntSlider(value=n, max=10)\ns.add_class('esc-test-slider')\n"
        "w.VBox([s, go.FigureWidget(go.Scatter(x=[1, 2], y=[n, n]))])",
        "go.Figure(go.Bar(x=['a', 'b'], y=[1, n]))",
    )
    return report.render_html(report.execute_notebook(path, {"n": 7}, timeout=120))


# --- parameters and execution -----------------------------------------------------------------


def test_notebook_parameters_lists_names_and_default_expressions(echo_notebook: Path) -> None:
    assert report.notebook_parameters(echo_notebook) == {
        "n": "1",
        "label": "'default'",
        "items": "[]",
    }


@pytest.fixture(scope="module")
def executed_echo(tmp_path_factory: pytest.TempPathFactory) -> nbformat.NotebookNode:
    """The echo notebook, committed with a stale output and a stale injected cell, run with
    parameters in another working directory (one kernel run shared by several tests)."""
    folder = tmp_path_factory.mktemp("echo")
    (folder / "work").mkdir()
    (folder / "work" / "marker.txt").write_text("found in cwd")
    path = write_notebook(
        folder / "echo.ipynb",
        "n = 1\nlabel = 'default'\nitems = []",
        ECHO_CELL,
        "print(open('marker.txt').read())",
    )
    nb = nbformat.read(path, as_version=4)
    nb.cells[1].outputs = [nbformat.v4.new_output("stream", text="STALE OUTPUT\n")]
    nb.cells[1].execution_count = 7
    old = nbformat.v4.new_code_cell("n = 99")
    old.metadata["tags"] = ["injected-parameters"]
    nb.cells.insert(1, old)
    nbformat.write(nb, path)
    return report.execute_notebook(
        path,
        {"n": 5, "label": "<b>x</b>", "items": [1, "a"]},
        timeout=120,
        cwd=folder / "work",
    )


@pytest.mark.slow
def test_execute_injects_parameters_after_the_parameters_cell(
    executed_echo: nbformat.NotebookNode,
) -> None:
    assert _echoed(executed_echo) == {"n": 5, "label": "<b>x</b>", "items": [1, "a"]}
    tags = [cell.metadata.get("tags", []) for cell in executed_echo.cells]
    params_at = next(i for i, t in enumerate(tags) if "parameters" in t)
    assert "injected-parameters" in tags[params_at + 1]
    assert sum("injected-parameters" in t for t in tags) == 1  # the stale one was replaced
    assert report.SETUP_TAG in tags[0]


@pytest.mark.slow
def test_stale_outputs_are_cleared_and_cwd_is_used(executed_echo: nbformat.NotebookNode) -> None:
    assert "STALE" not in _stdout(executed_echo)
    assert _stdout(executed_echo).endswith("found in cwd\n")


def test_unknown_parameter_names_the_existing_ones(echo_notebook: Path) -> None:
    with pytest.raises(EscAnalyticsError, match=r"unknown parameter\(s\) nn.*n, label, items"):
        report.execute_notebook(echo_notebook, {"nn": 5})


def test_parameters_need_a_parameters_cell(tmp_path: Path) -> None:
    path = tmp_path / "plain.ipynb"
    nb = nbformat.v4.new_notebook()
    nb.cells = [nbformat.v4.new_code_cell("x = 1")]
    nbformat.write(nb, path)
    with pytest.raises(EscAnalyticsError, match="no cell tagged 'parameters'"):
        report.execute_notebook(path, {"x": 2})


# --- HTML -------------------------------------------------------------------------------------


@pytest.mark.slow
def test_rendered_html_is_self_contained(widget_html: str) -> None:
    external = re.findall(
        r"<(?:script|link|img|iframe)\b[^>]*\b(?:src|href)\s*=\s*[\"']?(?:https?:)?//",
        widget_html,
        flags=re.IGNORECASE,
    )
    assert external == []
    assert "RequireJS 2.3.8" in widget_html  # require.js inlined
    assert 'define("@jupyter-widgets/html-manager"' in widget_html  # embed-amd.js inlined
    assert 'define("anywidget", ["@jupyter-widgets/base"]' in widget_html  # named module
    assert "window.Plotly = Plotly" in widget_html  # plotly.js inlined by the setup cell
    assert "application/vnd.jupyter.widget-state+json" in widget_html
    assert "cdn.jsdelivr.net/npm/@jupyter-widgets" not in widget_html
    assert "cdnjs.cloudflare.com/ajax/libs/mathjax" not in widget_html
    assert "esc-analytics report setup" not in widget_html  # setup cell input hidden


@pytest.mark.slow
def test_widget_state_holds_the_injected_value(widget_html: str) -> None:
    match = re.search(
        r'<script type="application/vnd.jupyter.widget-state\+json">(.*?)</script>',
        widget_html,
        flags=re.DOTALL,
    )
    assert match
    state = json.loads(match.group(1))["state"]
    sliders = [m["state"] for m in state.values() if m["model_name"] == "IntSliderModel"]
    assert [s["value"] for s in sliders] == [7]
    assert "esc-test-slider" in sliders[0]["_dom_classes"]


def test_inlined_javascript_cannot_close_its_script_tag() -> None:
    js = report._inline_js()
    for text in js.values():
        assert re.search(r"</script", text, flags=re.IGNORECASE) is None
        assert "<!--" not in text
    assert report._script_safe('a="</SCRIPT>"; b="<!--"') == 'a="<\\/SCRIPT>"; b="<\\!--"'


@pytest.mark.slow
def test_repeated_long_widget_texts_are_stored_once() -> None:
    """Long strings occurring in several widget models become references (in a stable order);
    short or unique ones stay inline."""
    big_a, big_b, unique = "a" * 20_000, "b" * 20_000, "u" * 20_000
    nb = nbformat.v4.new_notebook()
    nb.metadata["widgets"] = {
        "application/vnd.jupyter.widget-state+json": {
            "state": {
                "m1": {"state": {"_esm": big_b, "_css": big_a, "name": "x"}},
                "m2": {"state": {"_esm": big_b, "_css": big_a, "name": "x"}},
                "m3": {"state": {"_esm": unique, "short": "x"}},
                "m4": {},
            },
            "version_major": 2,
        }
    }
    shared = report.share_repeated_widget_texts(nb)
    assert shared == [big_a, big_b]
    models = nb.metadata["widgets"]["application/vnd.jupyter.widget-state+json"]["state"]
    for name in ("m1", "m2"):
        assert models[name]["state"] == {
            "_esm": {"esc_shared_text": 1}, "_css": {"esc_shared_text": 0}, "name": "x"
        }
    assert models["m3"]["state"] == {"_esm": unique, "short": "x"}
    assert report.share_repeated_widget_texts(nbformat.v4.new_notebook()) == []


def test_render_notebook_writes_atomically_and_keeps_old_file_on_failure(tmp_path: Path) -> None:
    good = write_notebook(tmp_path / "good.ipynb", "n = 1", "print(n)")
    out = tmp_path / "out" / "report.html"
    messages: list[str] = []
    assert report.render_notebook(good, out, {"n": 2}, progress=messages.append) == out
    first = out.read_text()
    assert first.startswith("<!DOCTYPE html>")
    assert any("wrote" in m for m in messages) and any("cell 1/" in m for m in messages)
    bad = write_notebook(tmp_path / "bad.ipynb", "n = 1", "x = 1\n1 / 0")
    with pytest.raises(EscAnalyticsError, match=r"'x = 1'.*ZeroDivisionError: division by zero"):
        report.render_notebook(bad, out)
    assert out.read_text() == first
    assert [p.name for p in out.parent.iterdir()] == ["report.html"]  # no temp files left
    with pytest.raises(EscAnalyticsError, match=r"\.html"):
        report.render_notebook(good, tmp_path / "report.pdf")


@pytest.mark.parametrize(
    ("state", "path", "fits"),
    [
        ({"x": None}, ["x"], True),  # value removed by serialisation: the buffer goes here
        ({}, ["x"], True),
        ({"x": [1, 2]}, ["x"], False),  # a later update put a real value there: stale
        ({"d": [{"y": None}]}, ["d", 0, "y"], True),
        ({"d": [{"y": None}]}, ["d", 1, "y"], False),  # that trace no longer exists
        ({"add": {}}, ["add", "trace_data", 0, "x"], False),  # message since reset to {}
        ({"add": None}, ["add", "trace_data", 0, "x"], False),
        ({"l": [None, 3]}, ["l", 0], True),
        ({"l": [None, 3]}, ["l", 1], False),
    ],
)
def test_buffer_fits_only_empty_slots(state: dict, path: list, fits: bool) -> None:
    assert report._buffer_fits(state, path) is fits


def test_drop_stale_buffers_keeps_fitting_ones() -> None:
    key = "application/vnd.jupyter.widget-state+json"
    nb = nbformat.from_dict(
        {
            "metadata": {
                "widgets": {
                    key: {
                        "state": {
                            "a": {
                                "state": {"data": [{"x": None}], "msg": {}},
                                "buffers": [
                                    {"path": ["data", 0, "x"], "data": "AA=="},
                                    {"path": ["msg", "trace_data", 0, "x"], "data": "AQ=="},
                                ],
                            },
                            "b": {"state": {"v": 1}, "buffers": [{"path": ["v"], "data": ""}]},
                        }
                    }
                }
            }
        }
    )
    assert report._drop_stale_buffers(nb) == 2
    state = nb.metadata.widgets[key]["state"]
    assert [b["path"] for b in state["a"]["buffers"]] == [["data", 0, "x"]]
    assert "buffers" not in state["b"]


# --- CLI --------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("pair", "expected"),
    [
        ("n=3", ("n", 3)),
        ("ratio=0.5", ("ratio", 0.5)),
        ("flag=true", ("flag", True)),
        ("none=null", ("none", None)),
        ("freq=1h", ("freq", "1h")),
        ("path=data/sample/mentions.csv.gz", ("path", "data/sample/mentions.csv.gz")),
        ("day=2024-01-02", ("day", "2024-01-02")),
        ("topics=[a, b]", ("topics", ["a", "b"])),
        ("text=a=b", ("text", "a=b")),
        ("empty=", ("empty", "")),
        ("quoted='3'", ("quoted", "3")),
    ],
)
def test_parse_parameter_reads_yaml_scalars(pair: str, expected: tuple) -> None:
    assert parse_parameter(pair) == expected


@pytest.mark.parametrize("pair", ["novalue", "=3", "bad name=1", "1x=2"])
def test_parse_parameter_rejects_malformed_pairs(pair: str) -> None:
    with pytest.raises(EscAnalyticsError, match="NAME=VALUE"):
        parse_parameter(pair)


def test_cli_bad_parameter_exits_2_listing_parameters(
    echo_notebook: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    out = tmp_path / "r.html"
    assert main(["render", str(echo_notebook), "-p", "colour=red", "--out", str(out)]) == 2
    err = capsys.readouterr().err
    assert "colour" in err and "n, label, items" in err
    assert not out.exists()


def test_cli_missing_notebook_exits_2(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["render", str(tmp_path / "nope.ipynb"), "--out", str(tmp_path / "r.html")]) == 2
    assert "notebook not found" in capsys.readouterr().err


@pytest.mark.slow
def test_cli_renders_with_parameters(
    echo_notebook: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    out = tmp_path / "r.html"
    argv = ["render", str(echo_notebook), "-p", "n=12", "-p", "label=hi", "--out", str(out)]
    assert main(argv) == 0
    captured = capsys.readouterr()
    assert captured.out.strip() == str(out)
    assert "executing" in captured.err and "wrote" in captured.err
    assert 'PARAMS={"n": 12, "label": "hi", "items": []}' in out.read_text()


@pytest.mark.parametrize("hide_code", [False, True])
def test_hide_code_keeps_outputs_and_drops_the_code(
    echo_notebook: Path, tmp_path: Path, hide_code: bool
) -> None:
    out = tmp_path / "r.html"
    argv = ["render", str(echo_notebook), "-p", "n=5", "--out", str(out)]
    assert main([*argv, "--hide-code"] if hide_code else argv) == 0
    html_text = out.read_text()
    assert 'PARAMS={"n": 5' in html_text  # the output is always there
    # Code editors (the cells' source) appear only when code is shown.
    assert ('class="jp-InputArea jp-Cell-inputArea"' in html_text) is (not hide_code)


# --- figure export ----------------------------------------------------------------------------


@pytest.mark.slow
@pytest.mark.skipif(not CHROMIUM.exists(), reason="needs Debian's chromium (/usr/bin/chromium)")
def test_export_figure_png_and_svg(tmp_path: Path) -> None:
    fig = go.Figure(go.Bar(x=["a", "b"], y=[1, 2]), layout={"title": {"text": "Volume &amp; co"}})
    png = report.export_figure(fig, tmp_path / "fig.png", width=400, height=300)
    assert png.read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"
    svg = report.export_figure(fig, tmp_path / "fig.svg", width=400, height=300)
    text = svg.read_text()
    assert text.lstrip().startswith("<svg") and 'width="400"' in text


def test_export_figure_errors(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    fig = go.Figure()
    with pytest.raises(EscAnalyticsError, match=r"unsupported image type '\.gif'"):
        report.export_figure(fig, tmp_path / "fig.gif")
    with pytest.raises(EscAnalyticsError, match="expected a plotly Figure"):
        report.export_figure({"data": []}, tmp_path / "fig.png")
    monkeypatch.setenv("BROWSER_PATH", str(tmp_path / "no-chromium"))
    with pytest.raises(EscAnalyticsError, match="apt-get install -y chromium"):
        report.export_figure(fig, tmp_path / "fig.png")
    assert not (tmp_path / "fig.png").exists()


# --- committed notebooks ---


@pytest.mark.slow
def test_explore_notebook_executes_headless_on_the_sample(sample_dir: Path) -> None:
    nb = report.execute_notebook(
        REPO_ROOT / "notebooks" / "01_explore_data.ipynb", {"sample_rows": 3}, timeout=300
    )
    text = _stdout(nb)
    assert re.search(r"mentions: +read \d+, accepted \d+, quarantined \d+", text)
    html_outputs = [
        out["data"]["text/html"]
        for cell in nb.cells
        for out in cell.get("outputs", ())
        if "text/html" in out.get("data", {})
    ]
    spike_tables = [h for h in html_outputs if "Posts in the largest spike" in h]
    assert len(spike_tables) == 1 and spike_tables[0].count("<tr>") == 1 + 3
    assert any(
        "application/vnd.plotly.v1+json" in out.get("data", {})
        for cell in nb.cells
        for out in cell.get("outputs", ())
    )


# --- committed notebook files ---------------------------------------------------------------


def test_there_are_notebooks() -> None:
    assert NOTEBOOKS, "notebooks/ holds no .ipynb"


@pytest.mark.parametrize("path", NOTEBOOKS, ids=[p.name for p in NOTEBOOKS])
def test_committed_notebook_has_no_outputs_and_a_parameters_cell(path: Path) -> None:
    nb = nbformat.read(path, as_version=4)
    nbformat.validate(nb)
    dirty = [
        i
        for i, cell in enumerate(nb.cells)
        if cell.cell_type == "code" and (cell.outputs or cell.execution_count is not None)
    ]
    assert dirty == [], f"cells {dirty} have outputs: clear them before committing"
    assert "widgets" not in nb.metadata, "saved widget state: clear it before committing"
    tagged = [c for c in nb.cells if "parameters" in c.metadata.get("tags", [])]
    assert len(tagged) == 1 and tagged[0].cell_type == "code"
    assert report.notebook_parameters(path), "the parameters cell assigns no names"
    assert not any("injected-parameters" in c.metadata.get("tags", []) for c in nb.cells)
