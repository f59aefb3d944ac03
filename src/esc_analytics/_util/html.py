"""Escaping for text that comes from the public internet (mention texts, authors, titles).

Everything shown in notebooks, widgets or rendered HTML goes through these helpers so that markup
or script inside a post is displayed as text, never executed. Plotly renders a subset of HTML in
hover texts and labels, hence :func:`plotly_safe`.
"""

from __future__ import annotations

import html
import math
from collections.abc import Iterable, Sequence

import pandas as pd

from .errors import DataLoadError

__all__ = [
    "SafeHTML",
    "escape_text",
    "mentions_table_html",
    "plotly_safe",
    "plotly_safe_many",
]

_ELLIPSIS = "…"


class SafeHTML(str):
    """An HTML fragment built from escaped parts; notebooks display it as HTML (``_repr_html_``)."""

    __slots__ = ()

    def _repr_html_(self) -> str:
        return str(self)


def _as_text(value: object) -> str:
    """Plain text for a cell: missing values become "", timestamps ISO 8601, the rest ``str``."""
    if value is None or value is pd.NA or value is pd.NaT:
        return ""
    if isinstance(value, float) and math.isnan(value):
        return ""
    if isinstance(value, pd.Timestamp):
        return value.isoformat()
    return str(value)


def escape_text(value: object, *, max_chars: int | None = None) -> str:
    """Escape any value for HTML text or attribute context (``& < > " '``); None/NaN give "".

    ``max_chars`` shortens the *unescaped* text first (with "…") so that entities are never cut.
    """
    text = _as_text(value)
    if max_chars is not None:
        if max_chars < 1:
            raise ValueError(f"max_chars must be >= 1, got {max_chars}")
        if len(text) > max_chars:
            text = text[: max_chars - 1] + _ELLIPSIS
    return html.escape(text, quote=True)


def plotly_safe(text: object) -> str:
    """Escape ``&``, ``<`` and ``>`` so that plotly shows a hover text/label literally.

    Plotly interprets a subset of HTML (``<b>``, ``<br>``, ``<a href>``...) in hover texts,
    annotations and tick labels, and decodes entities for display: ``&lt;script&gt;`` is shown as
    ``<script>``. None/NaN give "".
    """
    return html.escape(_as_text(text), quote=False)


def plotly_safe_many(texts: Iterable[object]) -> list[str]:
    """:func:`plotly_safe` over a sequence (e.g. a Series used as ``hovertext``)."""
    return [plotly_safe(text) for text in texts]


def mentions_table_html(
    frame: pd.DataFrame,
    columns: Sequence[str] | None = None,
    max_rows: int = 20,
    *,
    max_chars: int | None = 280,
    caption: str | None = None,
) -> SafeHTML:
    """An HTML ``<table class="esc-mentions">`` of the first ``max_rows`` rows, every header and
    cell escaped with :func:`escape_text` (texts longer than ``max_chars`` are shortened).

    Returns a :class:`SafeHTML` string that a notebook displays as a table. Raises
    :class:`DataLoadError` naming the columns that are not in the frame.
    """
    if not isinstance(frame, pd.DataFrame):
        raise DataLoadError(f"expected a pandas DataFrame, got {type(frame).__name__}")
    if max_rows < 0:
        raise ValueError(f"max_rows must be >= 0, got {max_rows}")
    shown = list(frame.columns if columns is None else columns)
    missing = [name for name in shown if name not in frame.columns]
    if missing:
        raise DataLoadError(
            f"columns {missing} are not in the frame (available: {list(frame.columns)})"
        )
    head = frame.loc[:, shown].head(max_rows)
    parts = ['<table class="esc-mentions">']
    if caption:
        parts.append(f"<caption>{escape_text(caption)}</caption>")
    parts.append("<thead><tr>")
    parts.extend(f'<th style="text-align:left">{escape_text(name)}</th>' for name in shown)
    parts.append("</tr></thead><tbody>")
    for row in head.itertuples(index=False, name=None):
        parts.append("<tr>")
        parts.extend(
            f'<td style="text-align:left">{escape_text(value, max_chars=max_chars)}</td>'
            for value in row
        )
        parts.append("</tr>")
    parts.append("</tbody></table>")
    if len(frame) > len(head):
        parts.append(f'<p class="esc-mentions-more">{len(head)} of {len(frame)} rows shown</p>')
    return SafeHTML("".join(parts))
