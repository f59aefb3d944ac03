"""Topic picker: any topic's volume, baseline and negative share, chosen by typing its name.

The explore notebook charts the top topics; with hundreds or thousands of topics the others are
one search away: a combobox (type to filter) instead of a drop-down of 10,000 entries.
"""

from __future__ import annotations

from typing import Any

import ipywidgets as W
import pandas as pd
import plotly.graph_objects as go

from .._util.html import escape_text
from ..features import top_topics
from ..plots import topic_windows_figure
from ._common import DisplayMixin


class TopicPicker(DisplayMixin):
    """Pick a topic of ``features`` (by typing its name) and see its windows with ``incidents``
    shaded; starts on the top topic not in ``exclude`` (those already charted)."""

    def __init__(
        self,
        features: pd.DataFrame,
        incidents: pd.DataFrame | None = None,
        *,
        freq: str | pd.Timedelta = "1h",
        exclude: list[str] | None = None,
    ) -> None:
        if features.empty:
            raise ValueError("features are empty: there is no topic to pick")
        self.features = features
        self.incidents = incidents
        self.freq = freq
        names = features["topic"].astype(str).unique().tolist()
        ranked = top_topics(features, incidents, n=len(names))
        skip = set(exclude or [])
        start = next((t for t in ranked if t not in skip), ranked[0])
        self.picker = W.Combobox(
            options=sorted(names),
            value=start,
            ensure_option=True,
            placeholder="type a topic name",
            description="topic",
            layout=W.Layout(width="min(420px, 100%)"),
        )
        self.note = W.HTML(self._note(start))
        self.figure = go.FigureWidget(self._figure(start))
        self.picker.observe(self._on_pick, names="value")
        self.widget = W.VBox(
            [W.HBox([self.picker, self.note]), self.figure],
            layout=W.Layout(width="100%"),
        )

    def _figure(self, topic: str) -> go.Figure:
        return topic_windows_figure(
            self.features, self.incidents, topics=[topic], freq=self.freq
        )

    def _note(self, topic: str) -> str:
        count = 0
        if self.incidents is not None and len(self.incidents):
            count = int((self.incidents["topic"].astype(str) == topic).sum())
        return f"<span style='color:#546e7a'>{escape_text(topic)}: {count} incident(s)</span>"

    def show(self, topic: str) -> None:
        """Chart ``topic`` (as if typed in the picker)."""
        if topic not in self.picker.options:
            raise ValueError(f"unknown topic {topic!r}: not in the features")
        self.picker.value = topic

    def _on_pick(self, change: dict[str, Any]) -> None:
        topic = change["new"]
        if topic not in self.picker.options:  # partial text while typing
            return
        fresh = self._figure(topic)
        with self.figure.batch_update():
            self.figure.layout = fresh.layout
            for trace, new in zip(self.figure.data, fresh.data, strict=True):
                trace.x, trace.y = new.x, new.y
        self.note.value = self._note(topic)
