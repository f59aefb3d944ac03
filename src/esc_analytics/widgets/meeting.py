"""Meeting mode, the kernel side of ``esc-analytics render --meeting``.

A report for the retrospective meeting shows narrative, tables and figures only. When the
render switches this mode on (its hidden setup cell calls :func:`enable_meeting_mode`), every
widget displays its *static equivalent* instead of itself — a FigureWidget as a plain plotly
figure, a text area as formatted, escaped text, an HTML widget as its HTML, a control as one
"name: value" line, a controller with ``static_parts()`` (e.g. :class:`RetroReviewer`) as the
parts it chooses — so the page needs no widget manager. Library warnings are collected instead
of printed (the report shows them once, in plain words, in a "data notes" box), and the closing
cell hands the report what it needs for its "snapshot of …" line (:func:`meeting_summary`).

The report side (``esc_analytics.report``) reads what these cells display; nothing here writes
files or reads the clock.
"""

from __future__ import annotations

import re
import warnings
from collections.abc import Iterable, Mapping
from pathlib import Path
from typing import Any

import ipywidgets as W
import pandas as pd

from .._util.html import escape_text, markdown_defang
from ..features import Inputs
from ._common import DisplayMixin

__all__ = [
    "MEETING_MIMETYPE",
    "display_meeting_summary",
    "enable_meeting_mode",
    "meeting_mode",
    "meeting_summary",
    "plain_warning",
    "static_parts",
]

#: Mimetype of the closing cell's output: data notes and snapshot for the report's header.
MEETING_MIMETYPE = "application/vnd.esc-analytics.meeting+json"

_STATE: dict[str, Any] = {"on": False, "notes": [], "technical": 0, "showwarning": None}
# A file path inside a warning message (POSIX or Windows): shown to a meeting as its name only.
_PATH = re.compile(r"(?:[A-Za-z]:)?(?:[\\/][^\s\\/:'\"()]+){2,}")
_OUR_PACKAGE = "esc_analytics"


def meeting_mode() -> bool:
    """True inside a notebook executed for a meeting report (``render --meeting``): cells may
    use it to leave out what only makes sense live."""
    return bool(_STATE["on"])


def plain_warning(message: object) -> str:
    """A warning's text as a meeting reads it: one line, file paths reduced to their names."""
    text = " ".join(str(message).split())
    return _PATH.sub(lambda m: Path(m.group(0).replace("\\", "/")).name, text)


def _collect(message: Any, category: type, filename: str, lineno: int, *args: Any) -> None:
    """``warnings.showwarning`` in meeting mode: esc-analytics' warnings (the ones about the
    data) are kept once each, in order; other libraries' warnings are only counted."""
    ours = getattr(category, "__module__", "").startswith(_OUR_PACKAGE) or (
        _OUR_PACKAGE in str(filename).replace("\\", "/").split("/")
    )
    if not ours:
        _STATE["technical"] += 1
        return
    text = plain_warning(message)
    if text not in _STATE["notes"]:
        _STATE["notes"].append(text)


def enable_meeting_mode() -> None:
    """Switch the running kernel to meeting mode (what the report's hidden setup cell does):
    widgets display their static equivalents, plotly figures are sent as figure data only, and
    warnings are collected for the data-notes box instead of printed."""
    import plotly.io as pio

    _STATE.update(on=True, notes=[], technical=0)
    pio.renderers.default = "plotly_mimetype"
    if _STATE["showwarning"] is None:
        _STATE["showwarning"] = warnings.showwarning
    warnings.showwarning = _collect
    try:
        from IPython import get_ipython
    except ImportError:  # pragma: no cover - IPython comes with ipywidgets
        return
    shell = get_ipython()
    if shell is None:
        return
    formatter = shell.display_formatter.ipython_display_formatter
    formatter.for_type(W.Widget, _display_static)
    formatter.for_type(DisplayMixin, _display_static)


def _display_static(obj: Any) -> None:
    from IPython.display import display

    for part in static_parts(obj):
        display(part)


def _control_line(widgets: list[W.Widget]) -> Any:
    from IPython.display import HTML

    items = []
    for w in widgets:
        label = getattr(w, "description", "") or type(w).__name__
        value = getattr(w, "value", "")
        if isinstance(value, tuple):
            value = " – ".join(str(v) for v in value)
        if isinstance(value, float):
            value = f"{value:g}"
        items.append(f"<b>{escape_text(label)}</b>: {escape_text(value)}")
    return HTML('<p class="esc-static-controls">Settings shown: ' + " · ".join(items) + "</p>")


