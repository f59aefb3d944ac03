"""The Escalations result: what a policy (or a model's scores) says per topic and window.

A container only; :func:`esc_analytics.escalations_from_tiers` builds it from raw
per-window tiers by applying persistence and cooldown, so rule policies and classifiers share
exactly the same episode and notification semantics.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import pandas as pd

from .._util.html import plotly_safe
from .._util.schema import EPISODE_COLUMNS, ESCALATION_WINDOW_COLUMNS, NOTIFICATION_COLUMNS


@dataclass(frozen=True)
class Escalations:
    """Tier per (topic, window), the episodes they form and the notifications sent.

    Attributes
    ----------
    windows : one row per input window, in input order:
        ``topic, window_start, tier, escalation`` (tier 0 = none; escalation 1 = notify).
    episodes : ``episode_id, topic, tier, started_at, ended_at`` (ended_at exclusive: the end of
        the last escalated window).
    notifications : ``topic, window_start, alerted_at, tier, episode_id``: the windows where an
        episode starts or rises a tier; ``alerted_at`` is when that window closes (the earliest
        moment its features are known).
    freq : window length.
    muted : the notifications a plan evaluated with ``planned_events="mute"`` did not send
        because their window lies in a planned event of their topic (same columns as
        ``notifications``; empty otherwise). With ``planned_events="mark"`` they are sent and
        ``notifications`` has an extra boolean column ``planned_event``; a backtest never
        counts them as false escalations.
    """

    windows: pd.DataFrame
    episodes: pd.DataFrame
    notifications: pd.DataFrame
    freq: pd.Timedelta
    muted: pd.DataFrame | None = None

    def __post_init__(self) -> None:
        for name, frame, cols in (
            ("windows", self.windows, ESCALATION_WINDOW_COLUMNS),
            ("episodes", self.episodes, EPISODE_COLUMNS),
            ("notifications", self.notifications, NOTIFICATION_COLUMNS),
        ):
            missing = [c for c in cols if c not in frame.columns]
            if missing:
                raise ValueError(f"Escalations.{name} lacks columns {missing}")
        object.__setattr__(self, "freq", pd.Timedelta(self.freq))

    @property
    def max_tier(self) -> int:
        """Highest tier reached anywhere (0 when nothing escalated)."""
        return int(self.windows["tier"].max()) if len(self.windows) else 0

    def summary(self) -> str:
        """One line per tier: windows escalated, episodes, notifications."""
        lines = [f"{len(self.windows)} windows, {len(self.episodes)} episodes"]
        for tier in sorted(set(self.notifications["tier"].tolist())):
            n = int((self.notifications["tier"] == tier).sum())
            lines.append(f"  tier {tier}: {n} notifications")
        return "\n".join(lines)

    def to_frame(self) -> pd.DataFrame:
        """The per-window table (``topic, window_start, tier, escalation``; a copy)."""
        return self.windows.copy()

    def plot(
        self,
        topic: str | None = None,
        features: pd.DataFrame | None = None,
        incidents: pd.DataFrame | None = None,
        **kwargs: Any,
    ) -> Any:
        """Timeline of one topic (default: the first) with escalated windows coloured by tier
        and ``incidents`` shaded; volume and baseline come from ``features`` — without them the
        tier itself is drawn. Extra keywords go to ``plots.timeline_figure`` (policy=, ...)."""
        from ..plots._timeline import timeline_figure

        if features is None:
            features = self.windows.loc[:, ["topic", "window_start"]].assign(
                volume=self.windows["tier"].to_numpy(dtype=float)
            )
            if topic is None and len(features):
                topic = str(features["topic"].iloc[0])
            kwargs.setdefault("title", plotly_safe(f"{topic}: tier per window"))
            fig = timeline_figure(features, self, incidents, topic=topic, **kwargs)
            fig.update_layout(yaxis_title="tier")
            return fig
        return timeline_figure(features, self, incidents, topic=topic, **kwargs)
