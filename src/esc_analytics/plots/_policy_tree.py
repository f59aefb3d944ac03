"""The escalation plan as a decision tree (plotly): the question of the highest tier first;
"yes" leads to that tier's owner, "no" to the next tier's question, and finally to monitoring."""

from __future__ import annotations

import html
import textwrap

import plotly.graph_objects as go

from .._util.errors import PolicyError
from ..policy._policy import Policy, Tier
from ._style import TEXT_COLOR, apply_style, tier_color, tier_fill

_ROW = 2.0  # vertical distance between decision rows (data units)
_BOX_H = 1.3  # box height
_Q_X, _Q_HALF = 3.0, 2.75  # decision column: centre and half width
_O_X, _O_HALF = 8.6, 2.0  # outcome column
_Q_WRAP, _O_WRAP = 46, 30  # characters per line inside the boxes


def _label(text: str, width: int) -> str:
    """Escape user text for plotly's HTML-like labels and wrap it into lines."""
    lines = textwrap.wrap(text, width=width, break_long_words=True) or [""]
    return "<br>".join(html.escape(line, quote=False) for line in lines)


def _box_path(x0: float, y0: float, x1: float, y1: float, r: float = 0.18) -> str:
    """SVG path of a rectangle with rounded corners (data coordinates)."""
    return (
        f"M {x0 + r},{y0} L {x1 - r},{y0} Q {x1},{y0} {x1},{y0 + r} "
        f"L {x1},{y1 - r} Q {x1},{y1} {x1 - r},{y1} L {x0 + r},{y1} "
        f"Q {x0},{y1} {x0},{y1 - r} L {x0},{y0 + r} Q {x0},{y0} {x0 + r},{y0} Z"
    )


def _question(tier: Tier) -> str:
    text = tier.describe_conditions()
    if tier.persistence > 1:
        text += f" for {tier.persistence} windows in a row"
    return text + "?"


def _question_label(tier: Tier) -> tuple[str, int]:
    """The question box's label and its number of lines: a flat tier's conditions wrapped; a
    nested tier's as an indented outline (all of / any of / none of, one item a line)."""
    if not tier.nested:
        label = _label(_question(tier), _Q_WRAP)
        return label, label.count("<br>") + 1
    rows = []
    for depth, text in tier.outline():
        pad = "\u00a0" * (3 * depth)
        bullet = "• " if depth else ""
        width = max(_Q_WRAP - 3 * depth, 16)
        for k, line in enumerate(textwrap.wrap(text, width=width, break_long_words=True)):
            lead = bullet if k == 0 else "\u00a0" * len(bullet)
            rows.append(pad + lead + html.escape(line, quote=False))
    if tier.persistence > 1:
        rows.append(f"for {tier.persistence} windows in a row?")
    else:
        rows[-1] += "?"
    return "<br>".join(rows), len(rows)


def _box_height(lines: int) -> float:
    return max(_BOX_H, 0.26 * lines + 0.4)


def _outcome(tier: Tier) -> str:
    who = tier.owner or "escalate"
    return f"Tier {tier.level}" + (f" · {tier.name}" if tier.name else "") + f": {who}"


def _details(tier: Tier) -> str:
    parts = [
        f"<b>{html.escape(tier.title, quote=False)}</b>",
        f"owner: {html.escape(tier.owner or '—', quote=False)}",
        f"when: {_label(tier.describe_conditions(), 60)}",
        f"for: {tier.persistence} window(s) · cooldown: {tier.cooldown} window(s)",
    ]
    return "<br>".join(parts)


