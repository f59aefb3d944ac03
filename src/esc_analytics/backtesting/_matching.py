"""When a notification counts for an incident: the one matching rule of the whole package.

Backtests, retrospectives, calibration, the NAB objective and the what-if comparison all
take their interval from :class:`MatchRules`, so they can never disagree about an incident.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import pandas as pd

from .._util.errors import PolicyError

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

    def match_until(self, started_at: pd.Series, ended_at: pd.Series | None) -> pd.Series:
        """The end of each incident's matching interval (tz-aware, aligned with started_at)."""
        if self.max_delay is not None:
            return started_at + self.max_delay
        default = started_at + self.open_duration
        if ended_at is None:
            return default
        return ended_at.where(ended_at.notna(), default)

    def match_from(self, started_at: pd.Series) -> pd.Series:
        """The start of each incident's matching interval."""
        return started_at - self.max_early

    def to_dict(self) -> dict[str, str | None]:
        """Plain values (durations as pandas strings) for JSON summaries."""
        return {
            "max_early": str(self.max_early),
            "max_delay": None if self.max_delay is None else str(self.max_delay),
            "open_duration": str(self.open_duration),
        }
