"""Notebooks as reports: execute with parameters (injected as JSON data, never as code),
render to ONE self-contained HTML file readable offline from ``file://``, and export figures
to PNG/SVG.

The HTML inlines plotly.js (renderer ``plotly_mimetype+notebook``, set by a hidden setup cell),
the notebook's widget state, and the JavaScript that renders widgets (require.js, the
``@jupyter-widgets/html-manager`` embedder, anywidget — vendored in ``esc_analytics/assets``):
nothing is fetched from the network when the file is opened.
"""

from __future__ import annotations

import ast
import copy
import datetime as dt
import json
import keyword
import math
import numbers
import os
import re
import time
from collections.abc import Callable, Mapping
from functools import cache
from pathlib import Path
from typing import Any

from .._util.atomic import atomic_write_bytes
from .._util.chromium import find_chromium, use_chromium
from .._util.errors import EscAnalyticsError
from .._util.html import script_json
from .._util.progress import PROGRESS_ENV, Quiet
from .._util.progress import progress as progress_bar
from ._meeting import meeting_report, safe_inline_script

__all__ = [
    "PLOTLY_RENDERER_ENV",
    "execute_notebook",
    "export_figure",
    "find_chromium",
    "notebook_parameters",
    "render_html",
    "render_notebook",
]

#: Environment variable naming the plotly renderer used when executing a notebook for a report.
PLOTLY_RENDERER_ENV = "ESC_PLOTLY_RENDERER"
DEFAULT_PLOTLY_RENDERER = "plotly_mimetype+notebook"
#: Tag of the setup cell injected at the top; its input is hidden in the HTML, its output kept
#: (the inlined plotly.js).
SETUP_TAG = "esc-report-setup"
PARAMETERS_TAG = "parameters"
INJECTED_TAG = "injected-parameters"

_ASSETS = Path(__file__).resolve().parent / "assets"
_SETUP_SOURCE = f"""\
# esc-analytics report setup (hidden in rendered reports): plotly.js is inlined, not fetched.
import os as _os

import plotly.io as _pio

_pio.renderers.default = _os.environ.get({PLOTLY_RENDERER_ENV!r}, {DEFAULT_PLOTLY_RENDERER!r})
_os.environ[{PROGRESS_ENV!r}] = "0"  # no progress widget in a report
"""
#: Added to the setup cell for a meeting report: widgets display their static equivalents,
#: figures go out as figure data only, warnings are collected for the data-notes box.
_MEETING_SETUP_SOURCE = """\
from esc_analytics.widgets import meeting as _esc_meeting

_esc_meeting.enable_meeting_mode()
"""
#: Tag of the closing cell of a meeting render: it hands the report its data notes and snapshot.
MEETING_TAG = "esc-report-meeting"
_MEETING_SUMMARY_SOURCE = "_esc_meeting.display_meeting_summary(globals())\n"
#: Tag of the cell appended at the end: it copies each FigureWidget's *current* figure into
#: its widget state (plotly saves the figure as first built otherwise); removed from the HTML.
SYNC_TAG = "esc-report-sync"
_SYNC_SOURCE = """\
# esc-analytics report: store every FigureWidget's current figure in its saved widget state.
def _esc_sync_figure_widgets():
    import copy
    import gc

    from plotly.basewidget import BaseFigureWidget

    for widget in [o for o in gc.get_objects() if isinstance(o, BaseFigureWidget)]:
        if getattr(widget, "comm", None) is None:
            continue
        with widget.hold_sync():
            widget._widget_layout = copy.deepcopy(widget._layout_obj._props)
            widget._widget_data = copy.deepcopy(widget._data)
            for name in widget.trait_names():
                if name.startswith("_py2js_"):
                    setattr(widget, name, {})


_esc_sync_figure_widgets()
del _esc_sync_figure_widgets
"""
_PLOTLY_MATHJAX = re.compile(
    r'<script src="https://cdnjs\.cloudflare\.com/ajax/libs/mathjax/[^"<>]*"></script>'
)
_TEMPLATE_NAME = "esc_report.html.j2"
_TEMPLATE = """\
{%- extends 'lab/index.html.j2' -%}
{%- block html_head_js_requirejs -%}
<script>{{ resources.esc_inline_js.requirejs }}</script>
{%- endblock html_head_js_requirejs -%}
{%- block html_head_js_mathjax -%}{%- endblock html_head_js_mathjax -%}
{%- block body_header -%}
{{ super() }}
{%- if "widgets" in nb.metadata %}
<style>.jupyter-widgets,.widget-label,.widget-html-content,.widget-dropdown select,
.jupyter-widgets h4{font-family:system-ui,-apple-system,"Segoe UI",Roboto,Arial,sans-serif}</style>
<div class="esc-frozen-notice" role="note" style="margin:12px auto;max-width:1100px;
padding:10px 16px;border:1px solid #e0c36a;background:#fff9e6;border-radius:6px;
font:14px/1.5 system-ui,sans-serif;color:#1d2430">
<b>The controls on this page are frozen.</b> This file is a snapshot of the notebook as it
ran: moving a slider, picking another item, typing in a text box or pressing a button here
recomputes nothing and saves nothing. To use them, open the notebook in JupyterLab
(<code>make lab</code>); for the meeting, <code>esc-analytics render --meeting</code> writes a
light static report.
</div>
{%- endif -%}
{%- endblock body_header -%}
{% block jupyter_widgets %}
{%- if "widgets" in nb.metadata -%}
{%- if resources.esc_shared_texts -%}
<script type="application/json" id="esc-shared-widget-texts">
{{ resources.esc_shared_texts | json_dumps | escape_html_script }}
</script>
<script>{{ resources.esc_restore_shared_js }}</script>
{%- endif -%}
<script>{{ resources.esc_inline_js.anywidget }}</script>
<script>{{ resources.esc_inline_js.widget_renderer }}</script>
{%- endif -%}
{% endblock jupyter_widgets %}
"""

