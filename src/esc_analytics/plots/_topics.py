"""Volume, baseline and negative share of a few topics, one row each, with incidents shaded.

The explore notebook's overview chart: it draws the topics it is given (say the top six of
:func:`esc_analytics.top_topics`), never every topic, so a history of 10,000 topics stays a
readable figure of bounded size.
"""

from __future__ import annotations

from collections.abc import Sequence

import pandas as pd
import plotly.graph_objects as go
from plotly.subplots import make_subplots

from .._util.html import plotly_safe
from ..features import rolling_negative_share

#: Above this many rows the figure is too tall to read: pick topics first.
MAX_TOPIC_ROWS = 24


def topic_windows_figure(
    features: pd.DataFrame,
    incidents: pd.DataFrame | None = None,
    *,
    topics: Sequence[str],
    freq: str | pd.Timedelta = "1h",
    span: str | pd.Timedelta = "1D",
) -> go.Figure:
    """One row per topic of ``topics``: mentions per window (blue), the baseline (grey dots),
    the negative share over the trailing ``span`` (orange, right axis) and the incidents of
    ``incidents`` shaded red from start to end. Topic names are shown as text."""
    topics = [str(t) for t in topics]
    if not topics:
        raise ValueError("topics is empty: name at least one topic to draw")
    if len(topics) > MAX_TOPIC_ROWS:
        raise ValueError(
            f"{len(topics)} topics is too many rows for one figure (at most {MAX_TOPIC_ROWS}):"
            " chart the top topics (esc.top_topics) and pick the others one at a time"
        )
    known = set(features["topic"].astype(str).unique())
    unknown = [t for t in topics if t not in known]
    if unknown:
        raise ValueError(f"topics not in the features: {unknown[:5]}")
    negative = rolling_negative_share(features, freq=freq, span=span)
    step = pd.Timedelta(freq)
    fig = make_subplots(
        rows=len(topics),
        cols=1,
        shared_xaxes=True,
        vertical_spacing=min(0.04, 0.3 / len(topics)),
        subplot_titles=[plotly_safe(t) for t in topics],
        specs=[[{"secondary_y": True}] for _ in topics],
    )
    topic_text = features["topic"].astype(str)
    for row, topic in enumerate(topics, start=1):
        f = features[topic_text == topic]
        first = row == 1
        fig.add_trace(
            go.Scatter(x=f["window_start"], y=f["volume"], name="volume", legendgroup="volume",
                       showlegend=first, line={"color": "#1f77b4", "width": 1}),
            row=row, col=1,
        )  # fmt: skip
        fig.add_trace(
            go.Scatter(x=f["window_start"], y=f["baseline_volume"], name="baseline",
                       legendgroup="baseline", showlegend=first,
                       line={"color": "#7f7f7f", "width": 1.5, "dash": "dot"}),
            row=row, col=1,
        )  # fmt: skip
        fig.add_trace(
            go.Scatter(x=f["window_start"], y=negative[f.index],
                       name="negative share (last 24 h)", legendgroup="negative",
                       showlegend=first, line={"color": "#ff7f0e", "width": 1.2}),
            row=row, col=1, secondary_y=True,
        )  # fmt: skip
        if incidents is not None and len(incidents):
            for incident in incidents[incidents["topic"].astype(str) == topic].itertuples():
                ended = getattr(incident, "ended_at", None)
                end = incident.started_at if ended is None or pd.isna(ended) else ended
                fig.add_vrect(
                    x0=incident.started_at, x1=end + step,
                    fillcolor="#d62728", opacity=0.18, line_width=0, row=row, col=1,
                )  # fmt: skip
        fig.update_yaxes(title_text="mentions", row=row, col=1, secondary_y=False)
        fig.update_yaxes(title_text="negative", tickformat=".0%", range=[0, 1],
                         tickmode="linear", tick0=0, dtick=0.25, showgrid=False,
                         row=row, col=1, secondary_y=True)  # fmt: skip
    fig.update_layout(
        height=240 * len(topics) + 80, template="plotly_white", hovermode="x unified",
        margin={"l": 60, "r": 60, "t": 60, "b": 40},
        legend={"orientation": "h", "y": 1.02, "yanchor": "bottom", "x": 0},
    )  # fmt: skip
    return fig
