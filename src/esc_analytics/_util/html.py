"""Escaping for text that comes from data, files and people (mention texts, authors, topics,
incident ids and titles, notes, tier names and owners, policy descriptions).

Everything shown in notebooks, widgets or rendered HTML goes through these helpers, each for the
context the text lands in, so that markup, script or a link inside a value is displayed as text,
never executed or followed:

* HTML text and attributes: :func:`escape_text`;
* plotly hover texts, labels, titles and annotations (a subset of HTML): :func:`plotly_safe`;
* Markdown that notebooks and reports render as HTML: :func:`markdown_text` for a value placed
  inside generated Markdown, :func:`markdown_defang` for a Markdown body that mixes generated
  formatting with people's text (links, images and raw HTML neutralised, emphasis and bullets
  kept);
* JSON inside a ``<script>`` element: :func:`script_json`.
"""

from __future__ import annotations

import html
import json
import math
import re
from collections.abc import Iterable, Sequence

import pandas as pd

from .errors import DataLoadError

__all__ = [
    "SafeHTML",
    "escape_text",
    "markdown_defang",
    "markdown_text",
    "mentions_table_html",
    "plotly_safe",
    "plotly_safe_many",
    "script_json",
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


# Characters that Markdown (CommonMark/GFM, mistune, marked) may read as inline syntax
# anywhere: backslash-escaped. ``_`` only where it could open or close emphasis (not inside a
# word: ``volume_ratio`` stays readable); ``& < >`` become entities (raw HTML, autolinks).
_MD_INLINE = re.compile(r"([\\`*\[\]|~$])|(?<![A-Za-z0-9])_|_(?![A-Za-z0-9])")
# What would start a heading, list, quote or thematic break at the start of the text.
_MD_LINE_START = re.compile(r"^(\s*)([#+=-]|\d+(?=[.)]))")
_LINE_BREAKS = re.compile(r"[\r\n\u2028\u2029\x85\x0b\x0c]+")


def markdown_text(value: object) -> str:
    """A value as literal text inside Markdown (inline: one line): the characters Markdown
    reads as syntax backslash-escaped, ``& < >`` as entities, line breaks as spaces — so
    ``[x](javascript:alert(1))`` is shown as typed and never becomes a link, an image, raw HTML,
    a heading or a list. None/NaN give ""."""
    text = _LINE_BREAKS.sub(" ", _as_text(value))
    text = _MD_INLINE.sub(lambda m: "\\" + m.group(0), text)
    text = _MD_LINE_START.sub(lambda m: m.group(1) + "\\" + m.group(2), text)
    return text.replace("&", "&amp;").replace("<", "&lt;").replace(">", "&gt;")


# An escaped character (kept as is), a code span (literal already), or a character to defang.
_MD_DEFANG = re.compile(r"\\[\s\S]|(`+)[\s\S]*?(?<!`)\1(?!`)|[\[\]<]")


def _defang(match: re.Match[str]) -> str:
    token = match.group(0)
    if token.startswith("\\") or match.group(1):
        return token
    return {"[": "\\[", "]": "\\]", "<": "&lt;"}[token]


def markdown_defang(text: object) -> str:
    """A Markdown body with its links, images, autolinks and raw HTML neutralised (``[`` and
    ``]`` backslash-escaped, ``<`` as ``&lt;``, outside code spans) while bullets, emphasis,
    quotes and code spans keep working: for notes that mix generated Markdown with people's
    text. Text escaped with :func:`markdown_text` passes unchanged. None/NaN give ""."""
    return _MD_DEFANG.sub(_defang, _as_text(text))


_SCRIPT_JSON_ESCAPES = {
    "<": "\\u003c",
    ">": "\\u003e",
    "&": "\\u0026",
    "\u2028": "\\u2028",
    "\u2029": "\\u2029",
}
_SCRIPT_JSON_UNSAFE = re.compile("[<>&\u2028\u2029]")


def script_json(value: object) -> str:
    """JSON safe to place between ``<script>`` tags: a JSON text (``str``) or any JSON-able
    value (dumped first) with ``<``, ``>``, ``&``, U+2028 and U+2029 written as ``\\uXXXX``
    escapes, so neither ``</script>`` nor ``<!--`` in a value can end or comment out the block.
    The result parses to the same value (those characters only occur inside JSON strings)."""
    text = value if isinstance(value, str) else json.dumps(value, ensure_ascii=False)
    return _SCRIPT_JSON_UNSAFE.sub(lambda m: _SCRIPT_JSON_ESCAPES[m.group(0)], text)


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