_WIDGET_STATE = "application/vnd.jupyter.widget-state+json"  # key of a notebook's widgets
#: Long strings repeated in the widget state are stored once in the HTML: every plotly
#: FigureWidget carries the whole plotly.js bundle (≈5 MB) as its ``_esm``.
_SHARED_TEXT_MIN_CHARS = 10_000
_SHARED_TEXT_KEY = "esc_shared_text"  # also spelled out in _RESTORE_SHARED_JS
# Registered before the widget embedder (which renders on DOMContentLoaded), so it runs first:
# it puts the shared strings back into the widget state before any widget is built.
_RESTORE_SHARED_JS = """\
document.addEventListener("DOMContentLoaded", function () {
  var shared = document.getElementById("esc-shared-widget-texts");
  var node = document.querySelector('script[type="application/vnd.jupyter.widget-state+json"]');
  if (!shared || !node) { return; }
  var texts = JSON.parse(shared.textContent);
  var saved = JSON.parse(node.textContent);
  Object.keys(saved.state || {}).forEach(function (id) {
    var state = saved.state[id].state || {};
    Object.keys(state).forEach(function (name) {
      var value = state[name];
      if (value && typeof value === "object" && typeof value.esc_shared_text === "number") {
        state[name] = texts[value.esc_shared_text];
      }
    });
  });
  node.textContent = JSON.stringify(saved);
});
"""

Progress = Callable[[str], None]


def _no_progress(message: str) -> None:
    """Default progress sink: silent."""


# --- parameters -----------------------------------------------------------------------------


def _encrypt_kernel_transport(client: Any) -> None:
    """Ask for CurveZMQ between the render and its kernel where pyzmq and the kernel support
    it: ipykernel warns on every start over plain TCP ("Kernel is running over TCP without
    encryption"), a line that would otherwise open every render's and demo's output."""
    import zmq

    if not zmq.has("curve"):
        return
    manager = client.create_kernel_manager()
    if hasattr(manager, "transport_encryption"):
        manager.transport_encryption = "auto"  # only when the kernelspec declares support
    client.km = manager


