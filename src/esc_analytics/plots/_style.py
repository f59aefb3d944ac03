"""The figures' shared look: one colour per tier and one layout template, so every chart of
the library (timelines, trade-offs, decision trees) speaks the same visual language."""

from __future__ import annotations

from typing import Any

import plotly.graph_objects as go

# Tier 0 = no escalation (grey), then amber, orange, red; higher tiers (rare) get darker reds.
TIER_COLORS: dict[int, str] = {0: "#9e9e9e", 1: "#f2b701", 2: "#f57c00", 3: "#d32f2f"}
_EXTRA_TIER_COLORS = ("#a4161a", "#6a040f", "#370617")
TEMPLATE = "plotly_white"
FONT: dict[str, Any] = {"family": "Inter, 'Segoe UI', Helvetica, Arial, sans-serif", "size": 13}
TEXT_COLOR = "#263238"


def tier_color(tier: int) -> str:
    """Hex colour of a tier (0 = none); tiers above 3 get progressively darker reds."""
    tier = int(tier)
    if tier in TIER_COLORS:
        return TIER_COLORS[tier]
    if tier < 0:
        return TIER_COLORS[0]
    return _EXTRA_TIER_COLORS[min(tier - 4, len(_EXTRA_TIER_COLORS) - 1)]


def tier_fill(tier: int, alpha: float = 0.15) -> str:
    """A translucent ``rgba(...)`` tint of the tier colour (backgrounds, shaded episodes)."""
    hex_color = tier_color(tier).lstrip("#")
    red, green, blue = (int(hex_color[i : i + 2], 16) for i in (0, 2, 4))
    return f"rgba({red}, {green}, {blue}, {alpha})"


def apply_style(fig: go.Figure, *, title: str | None = None, **layout: Any) -> go.Figure:
    """Apply the library template, font and margins (plus any layout overrides); returns fig."""
    fig.update_layout(
        template=TEMPLATE,
        font={**FONT, "color": TEXT_COLOR},
        margin={"l": 40, "r": 30, "t": 70 if title else 30, "b": 40},
        hoverlabel={"font": {"family": FONT["family"], "size": 12}},
    )
    if title:
        fig.update_layout(title={"text": title, "x": 0.01, "xanchor": "left"})
    if layout:
        fig.update_layout(**layout)
    return fig
