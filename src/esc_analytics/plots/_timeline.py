"""Timeline of one topic: volume, baseline, the threshold line, escalations by tier, incidents.

``timeline_data`` computes the traces' arrays (cheap, reused by the tuner widget to update a
FigureWidget in place); ``timeline_figure`` builds the plain plotly Figure from them.
"""

from __future__ import annotations

from typing import Any

import numpy as np
import pandas as pd
import plotly.graph_objects as go

from .._util.html import plotly_safe
from ..escalations._escalations import Escalations
from ..policy._thresholds import threshold_volume
from ._style import tier_color, tier_fill

__all__ = [
    "FIXED_TRACES",
    "display_rows",
    "epoch_ms",
    "tier_color",
    "tier_fill",
    "timeline_data",
    "timeline_figure",
]

# Trace order of the timeline (the widget relies on it): fixed traces, then one per tier.
FIXED_TRACES = ("volume", "baseline", "threshold")


def window_times(frame: pd.DataFrame) -> np.ndarray:
    """window_start as datetime64 (UTC wall time): fast to slice and to serialise."""
    ws = frame["window_start"]
    if getattr(ws.dtype, "tz", None) is not None:
        ws = ws.dt.tz_convert("UTC").dt.tz_localize(None)
    return ws.to_numpy()


def epoch_ms(x: np.ndarray) -> np.ndarray:
    """Times as float milliseconds since the epoch (UTC): what a plotly date axis reads from
    numbers, sent to the browser as one binary buffer instead of a list of strings."""
    return np.asarray(x).astype("datetime64[ms]").astype("int64").astype(float)