def _read_notebook(path: str | os.PathLike[str]) -> Any:
    """Read a notebook file (nbformat v4), with a clear error when it is missing or invalid."""
    import nbformat

    path = Path(path)
    if not path.is_file():
        raise FileNotFoundError(f"notebook not found: {path}")
    try:
        return nbformat.read(path, as_version=4)
    except Exception as exc:  # nbformat raises several unrelated types for bad files
        raise EscAnalyticsError(f"{path}: not a readable Jupyter notebook ({exc})") from exc


def _tagged_index(nb: Any, tag: str) -> int:
    """Index of the first cell carrying ``tag``, -1 when none does."""
    for index, cell in enumerate(nb.cells):
        if tag in cell.get("metadata", {}).get("tags", ()):
            return index
    return -1


def notebook_parameters(notebook: Any) -> dict[str, str]:
    """The names assigned in the notebook's ``parameters``-tagged cell, with their default
    expressions as source text (``{"freq": "'1h'"}``); empty when there is no such cell.

    ``notebook`` is a path or a NotebookNode.
    """
    nb = notebook if hasattr(notebook, "cells") else _read_notebook(notebook)
    index = _tagged_index(nb, PARAMETERS_TAG)
    if index < 0:
        return {}
    source = nb.cells[index].source
    try:
        tree = ast.parse(source)
    except SyntaxError as exc:
        raise EscAnalyticsError(f"the parameters cell is not valid Python: {exc}") from exc
    names: dict[str, str] = {}
    for node in tree.body:
        targets: list[ast.expr] = []
        value: ast.expr | None = None
        if isinstance(node, ast.Assign):
            targets, value = list(node.targets), node.value
        elif isinstance(node, ast.AnnAssign):
            targets, value = [node.target], node.value
        for target in targets:
            if isinstance(target, ast.Name):
                expr = ast.get_source_segment(source, value) if value is not None else None
                names[target.id] = expr or ""
    return names


_PARAMETER_DEPTH = 20  # nesting allowed in a parameter value (lists and mappings)


def plain_parameter(value: Any, name: str, depth: int = 0) -> Any:
    """A parameter value as plain JSON data — text, finite numbers, true/false, null, lists and
    mappings with text keys — or an :class:`EscAnalyticsError` naming the parameter. Dates
    become ISO text and paths their text; anything else (sets, bytes, objects) is refused, so
    a value can never turn into code in the injected cell."""
    if depth > _PARAMETER_DEPTH:
        raise EscAnalyticsError(f"parameter {name}: nested more than {_PARAMETER_DEPTH} deep")
    if value is None or isinstance(value, bool | str):
        return value
    if isinstance(value, numbers.Integral):
        return int(value)
    if isinstance(value, numbers.Real):
        number = float(value)
        if not math.isfinite(number):
            raise EscAnalyticsError(f"parameter {name}: {value!r} is not a finite number")
        return number
    if isinstance(value, dt.date | dt.datetime | dt.time):
        return value.isoformat()
    if isinstance(value, os.PathLike):
        return os.fspath(value)
    if isinstance(value, Mapping):
        plain = {}
        for key, item in value.items():
            if not isinstance(key, str):
                raise EscAnalyticsError(
                    f"parameter {name}: mapping keys must be text, got {type(key).__name__}"
                )
            plain[key] = plain_parameter(item, name, depth + 1)
        return plain
    if isinstance(value, list | tuple):
        return [plain_parameter(item, name, depth + 1) for item in value]
    raise EscAnalyticsError(
        f"parameter {name}: {type(value).__name__} values are not allowed "
        "(text, numbers, true/false, null, lists and mappings only)"
    )


def parameters_source(parameters: Mapping[str, Any]) -> str:
    """The injected cell: each value decoded from a JSON text literal (``json.loads``), so the
    cell holds data only, whatever the values are."""
    lines = [
        "# Parameters injected by esc-analytics render (each value is JSON data)",
        "import json as _esc_json",
    ]
    for name, value in parameters.items():
        if not isinstance(name, str) or not name.isidentifier() or keyword.iskeyword(name):
            raise EscAnalyticsError(f"parameter name {name!r} is not a Python name")
        text = json.dumps(plain_parameter(value, name), ensure_ascii=True, allow_nan=False)
        lines.append(f"{name} = _esc_json.loads({text!r})")
    lines.append("del _esc_json")
    return "\n".join(lines) + "\n"


