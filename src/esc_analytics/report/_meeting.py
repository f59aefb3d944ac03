"""The meeting report: an executed notebook as a light, static page for the room.

Renderer-neutral first: :func:`meeting_report` reads an executed notebook (run in meeting mode,
see ``esc_analytics.widgets.meeting``) into a :class:`MeetingReport` — a title, a snapshot line,
the data notes and a list of blocks (narrative, HTML tables, figures, images). Its HTML leaf,
:meth:`MeetingReport.to_html`, writes ONE page: no code, no printed text or stderr, no widget
(so no widget manager), exactly one plotly.js (the smallest vendored bundle that draws every
figure: the basic one, the cartesian one, else plotly's full bundle), no font or icon file, no
request of any kind — and the same bytes for the same notebook outputs (figure ids are
counters, the date comes from the data or the caller, never the clock).
"""

from __future__ import annotations

import base64
import datetime as dt
import html
import json
import re
from collections.abc import Mapping
from dataclasses import dataclass, field
from functools import cache
from pathlib import Path
from typing import Any

from .._util.errors import EscAnalyticsError
from .._util.format import format_time
from .._util.html import escape_text, script_json

__all__ = [
    "BASIC_TRACES",
    "CARTESIAN_TRACES",
    "MEETING_MIMETYPE",
    "Block",
    "MeetingReport",
    "markdown_to_html",
    "meeting_report",
    "safe_inline_script",
]

#: Output mimetype of the meeting-mode closing cell (``widgets.meeting.MEETING_MIMETYPE``).
MEETING_MIMETYPE = "application/vnd.esc-analytics.meeting+json"
PLOTLY_MIMETYPE = "application/vnd.plotly.v1+json"
#: Trace types drawn by the vendored cartesian bundle (``assets/plotly-cartesian.min.js``).
CARTESIAN_TRACES = frozenset(
    {
        "bar",
        "box",
        "contour",
        "heatmap",
        "histogram",
        "histogram2d",
        "histogram2dcontour",
        "image",
        "pie",
        "scatter",
        "scatterternary",
        "violin",
    }
)
#: Trace types drawn by the vendored basic bundle (``assets/plotly-basic.min.js``, 1.2 MB).
BASIC_TRACES = frozenset({"bar", "pie", "scatter"})
_ASSETS = Path(__file__).resolve().parent / "assets"
_BASIC_BUNDLE = "plotly-basic.min.js"
_CARTESIAN_BUNDLE = "plotly-cartesian.min.js"
# Cells of the render machinery, never shown (tags as in _render).
_HIDDEN_TAGS = {"esc-report-setup", "esc-report-sync", "injected-parameters", "parameters"}
_PATH_PARAMETER = re.compile(r"(_dir|_path|_file|_folder)$")
_H1 = re.compile(r"^\s*#\s+(.+?)\s*#*\s*$", re.MULTILINE)


def safe_inline_script(js: str) -> str:
    """JavaScript safe to place between ``<script>`` tags: no early ``</script``, no ``<!--``."""
    js = re.sub(r"</(script)", r"<\\/\1", js, flags=re.IGNORECASE)
    return js.replace("<!--", "<\\!--")


@cache
def _markdown(trusted: bool) -> Any:
    try:
        import mistune
    except ImportError as exc:
        raise EscAnalyticsError(
            "the meeting report needs mistune: pip install 'esc-analytics[notebooks]'"
        ) from exc

    class _Renderer(mistune.HTMLRenderer):
        """Raw HTML in Markdown shown as text (unless the Markdown is the notebook's own);
        images as their alt text (a report requests nothing)."""

        def image(self, text: str, url: str, title: str | None = None) -> str:
            return f'<span class="esc-image-alt">{html.escape(text)}</span>'

        if not trusted:

            def inline_html(self, html_text: str) -> str:
                return html.escape(html_text)

            def block_html(self, html_text: str) -> str:
                return f"<p>{html.escape(html_text)}</p>\n"

    return mistune.create_markdown(
        renderer=_Renderer(escape=False), plugins=["table", "strikethrough"]
    )


