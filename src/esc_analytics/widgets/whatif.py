"""Policy what-if widget: policy A vs B, per incident and per tier, side-by-side timelines."""

from __future__ import annotations

from typing import Any

import ipywidgets as W
import pandas as pd
import plotly.graph_objects as go

from .._util.html import escape_text
from ..backtesting._matching import DEFAULT_MAX_EARLY
from ..backtesting._whatif import PolicyComparison, compare_policies
from ._common import DisplayMixin, html_table


class PolicyWhatIf(DisplayMixin):
    """Compare ``policy_a`` with ``policy_b`` on the same features and incidents."""

    def __init__(
        self,
        features: pd.DataFrame,
        incidents: pd.DataFrame,
        policy_a: Any,
        policy_b: Any,
        *,
        max_early: str | pd.Timedelta = DEFAULT_MAX_EARLY,
    ) -> None:
        self.comparison: PolicyComparison = compare_policies(
            features, incidents, policy_a, policy_b, max_early=max_early
        )
        topics = sorted(features["topic"].astype(str).unique().tolist())
        changed = self.comparison.incidents.loc[
            self.comparison.incidents["change"].isin(["newly caught", "newly missed"]), "topic"
        ]
        start = str(changed.iloc[0]) if len(changed) else topics[0]
        self.topic_picker = W.Dropdown(options=topics, value=start, description="topic")
        self.topic_picker.observe(self._on_topic, names="value")
        self.summary = W.HTML(f"<pre>{escape_text(self.comparison.summary())}</pre>")
        self.incident_table = W.HTML(
            html_table(
                self.comparison.incidents,
                [
                    "incident_id",
                    "topic",
                    "severity",
                    "change",
                    "tier_a",
                    "tier_b",
                    "lead_time_a_h",
                    "lead_time_b_h",
                    "lead_time_change_h",
                ],
                formats={
                    c: ".1f" for c in ("lead_time_a_h", "lead_time_b_h", "lead_time_change_h")
                },
            )
        )
        self.tier_table = W.HTML(
            html_table(
                self.comparison.tiers,
                formats={c: ".2f" for c in self.comparison.tiers.columns if c != "tier"},
            )
        )
        self.figure = go.FigureWidget(self.comparison.plot(topic=start))
        self.figure.add_class("esc-whatif")
        self.widget = W.VBox(
            [
                self.summary,
                self.topic_picker,
                self.figure,
                W.HBox([self.incident_table, self.tier_table]),
            ]
        )

    def _on_topic(self, change: dict[str, Any]) -> None:
        fresh = self.comparison.plot(topic=change["new"])
        with self.figure.batch_update():
            for trace, new in zip(self.figure.data, fresh.data, strict=True):
                trace.x, trace.y = new.x, new.y
            self.figure.layout.shapes = fresh.layout.shapes
            self.figure.layout.title = fresh.layout.title
