"""Figures of calibration results: the trade-off frontier per tier with the chosen point, and
walk-forward folds (out-of-sample recall and false escalations per week per fold)."""

from __future__ import annotations

from typing import Any

import plotly.graph_objects as go
from plotly.subplots import make_subplots

from .._util.html import plotly_safe_many
from ._tradeoff import tradeoff_figure


def calibration_figure(result: Any, *, tier: int = 1, height: int = 320) -> go.Figure:
    """Frontier of one tier (false notifications/week vs incidents caught) and the chosen
    thresholds' point, from a :class:`~esc_analytics.CalibrationResult`."""
    chosen = result.chosen[result.chosen["tier"] == tier]
    point = None
    if len(chosen):
        point = (float(chosen["false_per_week"].iloc[0]), float(chosen["caught"].iloc[0]))
    fig = tradeoff_figure(result.frontier, calibrated=point, tier=tier, height=height)
    fig.update_layout(title=f"Calibration frontier, tier ≥ {tier} ({result.objective})")
    return fig


def walk_forward_figure(result: Any, *, height: int = 360) -> go.Figure:
    """Per fold: out-of-sample recall (top) and false notifications per week (bottom) per
    tier, from a :class:`~esc_analytics.WalkForwardResult`."""
    folds = result.folds
    labels = (
        plotly_safe_many(folds["topic"].astype(str))  # topics come from users' files
        if "topic" in folds
        else [str(t)[:10] for t in folds["test_from"]]
    )
    fig = make_subplots(
        rows=2,
        cols=1,
        shared_xaxes=True,
        vertical_spacing=0.08,
        subplot_titles=("recall (held out)", "false notifications / week"),
    )
    tiers = sorted(int(c.split("_")[-1]) for c in folds.columns if c.startswith("recall_"))
    for k in tiers:
        fig.add_trace(
            go.Bar(name=f"tier {k}", x=labels, y=folds[f"recall_{k}"], legendgroup=str(k)),
            row=1,
            col=1,
        )
        fig.add_trace(
            go.Bar(
                name=f"tier {k}",
                x=labels,
                y=folds[f"false_per_week_{k}"],
                legendgroup=str(k),
                showlegend=False,
            ),
            row=2,
            col=1,
        )
    fig.update_layout(
        height=height,
        template="plotly_white",
        barmode="group",
        title=f"Walk-forward ({result.scheme})",
        margin={"l": 50, "r": 20, "t": 60, "b": 40},
    )
    return fig
