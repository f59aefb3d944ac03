"""Plotly figures built from the library's result objects (no widgets here).

Every function returns a plain ``plotly.graph_objects.Figure``; the shared tier colours and
template live in :mod:`esc_analytics.plots._style`.
"""

from __future__ import annotations

from ._backtest import plot_backtest, plot_lead_times, plot_matrix, plot_tier_tradeoff
from ._compare import comparison_metrics_figure, importance_figure
from ._explain import explanation_figure
from ._export import export_figures
from ._frontier import calibration_figure, walk_forward_figure
from ._policy_tree import plot_policy_tree
from ._retro import alert_load_figure, milestone_figure, period_figure
from ._style import TIER_COLORS, apply_style, tier_color, tier_fill
from ._timeline import timeline_figure
from ._topics import topic_windows_figure
from ._tradeoff import current_point, tradeoff_figure
from ._whatif import comparison_figure

__all__ = [
    "TIER_COLORS",
    "alert_load_figure",
    "apply_style",
    "calibration_figure",
    "comparison_figure",
    "comparison_metrics_figure",
    "current_point",
    "explanation_figure",
    "export_figures",
    "importance_figure",
    "milestone_figure",
    "period_figure",
    "plot_backtest",
    "plot_lead_times",
    "plot_matrix",
    "plot_policy_tree",
    "plot_tier_tradeoff",
    "tier_color",
    "tier_fill",
    "timeline_figure",
    "topic_windows_figure",
    "tradeoff_figure",
    "walk_forward_figure",
]
