"""Policy what-if widget: policy A vs B, per incident and per tier, side-by-side timelines.

The tables fit the notebook: short headers (the plans' names are said once, above them), cells
not wrapped, each table in a box that takes the row's width and scrolls inside when the
notebook is narrower than the table; tables wrap under each other rather than side by side
when there is no room. Two plans with the same name are told apart as ``name (A)`` and
``name (B)``.
"""

from __future__ import annotations

from typing import Any

import ipywidgets as W
import pandas as pd
import plotly.graph_objects as go

from .._util.format import format_duration
from .._util.html import escape_text
from ..backtesting._matching import DEFAULT_MAX_EARLY
from ..backtesting._whatif import PolicyComparison, compare_policies
from ._common import ChartFitter, DisplayMixin, html_table

_INCIDENT_COLUMNS = {
    "incident_id": "incident",
    "topic": "topic",
    "severity": "sev",
    "change": "change",
    "tier_a": "tier A",
    "tier_b": "tier B",
    "lead_a": "lead A",
    "lead_b": "lead B",
    "lead_change": "B earlier by",
}
_TIER_COLUMNS = {
    "tier": "tier",
    "alerts_per_week_a": "alerts/wk A",
    "alerts_per_week_b": "alerts/wk B",
    "alerts_per_week_change": "Δ alerts",
    "false_per_week_a": "false/wk A",
    "false_per_week_b": "false/wk B",
    "false_per_week_change": "Δ false",
}


def _hours(values: pd.Series) -> list[str]:
    return [format_duration(pd.Timedelta(hours=h)) if pd.notna(h) else "-" for h in values]


class PolicyWhatIf(DisplayMixin):
    """Compare ``policy_a`` with ``policy_b`` on the same features and incidents; ``names``
    (default: the plans' own names) label them everywhere, equal names get ``(A)``/``(B)``."""

    def __init__(
        self,
        features: pd.DataFrame,
        incidents: pd.DataFrame,
        policy_a: Any,
        policy_b: Any,
        *,
        names: tuple[str, str] | None = None,
        max_early: str | pd.Timedelta = DEFAULT_MAX_EARLY,
    ) -> None:
        self.comparison: PolicyComparison = compare_policies(
            features, incidents, policy_a, policy_b, names=names, max_early=max_early
        )
        comp = self.comparison
        topics = sorted(features["topic"].astype(str).unique().tolist())
        changed = comp.incidents.loc[
            comp.incidents["change"].isin(["newly caught", "newly missed"]), "topic"
        ]
        start = str(changed.iloc[0]) if len(changed) else topics[0]
        self.topic_picker = W.Dropdown(
            options=topics,
            value=start,
            description="topic",
            style={"description_width": "initial"},
            layout=W.Layout(width="auto", min_width="180px", max_width="100%"),
        )
        self.topic_picker.observe(self._on_topic, names="value")
        self.summary = W.HTML(
            '<pre style="white-space:pre-wrap;line-height:1.35;margin:0">'
            f"{escape_text(comp.summary())}</pre>",
            layout=W.Layout(min_width="0", margin="0"),
        )
        self.names = W.HTML(
            '<div style="line-height:1.35">'
            f"<b>A</b> = {escape_text(comp.name_a)} · <b>B</b> = {escape_text(comp.name_b)}"
            "</div>",
            layout=W.Layout(min_width="0", margin="0"),
        )
        self.names.add_class("esc-whatif-names")
        inc = comp.incidents.assign(
            lead_a=_hours(comp.incidents["lead_time_a_h"]),
            lead_b=_hours(comp.incidents["lead_time_b_h"]),
            lead_change=_hours(comp.incidents["lead_time_change_h"]),
        ).rename(columns=_INCIDENT_COLUMNS)
        # Each table as wide as its content (side by side only when both fit, else stacked),
        # never wider than the notebook (then it scrolls inside its box).
        table_box = {"flex": "0 1 auto", "min_width": "0", "max_width": "100%", "margin": "0",
                     "overflow": "auto"}  # fmt: skip
        self.incident_table = W.HTML(
            "<b>Per incident</b>" + html_table(inc, list(_INCIDENT_COLUMNS.values())),
            layout=W.Layout(**table_box),
        )
        self.incident_table.add_class("esc-whatif-incidents")
        tiers = comp.tiers.rename(columns=_TIER_COLUMNS)
        self.tier_table = W.HTML(
            "<b>Alert load per tier (per week)</b>"
            + html_table(
                tiers,
                list(_TIER_COLUMNS.values()),
                formats={c: ".2f" for c in _TIER_COLUMNS.values() if c != "tier"},
            ),
            layout=W.Layout(**table_box),
        )
        self.tier_table.add_class("esc-whatif-tiers")
        self.figure = go.FigureWidget(comp.plot(topic=start))
        self.figure.add_class("esc-whatif")
        self.figure._config = {**(self.figure._config or {}), "responsive": True}
        figure_box = W.VBox([self.figure], layout=W.Layout(width="100%", min_width="0"))
        figure_box.add_class("esc-whatif")
        self.widget = W.VBox(
            [
                self.names,
                self.summary,
                self.topic_picker,
                figure_box,
                W.HBox(
                    [self.incident_table, self.tier_table],
                    layout=W.Layout(flex_flow="row wrap", width="100%", grid_gap="8px 16px"),
                ),
                ChartFitter(target="esc-whatif-box"),
            ],
            layout=W.Layout(width="100%", min_width="0"),
        )
        self.widget.add_class("esc-whatif-box")

    def _on_topic(self, change: dict[str, Any]) -> None:
        fresh = self.comparison.plot(topic=change["new"])
        with self.figure.batch_update():
            for trace, new in zip(self.figure.data, fresh.data, strict=True):
                trace.x, trace.y = new.x, new.y
            self.figure.layout.shapes = fresh.layout.shapes
            self.figure.layout.title = fresh.layout.title
