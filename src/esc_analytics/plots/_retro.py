"""Milestone timeline of an incident review: volume around the incident and its milestones."""

from __future__ import annotations

from typing import Any

import pandas as pd
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


PHASE_COLORS = {"incident": "rgba(214, 39, 40, 0.55)", "launch": "rgba(31, 119, 180, 0.45)"}
OUTCOME_COLORS = {
    "missed": "#d62728",
    "caught, below its severity": "#ff7f0e",
    "caught at its severity": "#2ca02c",
    "caught, above its severity": "#1f77b4",
    "not evaluated": "#7f7f7f",
}


def period_figure(review: Any, *, height: int | None = None) -> go.Figure:
    """The period on one timeline: one row per topic, planned phases as bars, incidents as
    bars coloured by outcome with their id, the weeks as grid lines."""
    phases = review.phases
    topics = sorted({str(t) for t in phases["topic"]}) if len(phases) else []
    outcome = dict(zip(review.incidents["incident_id"], review.incidents["outcome"], strict=True))
    fig = go.Figure()
    for kind in dict.fromkeys(phases["kind"]) if len(phases) else ():
        sel = phases[phases["kind"] == kind]
        if kind == "incident":
            colors = [OUTCOME_COLORS.get(outcome.get(p, ""), "#d62728") for p in sel["phase"]]
            hover = [f"{plotly_safe(p)}: {plotly_safe(outcome.get(p, ''))}" for p in sel["phase"]]
        else:
            colors = PHASE_COLORS.get(kind, "rgba(148, 103, 189, 0.45)")
            hover = [f"{plotly_safe(p)} ({plotly_safe(kind)})" for p in sel["phase"]]
        durations = (sel["ended_at"] - sel["started_at"]) / pd.Timedelta("1ms")
        fig.add_trace(
            go.Bar(
                name="incidents" if kind == "incident" else plotly_safe(kind),
                base=sel["started_at"],
                x=durations.clip(lower=3_600_000),
                y=plotly_safe_many(sel["topic"]),
                orientation="h",
                marker={"color": colors},
                text=plotly_safe_many(sel["phase"]) if kind == "incident" else None,
                textposition="outside",
                cliponaxis=False,
                hovertext=hover,
                hoverinfo="text",
            )
        )
    fig.update_layout(
        title=plotly_safe(f"Phases and incidents — {review.name}"),
        height=height or max(260, 90 + 60 * max(len(topics), 1)),
        barmode="overlay",
        template="plotly_white",
        margin={"l": 110, "r": 70, "t": 50, "b": 40},
        xaxis={"type": "date", "range": [review.start, review.end]},
        legend={"orientation": "h", "y": -0.2},
    )
    return fig


def alert_load_figure(review: Any, *, height: int = 320) -> go.Figure:
    """The plan's alerts per week, stacked by tier, with the false ones marked."""
    load = review.alert_load
    fig = go.Figure()
    for tier in sorted({int(t) for t in load["tier"]}) if len(load) else ():
        sel = load[load["tier"] == tier]
        fig.add_trace(
            go.Bar(
                name=f"tier {tier}",
                x=sel["week"],
                y=sel["alerts"],
                marker={"color": tier_color(tier)},
                customdata=sel["false_alerts"],
                hovertemplate=(
                    "week of %{x|%Y-%m-%d}: %{y} alerts, %{customdata} false<extra></extra>"
                ),
            )
        )
    if len(load):
        per_week = load.groupby("week", sort=True)["false_alerts"].sum()
        fig.add_trace(
            go.Scatter(
                name="false alerts (all tiers)",
                x=per_week.index,
                y=per_week.to_numpy(),
                mode="lines+markers",
                line={"color": "#333", "dash": "dot"},
            )
        )
    fig.update_layout(
        title=plotly_safe(f"Alert load per week — {review.name}"),
        barmode="stack",
        height=height,
        template="plotly_white",
        yaxis_title="alerts",
        margin={"l": 50, "r": 20, "t": 50, "b": 40},
        legend={"orientation": "h", "y": -0.2},
    )
    return fig