def markdown_to_html(text: str, *, trusted: bool = False) -> str:
    """Markdown as HTML (tables and strike-through included). Untrusted text (outputs,
    people's notes) keeps its raw HTML as visible text; links to scripts are disarmed by
    mistune; images become their alt text."""
    return str(_markdown(trusted)(str(text)))


@dataclass(frozen=True)
class Block:
    """One piece of the report: ``kind`` is ``markdown`` (``trusted`` for the notebook's own
    cells), ``html`` (a table or formatted text made by the library, escaped already),
    ``figure`` (a plotly figure as a JSON-able dict) or ``image`` (a data URI)."""

    kind: str
    content: Any
    trusted: bool = False


@dataclass(frozen=True)
class MeetingReport:
    """A meeting report, independent of how it is drawn (see :meth:`to_html`)."""

    title: str
    snapshot: str
    data_notes: tuple[str, ...]
    blocks: tuple[Block, ...]
    technical_warnings: int = 0
    source: str = ""
    meta: Mapping[str, Any] = field(default_factory=dict)

    def figures(self) -> list[dict[str, Any]]:
        """The figures, in order."""
        return [b.content for b in self.blocks if b.kind == "figure"]

    def trace_types(self) -> set[str]:
        """Every plotly trace type the figures use (``scatter`` when a trace names none)."""
        return {
            str(trace.get("type") or "scatter")
            for fig in self.figures()
            for trace in fig.get("data", ())
        }

    def to_html(self) -> str:
        """ONE static HTML page (see the module docstring)."""
        parts = [_HEAD.format(title=escape_text(self.title), css=_CSS)]
        header_done = False
        figure_index = 0
        for i, block in enumerate(self.blocks):
            if block.kind == "markdown":
                body = markdown_to_html(block.content, trusted=block.trusted)
                parts.append(f'<section class="esc-md">{body}</section>')
            elif block.kind == "html":
                parts.append(f'<section class="esc-html">{block.content}</section>')
            elif block.kind == "image":
                parts.append(
                    f'<figure class="esc-image"><img src="{block.content}" alt=""></figure>'
                )
            elif block.kind == "figure":
                figure_index += 1
                fid = f"esc-figure-{figure_index}"
                height = (block.content.get("layout") or {}).get("height") or 420
                parts.append(
                    f'<div class="esc-figure" id="{fid}" style="height:{int(height)}px"></div>'
                    f'<script type="application/json" id="{fid}-data">'
                    f"{script_json(json.dumps(block.content, sort_keys=True))}</script>"
                )
            if not header_done and (i == 0 and block.kind == "markdown"):
                parts.append(self._header_html())
                header_done = True
        if not header_done:
            parts.insert(1, self._header_html())
        footer = "Meeting report: narrative, tables and figures (hover and zoom work offline)."
        if self.source:
            footer += f" Made from the notebook {escape_text(self.source)}."
        if self.technical_warnings:
            n = self.technical_warnings
            footer += (
                f" {n} technical warning{'s' if n != 1 else ''} from other libraries "
                "left out (they appear when the notebook runs in JupyterLab)."
            )
        parts.append(f'<footer class="esc-footer">{footer}</footer>')
        if figure_index:
            parts.append(f"<script>{_plotly_js(self.trace_types())}</script>")
            parts.append(f"<script>{_DRAW_JS}</script>")
        parts.append("</main></body></html>\n")
        return "".join(parts)

    def _header_html(self) -> str:
        out = [f'<p class="esc-snapshot">{escape_text(self.snapshot)}</p>']
        if self.data_notes:
            items = "".join(f"<li>{escape_text(n)}</li>" for n in self.data_notes)
            out.append(
                '<aside class="esc-data-notes"><h2>Data notes</h2>'
                "<p>What the data could not tell, read before the figures:</p>"
                f"<ul>{items}</ul></aside>"
            )
        return "".join(out)


