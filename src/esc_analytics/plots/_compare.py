"""Figures of a classifier-vs-policy comparison: pooled out-of-sample metrics side by side (with
each fold as a point) and the permutation importance of the classifier's inputs."""

from __future__ import annotations

from typing import Any

import pandas as pd
import plotly.graph_objects as go
from plotly.subplots import make_subplots

from ._style import apply_style

_METHOD_COLORS = {"policy": "#546e7a", "model": "#1e88e5"}
_METHOD_NAMES = {"policy": "rule policy (calibrated)", "model": "classifier"}


def _panels(tiers: list[int]) -> list[tuple[str, str]]:
    return [
        *((f"recall_{k}", f"recall, tier {k}") for k in tiers),
        ("false_per_week", "false notifications / week"),
        ("median_lead_time_h", "median lead time (h)"),
        ("nab_score", "NAB score"),
    ]


def comparison_metrics_figure(comparison: Any, *, height: int = 360) -> go.Figure:
    """One panel per metric (recall per tier, false/week, median lead time, NAB): a bar per
    method with the pooled out-of-sample figure, and a dot per fold."""
    panels = _panels(comparison.tiers)
    fig = make_subplots(
        rows=1, cols=len(panels), subplot_titles=[title for _, title in panels],
        horizontal_spacing=0.05,
    )
    folds = comparison.folds
    for col, (metric, _) in enumerate(panels, start=1):
        for method in ("policy", "model"):
            name = _METHOD_NAMES[method]
            pooled = comparison.pooled.loc[comparison.pooled["method"] == method, metric]
            value = float(pooled.iloc[0]) if len(pooled) else float("nan")
            fig.add_trace(
                go.Bar(
                    x=[name], y=[value], name=name, legendgroup=method,
                    marker_color=_METHOD_COLORS[method], showlegend=col == 1,
                    hovertemplate=f"{name}<br>pooled: %{{y:.3g}}<extra></extra>",
                ),
                row=1, col=col,
            )
            part = folds[folds["method"] == method]
            labels = (
                part["topic"].astype(str) if "topic" in part
                else part["test_from"].map(lambda t: str(pd.Timestamp(t).date()))
            )
            fig.add_trace(
                go.Scatter(
                    x=[name] * len(part), y=part[metric], mode="markers",
                    marker={"color": "#263238", "size": 7, "symbol": "circle-open"},
                    name="fold", legendgroup="fold", showlegend=col == 1 and method == "policy",
                    text=labels, hovertemplate="fold %{text}: %{y:.3g}<extra></extra>",
                ),
                row=1, col=col,
            )
        fig.update_xaxes(showticklabels=False, row=1, col=col)
    return apply_style(
        fig,
        title=f"Classifier vs rule policy, out of sample ({comparison.scheme} folds)",
        height=height,
        legend={"orientation": "h", "y": -0.08},
    )


def importance_figure(importance: pd.DataFrame, *, top: int = 15, height: int | None = None
                      ) -> go.Figure:
    """Horizontal bars: mean permutation importance (drop in balanced accuracy) of the top
    inputs, with the spread over folds as error bars."""
    data = importance.head(int(top)).iloc[::-1]
    fig = go.Figure(
        go.Bar(
            x=data["importance"], y=data["feature"].astype(str), orientation="h",
            error_x={"type": "data", "array": data["std"].fillna(0.0)},
            marker_color=_METHOD_COLORS["model"],
            hovertemplate="%{y}: %{x:.4f}<extra></extra>",
        )
    )
    fig.update_xaxes(title="drop in balanced accuracy when shuffled (held out)")
    return apply_style(
        fig, title="Which inputs the classifier relies on",
        height=height or max(260, 22 * len(data) + 110),
    )
