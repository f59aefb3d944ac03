"""Bar chart of what rose most during an episode (terms, authors, platforms)."""

from __future__ import annotations

from typing import Any

import numpy as np
import plotly.graph_objects as go
from plotly.subplots import make_subplots

from .._util.html import plotly_safe, plotly_safe_many


def explanation_figure(explanation: Any, *, top: int = 10, height: int = 380) -> go.Figure:
    """Three horizontal bar charts: rise factor (episode share / baseline share) of the top
    terms, authors and platforms. Labels are escaped (they come from posts)."""
    kinds = (
        ("terms", explanation.terms),
        ("authors", explanation.authors),
        ("platforms", explanation.platforms),
    )
    fig = make_subplots(
        rows=1, cols=3, subplot_titles=[k for k, _ in kinds], horizontal_spacing=0.12
    )
    for i, (kind, frame) in enumerate(kinds, start=1):
        sub = frame.head(top).iloc[::-1]
        fig.add_trace(
            go.Bar(
                name=kind,
                orientation="h",
                x=np.exp(sub["log_ratio"].to_numpy(dtype=float)),
                y=plotly_safe_many(sub["item"]),
                showlegend=False,
                hovertext=[
                    f"{e} in episode, {b} in baseline"
                    for e, b in zip(sub["episode_count"], sub["baseline_count"], strict=True)
                ],
            ),
            row=1,
            col=i,
        )
    fig.update_xaxes(title_text="× baseline share", type="log")
    fig.update_layout(
        title=plotly_safe(
            f"What rose in {explanation.topic} ({explanation.start:%Y-%m-%d %H:%M} UTC)"
        ),
        height=height,
        template="plotly_white",
        margin={"l": 120, "r": 20, "t": 60, "b": 40},
    )
    return fig