def static_parts(obj: Any) -> list[Any]:
    """The static equivalents of a widget (or a controller with a ``widget``), in display
    order: plotly ``Figure``\\ s, ``HTML`` and ``Markdown`` objects — never a widget.

    A controller's own ``static_parts()`` wins; containers give their children's parts;
    buttons give nothing; consecutive controls (sliders, pickers, check boxes) give one line
    saying the values the figures were drawn with."""
    from IPython.display import HTML, Markdown

    own = getattr(obj, "static_parts", None)
    if callable(own) and not isinstance(obj, W.Widget):
        return list(own())
    if isinstance(obj, DisplayMixin):
        return static_parts(obj.widget)
    if not isinstance(obj, W.Widget):
        return [obj]
    try:
        from plotly.basewidget import BaseFigureWidget
    except ImportError:  # pragma: no cover - plotly is a dependency
        BaseFigureWidget = ()
    if isinstance(obj, BaseFigureWidget):
        import plotly.graph_objects as go

        return [go.Figure(obj)]
    if isinstance(obj, W.Box):
        parts: list[Any] = []
        controls: list[W.Widget] = []
        titles = list(getattr(obj, "titles", ()) or ())
        for i, child in enumerate(obj.children):
            if _is_control(child):
                controls.append(child)
                continue
            if controls:
                parts.append(_control_line(controls))
                controls = []
            if i < len(titles) and titles[i]:
                parts.append(HTML(f"<h4>{escape_text(titles[i])}</h4>"))
            parts += static_parts(child)
        if controls:
            parts.append(_control_line(controls))
        return parts
    if isinstance(obj, W.Output):
        return [_RawOutput(out) for out in obj.outputs]
    if isinstance(obj, W.HTML | W.HTMLMath):
        return [HTML(obj.value)] if obj.value else []
    if isinstance(obj, W.Label):
        return [HTML(f"<p>{escape_text(obj.value)}</p>")] if obj.value else []
    if isinstance(obj, W.Textarea | W.Text):
        text = str(obj.value or "").strip()
        title = f"**{markdown_defang(obj.description)}**\n\n" if obj.description else ""
        return [Markdown(title + markdown_defang(text))] if text else []
    if _is_control(obj):
        return [_control_line([obj])]
    return []


def _is_control(widget: W.Widget) -> bool:
    """A value a person sets (slider, picker, check box, number), not content."""
    if isinstance(widget, W.Button):
        return False
    if isinstance(widget, W.Textarea | W.Text | W.HTML | W.HTMLMath | W.Label):
        return False
    return isinstance(widget, W.ValueWidget) and hasattr(widget, "description")


class _RawOutput:
    """One saved output of an ``Output`` widget, displayed again as it was."""

    def __init__(self, output: Mapping[str, Any]) -> None:
        self.output = dict(output)

    def _repr_mimebundle_(self, **_kwargs: Any) -> Any:
        if self.output.get("output_type") == "stream":
            return {}
        return dict(self.output.get("data", {}))


def _inputs_snapshot(found: Iterable[Inputs]) -> dict[str, Any]:
    """The data's last window end and the input file names of the ``Inputs`` found."""
    ends: list[pd.Timestamp] = []
    names: list[str] = []
    for inputs in found:
        features = inputs.features
        if len(features) and "window_start" in features:
            ends.append(pd.Timestamp(features["window_start"].max()) + inputs.freq)
        for load in (inputs.mentions, inputs.series, inputs.incidents):
            source = getattr(getattr(load, "summary", None), "source", "") if load else ""
            names += _file_names(source)
        for source in inputs.sources.values():
            names += _file_names(source)
    snapshot: dict[str, Any] = {"inputs": list(dict.fromkeys(names))}
    if ends:
        snapshot["data_until"] = max(ends).isoformat()
    return snapshot


def _file_names(source: Any) -> list[str]:
    """File names (no folders) in a load's ``source`` text (one path, or several)."""
    text = str(source or "").strip()
    if not text or text.startswith("<"):  # "<DataFrame>" and the like
        return []
    parts = [p.strip() for p in re.split(r",\s*|;\s*", text) if p.strip()]
    return [Path(p.replace("\\", "/")).name or p for p in parts]


def meeting_summary(namespace: Mapping[str, Any] | None = None) -> dict[str, Any]:
    """What the report needs from the kernel, as JSON data: the collected ``data_notes`` (plain
    sentences, each once), how many other libraries' warnings were left out, and the snapshot
    (``data_until``: the end of the last data window of the ``Inputs`` found in ``namespace``;
    ``inputs``: their file names)."""
    found = []
    for name in sorted(namespace or {}):
        value = (namespace or {})[name]
        if isinstance(value, Inputs) and not name.startswith("_"):
            found.append(value)
    return {
        "data_notes": list(_STATE["notes"]),
        "technical_warnings": int(_STATE["technical"]),
        "snapshot": _inputs_snapshot(found),
    }


def display_meeting_summary(namespace: Mapping[str, Any] | None = None) -> None:
    """Display :func:`meeting_summary` for the report (the render's closing cell)."""
    from IPython.display import display

    display({MEETING_MIMETYPE: meeting_summary(namespace)}, raw=True)