def _plotly_js(trace_types: set[str]) -> str:
    """The smallest plotly.js bundle that draws ``trace_types``, script-safe: the basic one
    (scatter, bar, pie), else the cartesian one, else plotly's full bundle."""
    name = _BASIC_BUNDLE if trace_types <= BASIC_TRACES else _CARTESIAN_BUNDLE
    if trace_types <= CARTESIAN_TRACES:
        path = _ASSETS / name
        if not path.is_file():
            raise EscAnalyticsError(f"vendored plotly.js missing: {path} (reinstall esc-analytics)")
        return _bundle(str(path))
    from plotly.offline import get_plotlyjs

    return safe_inline_script(get_plotlyjs())


@cache
def _bundle(path: str) -> str:
    text = Path(path).read_text(encoding="utf-8")
    text = re.sub(r"^//# sourceMappingURL=\S*;?\s*$", "", text, flags=re.MULTILINE)
    return safe_inline_script(text)


def _cell_blocks(cell: Any, found: dict[str, Any]) -> list[Block]:
    """The blocks a cell shows in a meeting (its outputs' static parts; no code, no streams)."""
    tags = set(cell.get("metadata", {}).get("tags", ()))
    if cell.cell_type == "markdown":
        return [Block("markdown", cell.source, trusted=True)] if cell.source.strip() else []
    if cell.cell_type != "code" or tags & _HIDDEN_TAGS:
        return []
    blocks = []
    for out in cell.get("outputs", ()):
        if out.get("output_type") not in ("display_data", "execute_result"):
            continue  # printed text, stderr, errors: not for the room
        data = out.get("data", {})
        if MEETING_MIMETYPE in data:
            found.update(data[MEETING_MIMETYPE])
        elif PLOTLY_MIMETYPE in data:
            fig = data[PLOTLY_MIMETYPE]
            blocks.append(
                Block("figure", {"data": fig.get("data", []), "layout": fig.get("layout", {})})
            )
        elif "image/png" in data:
            blocks.append(
                Block("image", f"data:image/png;base64,{''.join(data['image/png'].split())}")
            )
        elif "image/svg+xml" in data:
            svg = base64.b64encode(str(data["image/svg+xml"]).encode("utf-8")).decode("ascii")
            blocks.append(Block("image", f"data:image/svg+xml;base64,{svg}"))
        elif "text/html" in data:
            text = (
                "".join(data["text/html"])
                if isinstance(data["text/html"], list)
                else data["text/html"]
            )
            if "<script" not in text.lower() and "<iframe" not in text.lower():
                blocks.append(Block("html", text))
        elif "text/markdown" in data:
            md = data["text/markdown"]
            blocks.append(Block("markdown", "".join(md) if isinstance(md, list) else md))
    return blocks


def _parameter_text(parameters: Mapping[str, Any]) -> str:
    """The parameters a meeting cares about (ids, periods), not where files live."""
    shown = []
    for name, value in parameters.items():
        if _PATH_PARAMETER.search(name) or value is None or name == "meeting":
            continue
        shown.append(f"{name.replace('_', ' ')} {value}")
    return ", ".join(shown)


def snapshot_line(
    found: Mapping[str, Any],
    *,
    snapshot: str | dt.date | dt.datetime | None,
    source: str,
    parameters: Mapping[str, Any],
) -> str:
    """``Snapshot of <date>, generated from <inputs> by <notebook> (<parameters>)``: the date
    is ``snapshot`` when given, else the end of the data's last window (never the clock)."""
    info = found.get("snapshot") or {}
    if snapshot is not None:
        when = snapshot.isoformat() if isinstance(snapshot, dt.date) else str(snapshot)
    elif info.get("data_until"):
        when = f"the data up to {format_time(info['data_until'])}"
    else:
        when = "an unknown date (no data loaded)"
    line = f"Snapshot of {when}"
    inputs = info.get("inputs") or []
    if inputs:
        line += ", generated from " + ", ".join(inputs)
    if source:
        line += f" by {source}"
    extra = _parameter_text(parameters)
    if extra:
        line += f" ({extra})"
    return line + "."


