"""When a notification counts for an incident: the one matching rule of the whole package.

Backtests, retrospectives, calibration, the NAB objective and the what-if comparison all
take their interval from :class:`MatchRules`, so they can never disagree about an incident.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import numpy as np
import pandas as pd

from .._util.errors import PolicyError
from .._util.times import to_utc_ns

DEFAULT_MAX_EARLY = pd.Timedelta("24h")  # an alert up to a day before the incident counts
DEFAULT_OPEN_DURATION = pd.Timedelta("24h")  # how long an incident without ended_at lasts


def as_duration(value: Any, key: str) -> pd.Timedelta:
    """A non-negative duration (``'24h'``, a Timedelta), or a PolicyError naming ``key``."""
    try:
        td = pd.Timedelta(value)
    except (TypeError, ValueError) as exc:
        raise PolicyError(
            f"expected a duration such as '24h' or '30min', got {value!r}", key=key
        ) from exc
    if pd.isna(td) or td < pd.Timedelta(0):
        raise PolicyError(f"expected a non-negative duration, got {value!r}", key=key)
    return td


@dataclass(frozen=True)
class MatchRules:
    """An alert counts for an incident when it falls in ``[started_at − max_early, until]``.

    ``until`` is, in this order of precedence: ``started_at + max_delay`` when ``max_delay``
    is given (the caller asked for a fixed reaction window), else ``ended_at`` when the log
    has it, else ``started_at + open_duration``.
    """

    max_early: pd.Timedelta = DEFAULT_MAX_EARLY
    max_delay: pd.Timedelta | None = None
    open_duration: pd.Timedelta = DEFAULT_OPEN_DURATION

    @classmethod
    def of(
        cls,
        max_early: Any = DEFAULT_MAX_EARLY,
        max_delay: Any = None,
        open_duration: Any = DEFAULT_OPEN_DURATION,
    ) -> MatchRules:
        """Rules from user values (strings such as ``'24h'`` or Timedeltas), validated."""
        return cls(
            max_early=as_duration(max_early, "max_early"),
            max_delay=None if max_delay is None else as_duration(max_delay, "max_delay"),
            open_duration=as_duration(open_duration, "open_duration"),
        )

    def match_until(self, started_at: Any, ended_at: Any = None) -> Any:
        """The end of each incident's matching interval: a Series aligned with ``started_at``
        for Series, one Timestamp for one incident (``ended_at`` None or NaT = not known)."""
        if self.max_delay is not None:
            return started_at + self.max_delay
        return self.incident_end(started_at, ended_at)

    def incident_end(self, started_at: Any, ended_at: Any = None) -> Any:
        """When each incident ended: ``ended_at`` where known, else ``started_at +
        open_duration``. (``max_delay`` bounds the matching only, not the incident itself:
        NAB windows and retrospectives show an incident's own span.)"""
        default = started_at + self.open_duration
        if ended_at is None:
            return default
        if isinstance(ended_at, pd.Series):
            return ended_at.where(ended_at.notna(), default)
        return default if pd.isna(ended_at) else ended_at

    def match_from(self, started_at: Any) -> Any:
        """The start of each incident's matching interval (Series or one Timestamp)."""
        return started_at - self.max_early

    def early_limits(
        self, topic: pd.Series, started_at: pd.Series, match_until: pd.Series
    ) -> pd.Series:
        """``match_from`` of each incident of a frame, with the rule that an alert belongs to
        the incident already running: an early alert (before ``started_at``) counts for an
        incident only after every earlier incident of its topic has stopped matching — so one
        alert during incident A is never also "15 h early" for an incident B starting later.
        Aligned with ``started_at``."""
        limit = self.match_from(started_at)
        order = np.lexsort((started_at.to_numpy(), topic.astype(str).to_numpy()))
        topics = topic.astype(str).to_numpy()[order]
        until = to_utc_ns(match_until)[order]
        starts = to_utc_ns(started_at)[order]
        lower = to_utc_ns(limit)[order]
        out = lower.copy()
        running = np.iinfo(np.int64).min  # latest match_until of the topic's earlier incidents
        for i in range(len(order)):
            if i == 0 or topics[i] != topics[i - 1]:
                running = np.iinfo(np.int64).min
            if running > lower[i]:  # an earlier incident still matches then
                out[i] = min(running, starts[i])
            running = max(running, until[i])
        result = np.empty_like(out)
        result[order] = out
        return pd.Series(pd.to_datetime(result, utc=True), index=started_at.index).astype(
            started_at.dtype
        )

    def to_dict(self) -> dict[str, str | None]:
        """Plain values (durations as pandas strings) for JSON summaries."""
        return {
            "max_early": str(self.max_early),
            "max_delay": None if self.max_delay is None else str(self.max_delay),
            "open_duration": str(self.open_duration),
        }


def in_match_interval(window_start: Any, alerted_at: Any, match_from: Any, match_until: Any) -> Any:
    """Whether a notification counts for an incident: the window it was computed from overlaps
    the incident's match interval (``window_start <= match_until`` and ``alerted_at >
    match_from``). Elementwise on Series, arrays (broadcasting) and scalars."""
    return (alerted_at > match_from) & (window_start <= match_until)