def display_rows(values: np.ndarray, max_points: int) -> np.ndarray:
    """Indices of at most ``max_points`` rows that keep the shape of ``values`` on screen: the
    lowest and highest row of each of ``max_points // 2`` equal buckets (min-max decimation,
    peaks kept), in order. All rows when there are no more than ``max_points``."""
    n = len(values)
    if max_points < 4 or n <= max_points:
        return np.arange(n)
    buckets = max_points // 2
    size = -(-n // buckets)
    padded = np.full(buckets * size, np.nan)
    padded[:n] = np.asarray(values, dtype=float)
    grid = padded.reshape(buckets, size)
    filled = ~np.isnan(grid)
    offsets = np.arange(buckets) * size
    lo = np.where(filled, grid, np.inf).argmin(axis=1) + offsets
    hi = np.where(filled, grid, -np.inf).argmax(axis=1) + offsets
    rows = np.unique(np.concatenate([lo, hi, [0, n - 1]]))
    return rows[rows < n]


def escalation_points(
    topic_features: pd.DataFrame, tiers: np.ndarray, levels: list[int]
) -> dict[int, tuple[np.ndarray, np.ndarray]]:
    """Per tier level: (window_start, volume) of the windows escalated at that tier."""
    x = window_times(topic_features)
    y = topic_features["volume"].to_numpy(dtype=float)
    return {k: (x[tiers == k], y[tiers == k]) for k in levels}


def timeline_data(
    topic_features: pd.DataFrame,
    tiers: np.ndarray,
    *,
    policy: Any = None,
    threshold_tier: int | None = None,
    levels: list[int] | None = None,
) -> dict[str, dict[str, Any]]:
    """Trace arrays for one topic: ``{name: {"x": ..., "y": ...}}`` in ``FIXED_TRACES`` order then
    ``tier{k}``. ``tiers`` = the tier per row of ``topic_features`` (sorted by window)."""
    if levels is None:
        levels = sorted(int(t.level) for t in policy.tiers) if policy is not None else [1]
    x = window_times(topic_features)
    out: dict[str, dict[str, Any]] = {
        "volume": {"x": x, "y": topic_features["volume"].to_numpy(dtype=float)},
        "baseline": {
            "x": x,
            "y": topic_features["baseline_volume"].to_numpy(dtype=float)
            if "baseline_volume" in topic_features
            else np.full(len(x), np.nan),
        },
    }
    level = threshold_tier if threshold_tier is not None else (min(levels) if levels else 1)
    bar = threshold_volume(policy, level, topic_features)
    out["threshold"] = {"x": x, "y": bar} if bar is not None else {"x": x[:0], "y": np.empty(0)}
    for k, (xs, ys) in escalation_points(topic_features, np.asarray(tiers), levels).items():
        out[f"tier{k}"] = {"x": xs, "y": ys}
    return out


def axis_time(value: Any) -> str:
    """A time as plotly.js reads it on a date axis: UTC wall time without an offset
    (``2025-01-10 11:00:00``; an ISO string with ``+00:00`` is not a date to plotly.js)."""
    ts = pd.Timestamp(value)
    if ts.tzinfo is not None:
        ts = ts.tz_convert("UTC").tz_localize(None)
    return ts.strftime("%Y-%m-%d %H:%M:%S")


def topic_slice(frame: pd.DataFrame, topic: str) -> pd.DataFrame:
    """The rows of one topic, sorted by window."""
    return frame[frame["topic"] == topic].sort_values("window_start").reset_index(drop=True)


def incident_shapes(incidents: pd.DataFrame | None, topic: str) -> list[dict[str, Any]]:
    """Shaded rectangles (layout shapes) for the topic's incidents, started_at → ended_at."""
    if incidents is None or incidents.empty:
        return []
    inc = incidents[incidents["topic"] == topic]
    shapes = []
    for rec in inc.itertuples(index=False):
        start = pd.Timestamp(rec.started_at)
        end = getattr(rec, "ended_at", None)
        end = start + pd.Timedelta("6h") if end is None or pd.isna(end) else pd.Timestamp(end)
        shapes.append(
            {
                "type": "rect",
                "xref": "x",
                "yref": "paper",
                "x0": axis_time(start),
                "x1": axis_time(end),
                "y0": 0,
                "y1": 1,
                "fillcolor": "rgba(214, 39, 40, 0.12)",
                "line": {"width": 0},
                "layer": "below",
            }
        )
    return shapes


def incident_labels(
    incidents: pd.DataFrame | None,
    topic: str,
    span: tuple[pd.Timestamp, pd.Timestamp] | None = None,
) -> list[dict[str, Any]]:
    """Annotations naming the topic's incidents (escaped: titles come from users). Labels of
    incidents that start close together (under 1/12 of the charted ``span``, default: the
    incidents' own span) are stacked on up to three rows so they stay readable."""
    if incidents is None or incidents.empty:
        return []
    inc = incidents[incidents["topic"] == topic].sort_values(["started_at", "incident_id"])
    if inc.empty:
        return []
    starts = [pd.Timestamp(t) for t in inc["started_at"]]
    first, last = span if span is not None else (min(starts), max(starts))
    crowd = max(pd.Timestamp(last) - pd.Timestamp(first), pd.Timedelta("1D")) / 12
    labels, previous, row = [], None, 0
    for rec, start in zip(inc.itertuples(index=False), starts, strict=True):
        row = (row + 1) % 3 if previous is not None and start - previous < crowd else 0
        previous = start
        labels.append(
            {
                "x": axis_time(start),
                "y": 1 + 0.06 * row,
                "yref": "paper",
                "text": plotly_safe(f"{rec.incident_id} (sev {rec.severity})"),
                "showarrow": False,
                "yanchor": "bottom",
                "xanchor": "left",
                "font": {"size": 9, "color": "#a00"},
            }
        )
    return labels


def _data_span(data: dict[str, dict[str, Any]]) -> tuple[pd.Timestamp, pd.Timestamp] | None:
    """First and last time of the volume trace (None when empty)."""
    x = pd.to_datetime(pd.Series(list(data.get("volume", {}).get("x", []))))
    return (x.min(), x.max()) if len(x) else None


def timeline_figure(
    features: pd.DataFrame,
    escalations: Escalations,
    incidents: pd.DataFrame | None = None,
    *,
    topic: str | None = None,
    policy: Any = None,
    threshold_tier: int | None = None,
    title: str | None = None,
    height: int = 380,
) -> go.Figure:
    """Volume and baseline of ``topic``, the threshold line, escalated windows coloured by tier
    and the incidents shaded."""
    if topic is None:
        topic = str(features["topic"].iloc[0])
    feats = topic_slice(features, topic)
    win = escalations.windows
    tiers = (
        feats[["window_start"]]
        .merge(win.loc[win["topic"] == topic, ["window_start", "tier"]], how="left")["tier"]
        .fillna(0)
        .to_numpy(dtype=int)
    )
    levels = (
        sorted(int(t.level) for t in policy.tiers)
        if policy is not None
        else sorted({int(t) for t in win["tier"].unique() if t > 0}) or [1]
    )
    data = timeline_data(feats, tiers, policy=policy, threshold_tier=threshold_tier, levels=levels)
    return figure_from_timeline_data(
        data,
        incidents=incidents,
        topic=topic,
        title=title,
        height=height,
        threshold_tier=(threshold_tier if threshold_tier is not None else min(levels)),
    )


def figure_from_timeline_data(
    data: dict[str, dict[str, Any]],
    *,
    incidents: pd.DataFrame | None,
    topic: str,
    title: str | None = None,
    height: int = 380,
    threshold_tier: int = 1,
) -> go.Figure:
    """Build the timeline Figure from :func:`timeline_data` output (same trace order)."""
    fig = go.Figure()
    fig.add_trace(
        go.Scatter(
            name="volume", mode="lines", line={"color": "#555", "width": 1}, **data["volume"]
        )
    )
    fig.add_trace(
        go.Scatter(
            name="baseline",
            mode="lines",
            line={"color": "#1f77b4", "width": 1, "dash": "dot"},
            **data["baseline"],
        )
    )
    fig.add_trace(
        go.Scatter(
            name=f"tier {threshold_tier} threshold",
            mode="lines",
            line={"color": tier_color(threshold_tier), "width": 1, "dash": "dash"},
            **data["threshold"],
        )
    )
    for name, xy in data.items():
        if name.startswith("tier"):
            k = int(name[4:])
            fig.add_trace(
                go.Scatter(
                    name=f"tier {k} escalated",
                    mode="markers",
                    marker={"color": tier_color(k), "size": 5},
                    **xy,
                )
            )
    fig.update_layout(
        title=title or plotly_safe(f"{topic}: volume, baseline and escalations"),
        height=height,
        margin={"l": 50, "r": 20, "t": 70, "b": 40},
        shapes=incident_shapes(incidents, topic),
        annotations=incident_labels(incidents, topic, span=_data_span(data)),
        legend={"orientation": "h", "y": -0.15},
        xaxis={"type": "date"},
        yaxis_title="mentions per window",
        hovermode="x",
        template="plotly_white",
    )
    return fig
