"""Milestone timeline of an incident review: volume around the incident and its milestones."""

from __future__ import annotations

from typing import Any

import plotly.graph_objects as go

from .._util.html import plotly_safe, plotly_safe_many
from ._timeline import tier_color

MILESTONE_COLORS = {
    "started": "#d62728",
    "detected": "#9467bd",
    "escalated": "#8c564b",
    "peak": "#ff7f0e",
    "ended": "#7f7f7f",
    "resolved": "#2ca02c",
}


def milestone_figure(review: Any, *, height: int = 380) -> go.Figure:
    """Volume (and baseline) around the incident with one marked line per milestone; policy
    escalations coloured by tier."""
    ctx = review.context
    fig = go.Figure()
    if len(ctx) and "volume" in ctx:
        fig.add_trace(
            go.Scatter(
                name="volume",
                x=ctx["window_start"],
                y=ctx["volume"],
                mode="lines",
                line={"color": "#555", "width": 1},
            )
        )
        if "baseline_volume" in ctx:
            fig.add_trace(
                go.Scatter(
                    name="baseline",
                    x=ctx["window_start"],
                    y=ctx["baseline_volume"],
                    mode="lines",
                    line={"color": "#1f77b4", "dash": "dot", "width": 1},
                )
            )
        for k in sorted({int(t) for t in ctx["tier"].unique() if t > 0}):
            sel = ctx[ctx["tier"] == k]
            fig.add_trace(
                go.Scatter(
                    name=f"tier {k} escalated",
                    x=sel["window_start"],
                    y=sel["volume"],
                    mode="markers",
                    marker={"color": tier_color(k), "size": 6},
                )
            )
    ms = review.milestones
    ymax = float(ctx["volume"].max()) if len(ctx) and "volume" in ctx else 1.0
    colors = [
        tier_color(int(t)) if int(t) > 0 else MILESTONE_COLORS.get(m, "#17becf")
        for m, t in zip(ms["milestone"], ms["tier"], strict=True)
    ]
    fig.add_trace(
        go.Scatter(
            name="milestones",
            x=ms["at"],
            y=[ymax * (1.08 + 0.1 * i) for i in range(len(ms))],  # one row per milestone
            mode="markers+text",
            text=plotly_safe_many(ms["milestone"]),
            textposition="middle right",
            hovertext=plotly_safe_many(ms["detail"]),
            marker={"symbol": "triangle-down", "size": 11, "color": colors},
        )
    )
    shapes = [
        {
            "type": "line",
            "x0": at,
            "x1": at,
            "yref": "paper",
            "y0": 0,
            "y1": 1,
            "line": {"color": c, "width": 1, "dash": "dot"},
        }
        for at, c in zip(ms["at"], colors, strict=True)
    ]
    start = review.incident.get("started_at")
    end = review.incident.get("ended_at")
    if start is not None and end is not None:
        shapes.append(
            {
                "type": "rect",
                "x0": start,
                "x1": end,
                "yref": "paper",
                "y0": 0,
                "y1": 1,
                "fillcolor": "rgba(214, 39, 40, 0.10)",
                "line": {"width": 0},
                "layer": "below",
            }
        )
    title = review.incident_id + (
        f": {review.incident['title']}" if review.incident.get("title") else ""
    )
    fig.update_layout(
        title=plotly_safe(f"Milestones — {title}"),
        height=height,
        shapes=shapes,
        margin={"l": 50, "r": 20, "t": 50, "b": 40},
        yaxis_title="mentions per window",
        template="plotly_white",
        legend={"orientation": "h", "y": -0.15},
    )
    return fig
