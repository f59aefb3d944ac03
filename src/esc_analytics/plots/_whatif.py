"""Side-by-side timelines of policy A and policy B on one topic."""

from __future__ import annotations

from typing import Any

import numpy as np
import plotly.graph_objects as go
from plotly.subplots import make_subplots

from .._util.html import plotly_safe
from ._timeline import incident_shapes, tier_color, topic_slice


def _tiers_for(escalations: Any, feats: Any, topic: str) -> np.ndarray:
    win = escalations.windows
    merged = feats[["window_start"]].merge(
        win.loc[win["topic"] == topic, ["window_start", "tier"]], how="left"
    )
    return merged["tier"].fillna(0).to_numpy(dtype=int)


def comparison_figure(comparison: Any, *, topic: str | None = None, height: int = 520) -> go.Figure:
    """Two stacked timelines sharing the time axis: escalated windows under A (top) and B."""
    feats_all = comparison.features
    if topic is None:
        changed = comparison.incidents[
            comparison.incidents["change"].isin(["newly caught", "newly missed"])
        ]
        topic = str(changed["topic"].iloc[0]) if len(changed) else str(feats_all["topic"].iloc[0])
    feats = topic_slice(feats_all, topic)
    fig = make_subplots(
        rows=2,
        cols=1,
        shared_xaxes=True,
        vertical_spacing=0.08,
        subplot_titles=[plotly_safe(comparison.name_a), plotly_safe(comparison.name_b)],
    )
    x = feats["window_start"]
    y = feats["volume"].to_numpy(dtype=float)
    levels = sorted({int(t) for t in comparison.tiers["tier"]})
    for row, esc in ((1, comparison.escalations_a), (2, comparison.escalations_b)):
        fig.add_trace(
            go.Scatter(
                name="volume",
                x=x,
                y=y,
                mode="lines",
                showlegend=row == 1,
                line={"color": "#555", "width": 1},
            ),
            row=row,
            col=1,
        )
        tiers = _tiers_for(esc, feats, topic)
        for k in levels:
            sel = tiers == k
            fig.add_trace(
                go.Scatter(
                    name=f"tier {k}",
                    x=x[sel],
                    y=y[sel],
                    mode="markers",
                    showlegend=row == 1,
                    legendgroup=f"tier{k}",
                    marker={"color": tier_color(k), "size": 5},
                ),
                row=row,
                col=1,
            )
    shapes = []
    for axis in ("x", "x2"):
        for shape in incident_shapes(comparison.incident_frame, topic):
            shapes.append(
                {**shape, "xref": axis, "yref": "y domain" if axis == "x" else "y2 domain"}
            )
    fig.update_layout(
        title=plotly_safe(f"{topic}: {comparison.name_a} vs {comparison.name_b}"),
        height=height,
        shapes=shapes,
        template="plotly_white",
        margin={"l": 50, "r": 20, "t": 70, "b": 40},
        legend={"orientation": "h", "y": -0.1},
    )
    return fig