def _inject(nb: Any, parameters: Mapping[str, Any], source: str, *, meeting: bool = False) -> Any:
    """Insert the hidden setup cell at the top and the ``injected-parameters`` cell right
    after the ``parameters`` cell (where papermill puts it); for a meeting, the setup cell
    also switches the kernel to meeting mode and a closing cell reports its data notes."""
    import nbformat

    known = notebook_parameters(nb)
    if parameters:
        index = _tagged_index(nb, PARAMETERS_TAG)
        if index < 0:
            raise EscAnalyticsError(
                f"{source} has no cell tagged {PARAMETERS_TAG!r}: it takes no parameters"
            )
        unknown = sorted(set(parameters) - set(known))
        if unknown:
            raise EscAnalyticsError(
                f"{source}: unknown parameter(s) {', '.join(unknown)}; "
                f"the notebook's parameters are: {', '.join(known) or '(none)'}"
            )
        injected = nbformat.v4.new_code_cell(source=parameters_source(parameters))
        injected.metadata["tags"] = [INJECTED_TAG]
        nb.cells.insert(index + 1, injected)
    setup = nbformat.v4.new_code_cell(
        source=_SETUP_SOURCE + (_MEETING_SETUP_SOURCE if meeting else "")
    )
    setup.metadata["tags"] = [SETUP_TAG]
    setup.metadata["jupyter"] = {"source_hidden": True}
    nb.cells.insert(0, setup)
    sync = nbformat.v4.new_code_cell(source=_SYNC_SOURCE)
    sync.metadata["tags"] = [SYNC_TAG]
    sync.metadata["jupyter"] = {"source_hidden": True}
    nb.cells.append(sync)
    if meeting:
        closing = nbformat.v4.new_code_cell(source=_MEETING_SUMMARY_SOURCE)
        closing.metadata["tags"] = [MEETING_TAG]
        closing.metadata["jupyter"] = {"source_hidden": True}
        nb.cells.append(closing)
    return nb


def _clean(nb: Any) -> Any:
    """Drop stale outputs, execution counts, earlier setup/injected cells and widget state."""
    nb.cells = [
        cell
        for cell in nb.cells
        if not {SETUP_TAG, SYNC_TAG, INJECTED_TAG, MEETING_TAG}
        & set(cell.get("metadata", {}).get("tags", ()))
    ]
    for cell in nb.cells:
        if cell.cell_type == "code":
            cell.outputs = []
            cell.execution_count = None
    nb.metadata.pop("widgets", None)
    return nb


# --- execution ------------------------------------------------------------------------------


