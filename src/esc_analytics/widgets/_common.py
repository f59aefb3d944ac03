"""Small helpers shared by the widgets: escaped HTML tables and display plumbing."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

import anywidget
import ipywidgets as W
import numpy as np
import pandas as pd
import traitlets

from .._util.format import format_duration
from .._util.html import escape_text


def html_table(
    frame: pd.DataFrame,
    columns: Sequence[str] | None = None,
    *,
    formats: dict[str, str] | None = None,
    max_rows: int = 200,
) -> str:
    """An escaped HTML table (every header and cell through ``escape_text``), compact: rows
    one line high (an HTML widget's line height is the 28 px of a control otherwise) and cells
    not wrapped; its box scrolls sideways rather than pushing the notebook wider."""
    formats = formats or {}
    cols = list(columns or frame.columns)
    parts = [
        '<div class="esc-table-box" style="overflow-x:auto;max-width:100%;line-height:1.35">'
        '<table class="esc-table" style="border-collapse:collapse;font-size:12px;'
        'white-space:nowrap">',
        "<thead><tr>",
    ]
    parts += [
        '<th style="text-align:left;padding:2px 8px;border-bottom:1px solid #ccc">'
        f"{escape_text(c)}</th>"
        for c in cols
    ]
    parts.append("</tr></thead><tbody>")
    for row in frame[cols].head(max_rows).itertuples(index=False, name=None):
        parts.append("<tr>")
        for col, value in zip(cols, row, strict=True):
            text = _format(value, formats.get(col))
            parts.append(f'<td style="padding:2px 8px">{escape_text(text)}</td>')
        parts.append("</tr>")
    parts.append("</tbody></table></div>")
    return "".join(parts)


def _format(value: Any, fmt: str | None) -> str:
    if value is None or (isinstance(value, float) and np.isnan(value)) or value is pd.NaT:
        return "—"
    if isinstance(value, pd.Timedelta):
        return format_duration(value)
    if isinstance(value, pd.Timestamp):
        return value.strftime("%Y-%m-%d %H:%M")
    if fmt:
        try:
            return format(value, fmt)
        except (TypeError, ValueError):
            return str(value)
    return str(value)


class DisplayMixin:
    """Widgets classes display their ``widget`` container in notebooks."""

    widget: W.Widget

    def _repr_mimebundle_(self, **kwargs: Any) -> Any:
        return self.widget._repr_mimebundle_(**kwargs)


class ChartFitter(anywidget.AnyWidget):
    """An invisible helper that keeps plotly charts as wide as their box: plotly sizes a
    FigureWidget once, when it is first drawn (often before the notebook has laid the box
    out), and again only on a window resize. This watches the element with class ``target``
    (the closest one around it) and, when its width changes, fires one window ``resize`` so
    every chart re-fits (sidebar opened or closed, narrow notebook, the box wrapping) — only
    once the charts are drawn, and only when one is not as wide as its box."""

    _esm = """
    export default {
      render({ model, el }) {
        el.style.display = "none";
        let last = -1, tries = 0, timer = null;
        const drawn = (gd) => gd._fullLayout && (gd.data || []).length > 0
          && gd.querySelector(".main-svg");
        const fit = () => {
          const box = el.closest("." + model.get("target"));
          const plots = box ? Array.from(box.querySelectorAll(".js-plotly-plot")) : [];
          if (!plots.length || !plots.every(drawn)) {  // not drawn yet: never resize mid-draw
            if (tries++ < 200) { timer = setTimeout(fit, 300); }
            return;
          }
          const off = plots.some((gd) => Math.abs(gd.getBoundingClientRect().width
            - Number(gd.querySelector(".main-svg").getAttribute("width"))) > 2);
          if (off) { window.dispatchEvent(new Event("resize")); }
        };
        const watch = () => {
          const box = el.closest("." + model.get("target"));
          if (!box) { setTimeout(watch, 200); return; }
          new ResizeObserver((entries) => {
            const width = Math.round(entries[0].contentRect.width);
            if (width === last) { return; }
            last = width;
            tries = 0;
            clearTimeout(timer);
            timer = setTimeout(fit, 150);
          }).observe(box);
        };
        watch();
      },
    };
    """
    target = traitlets.Unicode("esc-fit").tag(sync=True)
