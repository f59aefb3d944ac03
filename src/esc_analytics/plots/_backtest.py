"""Figures of a BacktestResult: per-incident lead time, per-tier recall vs false alarms, and the
severity × tier-reached matrix. Built from the result's frames only (no computation here)."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

import numpy as np
import pandas as pd
import plotly.graph_objects as go
from plotly.subplots import make_subplots

from .._util.format import format_duration, format_time
from .._util.html import plotly_safe_many
from ._style import TIER_COLORS, apply_style, tier_color

if TYPE_CHECKING:
    from ..backtesting._backtest import BacktestResult

OUTCOME_COLORS: dict[str, str] = {
    "exact": "#2e7d32",
    "over": "#7cb342",
    "under": TIER_COLORS[2],
    "missed": TIER_COLORS[3],
    "not_evaluated": TIER_COLORS[0],
}
OUTCOME_LABELS: dict[str, str] = {
    "exact": "caught at its severity",
    "over": "caught, over-escalated",
    "under": "caught, under-escalated",
    "missed": "missed",
    "not_evaluated": "not evaluated",
}
KINDS = ("lead_time", "tiers", "matrix")


def plot_backtest(result: BacktestResult, kind: str = "lead_time", **kwargs: Any) -> go.Figure:
    """Dispatch to one figure: ``lead_time``, ``tiers`` or ``matrix``."""
    builders = {"lead_time": plot_lead_times, "tiers": plot_tier_tradeoff, "matrix": plot_matrix}
    if kind not in builders:
        raise ValueError(f"unknown backtest plot kind {kind!r}; use one of {', '.join(KINDS)}")
    return builders[kind](result, **kwargs)


def _hours(values: pd.Series) -> np.ndarray:
    return pd.to_timedelta(values).dt.total_seconds().to_numpy() / 3600.0


def plot_lead_times(result: BacktestResult, *, title: str | None = None) -> go.Figure:
    """One bar per incident: hours the first alert came before the team noticed (positive =
    earlier than history), coloured by outcome; incidents without a known team time show the
    detection delay from ``started_at`` instead (hatched, negated); missed incidents are
    crosses on the zero line."""
    inc = result.incidents
    fig = go.Figure()
    lead = _hours(inc["lead_time"])
    delay = _hours(inc["detection_delay"])
    uses_lead = ~np.isnan(lead)
    value = np.where(uses_lead, lead, -np.nan_to_num(delay, nan=0.0))
    # ids and topics come from users' files: plotly renders markup in tick labels and hovers
    labels = np.asarray(
        plotly_safe_many(inc["incident_id"].astype(str) + " · " + inc["topic"].astype(str)),
        dtype=object,
    )
    for outcome, color in OUTCOME_COLORS.items():
        mask = (inc["outcome"] == outcome).to_numpy()
        if not mask.any():
            continue
        if outcome in ("missed", "not_evaluated"):  # no alert: a marker on the zero line
            fig.add_scatter(
                x=labels[mask],
                y=np.zeros(int(mask.sum())),
                mode="markers",
                marker={"color": color, "symbol": "x", "size": 12},
                name=OUTCOME_LABELS[outcome],
                customdata=inc.loc[mask, "severity"].to_numpy(),
                hovertemplate="%{x}<br>severity %{customdata}: "
                + OUTCOME_LABELS[outcome]
                + "<extra></extra>",
            )
            continue
        fig.add_bar(
            x=labels[mask],
            y=value[mask],
            name=OUTCOME_LABELS[outcome],
            marker={
                "color": color,
                "pattern": {"shape": np.where(uses_lead[mask], "", "/").tolist()},
            },
            customdata=np.column_stack(
                [
                    inc.loc[mask, "severity"].to_numpy(),
                    inc.loc[mask, "tier_reached"].to_numpy(),
                    [format_time(t) for t in inc.loc[mask, "started_at"]],
                    np.where(uses_lead[mask], "lead time vs team", "detection delay"),
                    [  # "19 h 30 min", "-5 h": the reading of every table and summary
                        format_duration(pd.Timedelta(hours=float(h)))
                        for h in np.where(uses_lead, lead, delay)[mask]
                    ],
                ]
            ),
            hovertemplate=(
                "%{x}<br>severity %{customdata[0]}, tier reached %{customdata[1]}"
                "<br>started %{customdata[2]}<br>%{customdata[3]}: %{customdata[4]}"
                "<extra></extra>"
            ),
        )
    fig.add_hline(y=0, line={"color": "#607d8b", "width": 1})
    return apply_style(
        fig,
        title=title or "Per incident: hours the plan would have alerted before the team",
        yaxis_title="hours ahead of the team",
        xaxis_title=None,
        barmode="relative",
        legend={"orientation": "h", "y": -0.25},
    )


def plot_tier_tradeoff(result: BacktestResult, *, title: str | None = None) -> go.Figure:
    """Per tier: recall (bars, left axis) and false notifications per week (line, right)."""
    tiers = result.tiers
    fig = make_subplots(specs=[[{"secondary_y": True}]])
    names = [f"tier {int(t)}" for t in tiers["tier"]]
    fig.add_bar(
        x=names,
        y=tiers["recall"].to_numpy(dtype=float),
        marker={"color": [tier_color(t) for t in tiers["tier"]]},
        name="recall",
        customdata=tiers[["caught", "incidents"]].to_numpy(),
        hovertemplate="%{x}: recall %{y:.0%} (%{customdata[0]}/%{customdata[1]})<extra></extra>",
        secondary_y=False,
    )
    fig.add_scatter(
        x=names,
        y=tiers["false_per_week"].to_numpy(dtype=float),
        mode="lines+markers",
        name="false notifications / week",
        line={"color": "#37474f"},
        customdata=tiers["precision"].to_numpy(dtype=float),
        hovertemplate="%{x}: %{y:.2f} false/week, precision %{customdata:.0%}<extra></extra>",
        secondary_y=True,
    )
    fig.update_yaxes(title_text="recall", range=[0, 1.05], tickformat=".0%", secondary_y=False)
    fig.update_yaxes(
        title_text="false notifications per week", rangemode="tozero", secondary_y=True
    )
    return apply_style(
        fig,
        title=title or f"Recall vs alert fatigue per tier ({result.weeks:.1f} weeks)",
        legend={"orientation": "h", "y": -0.2},
    )


def plot_matrix(result: BacktestResult, *, title: str | None = None) -> go.Figure:
    """Heat map of evaluated incidents: severity (rows) × tier reached (columns)."""
    m = result.matrix
    fig = go.Figure(
        go.Heatmap(
            z=m.to_numpy(),
            x=[f"reached {c}" if c else "missed" for c in m.columns],
            y=[f"severity {r}" for r in m.index],
            text=m.to_numpy(),
            texttemplate="%{text}",
            colorscale=[[0, "#ffffff"], [1, TIER_COLORS[3]]],
            showscale=False,
            hovertemplate="%{y}, %{x}: %{z} incidents<extra></extra>",
        )
    )
    fig.update_yaxes(autorange="reversed")
    return apply_style(fig, title=title or "Tier reached vs incident severity")