def execute_notebook(
    path: str | os.PathLike[str],
    parameters: Mapping[str, Any] | None = None,
    *,
    timeout: int = 600,
    cwd: str | os.PathLike[str] | None = None,
    kernel_name: str = "python3",
    progress: Progress | None = None,
    meeting: bool = False,
) -> Any:
    """Execute a notebook headless with ``parameters`` injected (as JSON data) and return
    the executed ``NotebookNode`` (widget state stored in its metadata). ``meeting`` runs it
    in meeting mode (see ``esc_analytics.widgets.meeting``): widgets display static
    equivalents and warnings are collected for the report's data notes.

    Stale outputs are cleared first. ``cwd`` (default: the notebook's folder) is the kernel's
    working directory; ``timeout`` is per cell in seconds. A failing cell raises
    :class:`EscAnalyticsError` naming the cell and the Python error.
    """
    try:
        from nbclient import NotebookClient
        from nbclient.exceptions import CellExecutionError, CellTimeoutError, DeadKernelError
    except ImportError as exc:
        raise EscAnalyticsError(
            f"executing notebooks needs {exc.name}: pip install 'esc-analytics[notebooks]'"
        ) from exc

    report = progress or _no_progress
    path = Path(path)
    if timeout <= 0:
        raise EscAnalyticsError(f"timeout must be a positive number of seconds, got {timeout}")
    nb = _clean(_read_notebook(path))
    nb = _inject(nb, dict(parameters or {}), str(path), meeting=meeting)
    workdir = Path(cwd) if cwd is not None else path.resolve().parent
    if not workdir.is_dir():
        raise FileNotFoundError(f"working directory not found: {workdir}")

    code_cells = sum(cell.cell_type == "code" for cell in nb.cells)
    counter = {"done": 0}

    def on_cell_start(cell: Any, cell_index: int) -> None:
        if cell.cell_type == "code":
            if counter["done"]:
                bar.update()
            counter["done"] += 1
            if isinstance(bar, Quiet):
                report(f"{path.name}: cell {counter['done']}/{code_cells}")

    client = NotebookClient(
        nb,
        kernel_name=kernel_name,
        timeout=timeout,
        store_widget_state=not meeting,
        resources={"metadata": {"path": str(workdir)}},
        on_cell_start=on_cell_start,
    )
    _encrypt_kernel_transport(client)
    started = time.perf_counter()
    report(f"executing {path} ({code_cells} code cells, cwd {workdir})")
    # a bar over the cells on a terminal (after the message above: never on its line); the
    # per-cell messages otherwise
    bar = progress_bar(total=code_cells, desc=f"render {path.name}", unit="cell")
    try:
        with bar:
            client.execute()
    except CellExecutionError as exc:
        raise EscAnalyticsError(
            f"{path}: {_failed_cell(nb)} failed: {exc.ename}: {exc.evalue}"
            " (run it in JupyterLab to see the traceback)"
        ) from exc
    except CellTimeoutError as exc:
        raise EscAnalyticsError(
            f"{path}: a cell ran longer than {timeout} s (raise --timeout)"
        ) from exc
    except DeadKernelError as exc:
        raise EscAnalyticsError(f"{path}: the kernel died while executing ({exc})") from exc
    _drop_stale_buffers(nb)
    report(f"executed {path.name} in {time.perf_counter() - started:.1f} s")
    return nb


def _buffer_fits(state: Any, path: list[Any]) -> bool:
    """True when a binary buffer can go at ``path`` of a widget's state: its container exists
    and the slot is empty (serialisation removed the value it stands for)."""
    node = state
    for key in path[:-1]:
        in_dict = isinstance(node, dict) and key in node
        in_list = isinstance(node, list) and isinstance(key, int) and 0 <= key < len(node)
        if not (in_dict or in_list):
            return False
        node = node[key]
    last = path[-1] if path else None
    if isinstance(node, dict):
        return node.get(last) is None
    if isinstance(node, list) and isinstance(last, int):
        return 0 <= last < len(node) and node[last] is None
    return False


def _drop_stale_buffers(nb: Any) -> int:
    """Remove saved widget buffers that no longer fit their model's final state.

    nbclient keeps every buffer ever sent for a widget (keyed by path); once a later update
    replaced that part of the state, the old buffer would be written over the new value when the
    HTML loads (and breaks plotly FigureWidgets). Returns how many were dropped.
    """
    models = nb.metadata.get("widgets", {}).get(_WIDGET_STATE, {})
    dropped = 0
    for model in models.get("state", {}).values():
        buffers = model.get("buffers")
        if not buffers:
            continue
        kept = [b for b in buffers if _buffer_fits(model.get("state", {}), list(b["path"]))]
        dropped += len(buffers) - len(kept)
        if kept:
            model["buffers"] = kept
        else:
            model.pop("buffers")
    return dropped


def _failed_cell(nb: Any) -> str:
    """Describe the first cell with an error output: its first line of code."""
    for cell in nb.cells:
        if any(out.get("output_type") == "error" for out in cell.get("outputs", ())):
            first = next((line for line in cell.source.splitlines() if line.strip()), "")
            return f"the cell starting {first[:60]!r}"
    return "a cell"


