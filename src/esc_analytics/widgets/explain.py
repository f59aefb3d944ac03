"""Spike explanation widget: pick an escalation episode, see what rose against the baseline."""

from __future__ import annotations

from typing import Any

import ipywidgets as W
import pandas as pd
import plotly.graph_objects as go

from .._util.html import mentions_table_html
from ..retro._explain import episode_mentions, explain_episode
from ._common import DisplayMixin, html_table


class SpikeExplainer(DisplayMixin):
    """Episodes of ``escalations`` (highest tier first) → terms, authors, platforms that rose
    most, and sample mentions (escaped) containing the top term."""

    def __init__(
        self,
        mentions: pd.DataFrame,
        escalations: Any,
        *,
        baseline_days: float = 7,
        max_episodes: int = 50,
    ) -> None:
        self.mentions = mentions
        self.baseline_days = baseline_days
        eps = escalations.episodes.sort_values(["tier", "started_at"], ascending=[False, True])
        self.episodes = eps.head(max_episodes).reset_index(drop=True)
        options = [
            (f"{r.topic} · tier {r.tier} · {pd.Timestamp(r.started_at):%Y-%m-%d %H:%M}", i)
            for i, r in enumerate(self.episodes.itertuples(index=False))
        ]
        self.picker = W.Dropdown(
            options=options, description="episode", layout=W.Layout(width="460px")
        )
        self.picker.observe(lambda _c: self._show(), names="value")
        self.tables = W.HTML()
        self.samples = W.HTML()
        self.figure = go.FigureWidget()
        self.widget = W.VBox([self.picker, self.figure, self.tables, self.samples])
        self.explanation = None
        if options:
            self._show()

    def explain(self, index: int) -> Any:
        """The ``SpikeExplanation`` of episode ``index`` (pure)."""
        ep = self.episodes.iloc[index]
        return explain_episode(
            self.mentions, ep["topic"], ep["started_at"], ep["ended_at"], self.baseline_days
        )

    def _show(self) -> None:
        self.explanation = ex = self.explain(self.picker.value)
        fresh = ex.plot()
        with self.figure.batch_update():
            self.figure.data = ()
            self.figure.layout = fresh.layout
            self.figure.add_traces(list(fresh.data))
        self.tables.value = "".join(
            f"<b>{kind}</b>"
            + html_table(
                frame.head(10),
                formats={"log_ratio": ".2f", "episode_share": ".3f", "baseline_share": ".3f"},
            )
            for kind, frame in (
                ("terms", ex.terms),
                ("authors", ex.authors),
                ("platforms", ex.platforms),
            )
        )
        top_term = ex.terms["item"].iloc[0] if len(ex.terms) else None
        sel = episode_mentions(self.mentions, ex.topic, ex.start, ex.end, containing=top_term)
        cols = [c for c in ("created_at", "author", "platform", "text") if c in sel]
        self.samples.value = str(
            mentions_table_html(sel, cols, max_rows=8, caption="sample mentions")
        )
