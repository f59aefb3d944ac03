"""Trade-off curve: false escalations per week against incidents caught.

Draws the calibration frontier (any DataFrame with a false-per-week column and a caught /
recall column) and the current policy's point.
"""

from __future__ import annotations

from typing import Any

import pandas as pd
import plotly.graph_objects as go

X_CANDIDATES = ("false_per_week", "false_escalations_per_week", "false_alerts_per_week")
Y_CANDIDATES = ("caught", "incidents_caught", "n_caught", "recall")


def _pick(frame: pd.DataFrame, names: tuple[str, ...]) -> str | None:
    return next((n for n in names if n in frame.columns), None)


def frontier_columns(frontier: pd.DataFrame | None) -> tuple[str | None, str | None]:
    """The (x, y) columns of a frontier frame: false per week, incidents caught (or recall)."""
    if frontier is None or frontier.empty:
        return None, None
    return _pick(frontier, X_CANDIDATES), _pick(frontier, Y_CANDIDATES)


def pareto_front(frontier: pd.DataFrame, x: str, y: str) -> pd.DataFrame:
    """The non-dominated points (fewest false escalations for each number caught), by x."""
    pts = frontier[[x, y]].dropna().sort_values([x, y], ascending=[True, False])
    best = pts[y].cummax()
    keep = pts[y] >= best  # a point is kept when no cheaper point catches as many
    keep &= ~pts[y].duplicated()
    return pts[keep].reset_index(drop=True)


def current_point(backtest_result: Any, tier: int | None = None) -> tuple[float, float]:
    """(false escalations per week, incidents caught) of a backtest result; with ``tier`` k,
    false notifications at tier ≥ k and incidents of severity ≥ k caught at tier ≥ k (the
    calibration frontier's reading)."""
    if tier is None:
        ev = backtest_result.evaluated
        return float(backtest_result.false_per_week), float(ev["caught"].sum())
    falses = backtest_result.false_alerts
    weeks = backtest_result.weeks or float("nan")
    x = float((falses["tier"] >= tier).sum()) / weeks
    row = backtest_result.tiers[backtest_result.tiers["tier"] == tier]
    return x, float(row["caught"].iloc[0]) if len(row) else 0.0


def tradeoff_figure(
    frontier: pd.DataFrame | None = None,
    current: tuple[float, float] | None = None,
    *,
    calibrated: tuple[float, float] | None = None,
    n_incidents: int | None = None,
    tier: int | None = None,
    height: int = 320,
) -> go.Figure:
    """Frontier (line), the calibrated policy (diamond) and the current policy (large dot).

    Trace order is fixed (frontier, calibrated, current) so widgets can update in place."""
    if frontier is not None and tier is not None and "tier" in frontier:
        frontier = frontier[frontier["tier"] == tier]
    x, y = frontier_columns(frontier)
    fig = go.Figure()
    if x and y:
        front = pareto_front(frontier, x, y)
        scale = n_incidents if (y == "recall" and n_incidents) else 1
        fig.add_trace(
            go.Scatter(
                name="calibrated frontier",
                mode="lines+markers",
                x=front[x],
                y=front[y] * scale,
                line={"shape": "hv"},
                marker={"size": 4, "color": "#999"},
            )
        )
    else:
        fig.add_trace(go.Scatter(name="calibrated frontier", x=[], y=[]))
    cx, cy = calibrated if calibrated is not None else (None, None)
    fig.add_trace(
        go.Scatter(
            name="calibrated policy",
            mode="markers",
            x=[cx] if cx is not None else [],
            y=[cy] if cy is not None else [],
            marker={"symbol": "diamond", "size": 11, "color": "#2ca02c"},
        )
    )
    px, py = current if current is not None else (None, None)
    fig.add_trace(
        go.Scatter(
            name="current policy",
            mode="markers",
            x=[px] if px is not None else [],
            y=[py] if py is not None else [],
            marker={"size": 13, "color": "#d62728"},
        )
    )
    fig.update_layout(
        height=height,
        margin={"l": 50, "r": 20, "t": 40, "b": 40},
        title="Trade-off: false escalations vs incidents caught"
        + (f" (tier ≥ {tier})" if tier is not None else ""),
        xaxis_title="false escalations per week",
        yaxis_title="incidents caught",
        template="plotly_white",
        legend={"orientation": "h", "y": -0.25},
    )
    return fig