def meeting_report(
    nb: Any,
    *,
    source: str = "",
    parameters: Mapping[str, Any] | None = None,
    snapshot: str | dt.date | dt.datetime | None = None,
) -> MeetingReport:
    """Read an executed notebook (run in meeting mode) into a :class:`MeetingReport`.

    ``source`` names the notebook (a file name); ``parameters`` are those it was run with
    (shown in the snapshot line, paths left out); ``snapshot`` overrides the date."""
    found: dict[str, Any] = {}
    blocks: list[Block] = []
    for cell in nb.cells:
        blocks += _cell_blocks(cell, found)
    title = source or "Report"
    for block in blocks:
        if block.kind == "markdown":
            match = _H1.search(block.content)
            if match:
                title = match.group(1).strip()
                break
    notes = tuple(str(n) for n in found.get("data_notes", ()))
    return MeetingReport(
        title=title,
        snapshot=snapshot_line(
            found, snapshot=snapshot, source=source, parameters=parameters or {}
        ),
        data_notes=notes,
        blocks=tuple(blocks),
        technical_warnings=int(found.get("technical_warnings", 0)),
        source=source,
        meta=found,
    )


def figure_count(report_html: str) -> int:
    """How many figures a meeting report's HTML draws (for checks and benchmarks)."""
    return report_html.count('class="esc-figure"')


_HEAD = """<!DOCTYPE html>
<html lang="en"><head><meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<title>{title}</title>
<style>{css}</style>
</head><body><main class="esc-meeting">
"""

_CSS = """
body{margin:0;background:#f6f7f9;color:#1d2430;
font-family:system-ui,-apple-system,"Segoe UI",Roboto,"Helvetica Neue",Arial,sans-serif;
font-size:15px;line-height:1.5}
main.esc-meeting{max-width:1120px;margin:0 auto;padding:24px 32px 48px;background:#fff;
min-height:100vh;box-sizing:border-box}
h1{font-size:26px;margin:8px 0 4px}h2{font-size:20px;margin:28px 0 8px;
border-bottom:1px solid #e3e6ea;padding-bottom:4px}h3{font-size:17px;margin:20px 0 6px}
h4{font-size:15px;margin:14px 0 4px}
code{font-family:ui-monospace,"SFMono-Regular",Menlo,Consolas,monospace;font-size:90%;
background:#f0f2f5;padding:1px 4px;border-radius:3px}
table{border-collapse:collapse;margin:8px 0 16px;font-size:14px}
th,td{border-bottom:1px solid #e3e6ea;padding:4px 10px;text-align:left;vertical-align:top}
th{background:#f6f7f9;font-weight:600}table[border]{border:0}
.esc-snapshot{color:#5a6472;font-size:13px;margin:0 0 16px}
.esc-data-notes{border:1px solid #e0c36a;background:#fff9e6;border-radius:6px;
padding:8px 16px;margin:0 0 20px;font-size:14px}
.esc-data-notes h2{font-size:15px;border:0;margin:4px 0;padding:0}
.esc-data-notes p{margin:0 0 4px}.esc-data-notes ul{margin:0;padding-left:20px}
.esc-figure{width:100%;margin:8px 0 16px}
.esc-image img{max-width:100%}
.esc-static-controls{color:#5a6472;font-size:13px}
.esc-footer{margin-top:40px;color:#7a8391;font-size:12px;border-top:1px solid #e3e6ea;
padding-top:8px}
"""

_DRAW_JS = """
(function () {
  var config = {responsive: true, displaylogo: false};
  document.querySelectorAll("div.esc-figure").forEach(function (div) {
    var spec = JSON.parse(document.getElementById(div.id + "-data").textContent);
    var layout = spec.layout || {};
    delete layout.width;
    window.Plotly.newPlot(div, spec.data || [], layout, config);
  });
  if (window.performance && performance.mark) { performance.mark("esc-figures-drawn"); }
})();
"""