# --- rendering ------------------------------------------------------------------------------


def _script_safe(js: str) -> str:
    """Make JavaScript safe to place between ``<script>`` tags: no early ``</script``, no
    ``<!--`` (which changes how HTML parses script data)."""
    return safe_inline_script(js)


@cache
def _inline_js() -> dict[str, str]:
    """The vendored JavaScript, ready for inlining (read once per process)."""
    names = {
        "requirejs": "require.js",
        "widget_renderer": "embed-amd.js",
        "anywidget": "anywidget.js",
    }
    missing = [name for name in names.values() if not (_ASSETS / name).is_file()]
    if missing:
        raise EscAnalyticsError(
            f"vendored JavaScript missing from {_ASSETS}: {', '.join(missing)} "
            "(reinstall esc-analytics)"
        )
    texts = {key: (_ASSETS / name).read_text(encoding="utf-8") for key, name in names.items()}
    no_maps = re.compile(r"^//# sourceMappingURL=\S*;?\s*$", re.MULTILINE)
    texts = {key: no_maps.sub("", text) for key, text in texts.items()}
    # anywidget ships one anonymous AMD module; inline modules need a name for requirejs.
    anonymous = 'define(["@jupyter-widgets/base"]'
    if texts["anywidget"].count(anonymous) != 1:
        raise EscAnalyticsError("unexpected anywidget.js: cannot name its AMD module")
    texts["anywidget"] = texts["anywidget"].replace(
        anonymous, 'define("anywidget", ["@jupyter-widgets/base"]'
    )
    return {key: _script_safe(text) for key, text in texts.items()}


def share_repeated_widget_texts(nb: Any) -> list[str]:
    """Replace each long string that occurs more than once in ``nb``'s saved widget state by
    ``{"esc_shared_text": i}`` (in place) and return the strings, in a deterministic order;
    the rendered page puts them back before widgets are built. Halves the size of a report
    with two plotly FigureWidgets."""
    models = nb.metadata.get("widgets", {}).get(_WIDGET_STATE, {}).get("state", {})
    counts: dict[str, int] = {}
    for model in models.values():
        for value in (model.get("state") or {}).values():
            if isinstance(value, str) and len(value) >= _SHARED_TEXT_MIN_CHARS:
                counts[value] = counts.get(value, 0) + 1
    shared = sorted(text for text, n in counts.items() if n > 1)
    index = {text: i for i, text in enumerate(shared)}
    for model in models.values():
        state = model.get("state") or {}
        for name, value in state.items():
            if isinstance(value, str) and value in index:
                state[name] = {_SHARED_TEXT_KEY: index[value]}
    return shared


def render_html(nb: Any, *, hide_code: bool = False) -> str:
    """Render an executed notebook to ONE self-contained HTML document (JupyterLab look):
    plotly.js, widget state and the widget JavaScript inlined; nothing loads from the network.
    ``hide_code`` leaves the code cells out (outputs and narrative only), for a meeting."""
    import jinja2
    from nbconvert import HTMLExporter
    from nbconvert.preprocessors import TagRemovePreprocessor

    exporter = HTMLExporter(
        template_name="lab",
        extra_loaders=[jinja2.DictLoader({_TEMPLATE_NAME: _TEMPLATE})],
        template_file=_TEMPLATE_NAME,
        exclude_input=hide_code,
        exclude_input_prompt=hide_code,
        exclude_output_prompt=hide_code,
    )
    # nbconvert's own filter only escapes "/": "<!--<script>" in a value (a note, a
    # topic) would still comment out the rest of the page. Every use of it follows json_dumps.
    exporter.register_filter("escape_html_script", script_json)
    exporter.register_preprocessor(
        TagRemovePreprocessor(
            remove_input_tags={SETUP_TAG}, remove_cell_tags={SYNC_TAG}, enabled=True
        ),
        enabled=True,
    )
    nb = copy.deepcopy(nb)
    shared = share_repeated_widget_texts(nb)
    body, _ = exporter.from_notebook_node(
        nb,
        resources={
            "esc_inline_js": _inline_js(),
            "esc_shared_texts": shared,
            "esc_restore_shared_js": _RESTORE_SHARED_JS,
        },
    )
    # plotly's notebook renderer always adds MathJax from a CDN to each figure; offline reports
    # do without (LaTeX in titles stays as source text).
    return _PLOTLY_MATHJAX.sub("", body)