def plot_policy_tree(policy: Policy, *, title: str | None = None) -> go.Figure:
    """Draw ``policy`` as the decision tree of a written escalation plan: one question box per
    tier (highest first) with "yes" to the tier's owner and "no" to the next question."""
    if not isinstance(policy, Policy):
        raise PolicyError(f"plot_policy_tree needs a Policy, got {type(policy).__name__}")
    tiers = list(reversed(policy.tiers))
    fig = go.Figure()
    shapes: list[dict] = []
    annotations: list[dict] = []
    hover_x: list[float] = []
    hover_y: list[float] = []
    hover_text: list[str] = []

    def box(
        x: float,
        half: float,
        y: float,
        level: int,
        filled: bool,
        text: str,
        h: float = _BOX_H,
        align: str = "center",
    ) -> None:
        shapes.append(
            {
                "type": "path",
                "path": _box_path(x - half, y - h / 2, x + half, y + h / 2),
                "fillcolor": tier_color(level) if filled else tier_fill(level, 0.14),
                "line": {"color": tier_color(level), "width": 2},
                "layer": "below",
            }
        )
        dark = filled and level >= 2
        annotations.append(
            {
                "x": x,
                "y": y,
                "text": text,
                "showarrow": False,
                "font": {"color": "white" if dark else TEXT_COLOR, "size": 13},
                "align": align,
            }
        )

    def arrow(x0: float, y0: float, x1: float, y1: float, label: str) -> None:
        annotations.append(
            {
                "x": x1,
                "y": y1,
                "ax": x0,
                "ay": y0,
                "xref": "x",
                "yref": "y",
                "axref": "x",
                "ayref": "y",
                "text": "",
                "showarrow": True,
                "arrowhead": 2,
                "arrowsize": 1.2,
                "arrowwidth": 1.6,
                "arrowcolor": "#607d8b",
            }
        )
        if label:
            mid_x, mid_y = (x0 + x1) / 2, (y0 + y1) / 2
            shift = {"xshift": 0, "yshift": 10} if y0 == y1 else {"xshift": 16, "yshift": 0}
            annotations.append(
                {
                    "x": mid_x,
                    "y": mid_y,
                    "text": f"<i>{label}</i>",
                    "showarrow": False,
                    "font": {"color": "#455a64", "size": 12},
                    **shift,
                }
            )

    top = _ROW * 0.8
    start = "Each window: check the highest tier first"
    box(_Q_X, _Q_HALF * 0.7, top, 0, False, f"<b>{_label(start, 30)}</b>")
    arrow(_Q_X, top - _BOX_H / 2, _Q_X, _BOX_H / 2, "")
    labels = [_question_label(tier) for tier in tiers]
    heights = [_box_height(n) for _, n in labels] + [_BOX_H]
    y = 0.0
    for i, tier in enumerate(tiers):
        h, below = heights[i], heights[i + 1]
        next_y = y - max(_ROW, h / 2 + below / 2 + _ROW - _BOX_H)
        align = "left" if tier.nested else "center"
        box(_Q_X, _Q_HALF, y, tier.level, False, labels[i][0], h, align)
        box(_O_X, _O_HALF, y, tier.level, True, f"<b>{_label(_outcome(tier), _O_WRAP)}</b>")
        arrow(_Q_X + _Q_HALF, y, _O_X - _O_HALF, y, "yes")
        arrow(_Q_X, y - h / 2, _Q_X, next_y + below / 2, "no")
        hover_x += [_Q_X, _O_X]
        hover_y += [y, y]
        hover_text += [_details(tier), _details(tier)]
        y = next_y
    bottom = y
    box(_Q_X, _Q_HALF * 0.7, bottom, 0, True, "<b>Tier 0: monitor</b>")
    hover_x.append(_Q_X)
    hover_y.append(bottom)
    hover_text.append("No tier's conditions hold: keep monitoring, nobody is paged.")

    fig.add_trace(
        go.Scatter(
            x=hover_x,
            y=hover_y,
            mode="markers",
            marker={"size": 60, "opacity": 0, "symbol": "square"},
            hovertext=hover_text,
            hoverinfo="text",
            showlegend=False,
            name="tiers",
        )
    )
    fig.update_layout(shapes=shapes, annotations=annotations)
    fig.update_xaxes(visible=False, range=[-0.1, _O_X + _O_HALF + 0.2], fixedrange=True)
    fig.update_yaxes(visible=False, range=[bottom - _BOX_H, top + _BOX_H * 0.8], fixedrange=True)
    heading = title if title is not None else f"Escalation plan: {policy.name or 'decision tree'}"
    return apply_style(
        fig,
        title=html.escape(heading, quote=False),
        height=round(75 * (top - bottom + 2 * _BOX_H) + 45),  # 150 per row of a flat plan
        width=960,
        plot_bgcolor="white",
        hovermode="closest",
    )
