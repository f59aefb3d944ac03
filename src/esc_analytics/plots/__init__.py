"""Plotly figures built from the library's result objects (no widgets here).

Every function returns a plain ``plotly.graph_objects.Figure``; the shared tier colours and
template live in :mod:`esc_analytics.plots._style`.
"""

from __future__ import annotations

from ._policy_tree import plot_policy_tree
from ._style import TIER_COLORS, apply_style, tier_color, tier_fill

__all__ = ["TIER_COLORS", "apply_style", "plot_policy_tree", "tier_color", "tier_fill"]
