"""Progress in notebooks: an ipywidgets bar in a live Jupyter kernel (tqdm.auto), none in a
notebook executed for a report (the rendered HTML holds no progress widget)."""

from __future__ import annotations

import contextlib
import io
import re

import nbformat
import pytest
from browser_utils import write_notebook

from esc_analytics.cli import main
from esc_analytics.report import _render as report

WIDGET_VIEW = "application/vnd.jupyter.widget-view+json"
CELL = (
    "from esc_analytics._util.progress import progress\n"
    "items = list(progress(range(5), desc='long work'))\n"
    "print('ITEMS', items)"
)


def _kernel_outputs(code: str, env: dict[str, str]) -> list[dict]:
    """Run ``code`` in a fresh kernel (as JupyterLab does) and return its iopub outputs."""
    jupyter_client = pytest.importorskip("jupyter_client")
    import os

    manager = jupyter_client.KernelManager(kernel_name="python3")
    manager.start_kernel(env={**os.environ, **env})
    client = manager.client()
    client.start_channels()
    outputs: list[dict] = []
    try:
        client.wait_for_ready(timeout=60)
        client.execute_interactive(code, timeout=60, output_hook=lambda m: outputs.append(m))
    finally:
        client.stop_channels()
        manager.shutdown_kernel(now=True)
    return outputs


def _displays(outputs: list[dict]) -> list[dict]:
    return [m["content"]["data"] for m in outputs if m["msg_type"] == "display_data"]


def test_a_live_kernel_shows_an_ipywidgets_bar(monkeypatch):
    outputs = _kernel_outputs(CELL, {"ESC_ANALYTICS_PROGRESS": ""})
    shown = _displays(outputs)
    assert any(WIDGET_VIEW in data for data in shown), outputs
    text = "".join(m["content"].get("text", "") for m in outputs if m["msg_type"] == "stream")
    assert "ITEMS [0, 1, 2, 3, 4]" in text


def test_the_environment_turns_it_off(monkeypatch):
    outputs = _kernel_outputs(CELL, {"ESC_ANALYTICS_PROGRESS": "0"})
    assert not any(WIDGET_VIEW in data for data in _displays(outputs))


def test_a_rendered_notebook_holds_no_progress_widget(tmp_path):
    path = write_notebook(tmp_path / "long.ipynb", "n = 1", CELL)
    nb = report.execute_notebook(path)
    outputs = [out for cell in nb.cells for out in cell.get("outputs", ())]
    assert not any(WIDGET_VIEW in out.get("data", {}) for out in outputs)
    assert "ITEMS [0, 1, 2, 3, 4]" in "".join(o.get("text", "") for o in outputs)
    assert not nb.metadata.get("widgets", {}).get("application/vnd.jupyter.widget-state+json", {}
                                                    ).get("state")
    assert isinstance(nb, nbformat.NotebookNode)


class FakeTerminal(io.StringIO):
    def isatty(self) -> bool:
        return True


@pytest.mark.parametrize("terminal", [True, False])
def test_render_shows_a_bar_over_cells_on_a_terminal(tmp_path, monkeypatch, terminal):
    monkeypatch.delenv("ESC_ANALYTICS_PROGRESS", raising=False)
    path = write_notebook(tmp_path / "long.ipynb", "n = 1", CELL, "print(n)")
    stderr = FakeTerminal() if terminal else io.StringIO()
    out = io.StringIO()
    with contextlib.redirect_stdout(out), contextlib.redirect_stderr(stderr):
        rc = main(["render", str(path), "--out", str(tmp_path / "long.html")])
    assert rc == 0 and out.getvalue().strip() == str(tmp_path / "long.html")
    written = stderr.getvalue()
    if terminal:  # the bar replaces the per-cell lines
        assert "render long.ipynb" in written and re.search(r"\d/\d+ \[", written)
        assert "cell 1/" not in written
    else:  # a pipe or a log keeps the per-cell lines, and no bar
        assert "long.ipynb: cell 1/" in written and "%|" not in written
    assert "executed long.ipynb" in written