def _write_atomic(path: Path, text: str) -> None:
    """Write ``text`` to ``path`` through a temporary file in the same folder + rename."""
    _write_bytes_atomic(path, text.encode("utf-8"))


def _write_bytes_atomic(path: Path, data: bytes) -> None:
    """Atomic binary write (temporary file + rename) with the usual permissions (umask)."""

    atomic_write_bytes(path, data)


def render_notebook(
    path: str | os.PathLike[str],
    out_html: str | os.PathLike[str],
    parameters: Mapping[str, Any] | None = None,
    *,
    timeout: int = 600,
    cwd: str | os.PathLike[str] | None = None,
    progress: Progress | None = None,
    hide_code: bool = False,
    meeting: bool = False,
    snapshot: str | dt.date | None = None,
) -> Path:
    """Execute ``path`` with ``parameters`` and write the self-contained HTML to ``out_html``
    atomically (a failed run leaves any previous file untouched); returns the output path.
    ``hide_code`` drops the code cells from the HTML (see :func:`render_html`).

    ``meeting`` writes the meeting report instead (see ``report._meeting``): narrative,
    tables and figures only, every widget as its static equivalent, library warnings in one
    "data notes" box, one plotly.js, nothing requested; its "snapshot of …" line dates the
    data by its last window unless ``snapshot`` says otherwise, so identical inputs give
    identical bytes. Without it the interactive HTML says that its controls are frozen."""
    report = progress or _no_progress
    out = Path(out_html)
    if out.suffix.lower() not in {".html", ".htm"}:
        raise EscAnalyticsError(f"--out {out}: expected a .html file name")
    nb = execute_notebook(
        path, parameters, timeout=timeout, cwd=cwd, progress=report, meeting=meeting
    )
    if meeting:
        report("rendering the meeting report (static: figures, tables and narrative)")
        html_text = meeting_report(
            nb, source=Path(path).name, parameters=dict(parameters or {}), snapshot=snapshot
        ).to_html()
    else:
        report("rendering HTML (plotly.js, widget state and widget scripts inlined)")
        html_text = render_html(nb, hide_code=hide_code)
    _write_atomic(out, html_text)
    report(f"wrote {out} ({len(html_text.encode('utf-8')) / 1e6:.1f} MB)")
    return out


# --- static figures -------------------------------------------------------------------------

_IMAGE_FORMATS = {
    ".png": "png",
    ".svg": "svg",
    ".pdf": "pdf",
    ".jpg": "jpeg",
    ".jpeg": "jpeg",
    ".webp": "webp",
}


def export_figure(
    fig: Any,
    path: str | os.PathLike[str],
    *,
    width: int | None = None,
    height: int | None = None,
    scale: float | None = None,
) -> Path:
    """Export a plotly figure to PNG/SVG/PDF/JPEG/WebP (by suffix) with kaleido and the local
    Chromium; written atomically. Never downloads a browser: a missing Chromium is an error
    telling how to install it."""
    out = Path(path)
    fmt = _IMAGE_FORMATS.get(out.suffix.lower())
    if fmt is None:
        raise EscAnalyticsError(
            f"{out}: unsupported image type {out.suffix!r}; use one of {', '.join(_IMAGE_FORMATS)}"
        )
    if not hasattr(fig, "to_image"):
        raise EscAnalyticsError(f"expected a plotly Figure, got {type(fig).__name__}")
    browser = use_chromium()
    try:
        data = fig.to_image(format=fmt, width=width, height=height, scale=scale)
    except Exception as exc:  # kaleido/choreographer raise their own types
        raise EscAnalyticsError(f"{out}: figure export with {browser} failed: {exc}") from exc
    _write_bytes_atomic(out, data)
    return out
