"""Fast repeated backtests for interactive tuning (same features and incidents, many policies).

``backtest`` prepares the incidents and builds several DataFrames on every call (~100 ms on a
year of hourly windows × 10 topics, mostly pandas overhead). When only the policy changes, what
depends on the incidents and the features alone is fixed: ``PreparedBacktest`` takes it from
one reference ``backtest`` run and recomputes the per-incident and per-tier figures with numpy
(a matching matrix incidents × notifications), with exactly the rules of ``backtest``
(the tests compare both on the sample data).
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import pandas as pd

from .._util.times import NAT_NS, to_utc_ns
from ..escalations._escalations import Escalations
from ._backtest import (
    OUTCOME_EXACT,
    OUTCOME_MISSED,
    OUTCOME_NOT_EVALUATED,
    OUTCOME_OVER,
    OUTCOME_UNDER,
    backtest,
)
from ._matching import DEFAULT_MAX_EARLY, in_match_interval


@dataclass(frozen=True)
class LiveBacktest:
    """The figures the tuner shows, as ``BacktestResult`` names them.

    ``incidents``: ``incident_id, topic, severity, evaluated, caught, tier_reached, outcome,
    first_alert_at, first_alert_at_severity, lead_time``; ``tiers``: ``tier, incidents, caught,
    recall, notifications, true_notifications, false_notifications, precision,
    false_per_week``; ``false_alerts``: the notifications that matched no incident.
    """

    incidents: pd.DataFrame
    tiers: pd.DataFrame
    false_alerts: pd.DataFrame
    weeks: float

    @property
    def evaluated(self) -> pd.DataFrame:
        """The incidents that could be evaluated."""
        return self.incidents[self.incidents["evaluated"]]

    @property
    def false_per_week(self) -> float:
        """False notifications per week, all tiers."""
        return float(len(self.false_alerts) / self.weeks) if self.weeks > 0 else float("nan")

    @property
    def recall(self) -> float:
        """Share of evaluated incidents caught at any tier."""
        ev = self.evaluated
        return float(ev["caught"].mean()) if len(ev) else float("nan")


class PreparedBacktest:
    """Backtest many escalations of the same features against the same incidents, fast.

    ``reference``: escalations of any policy on the features (they fix the evaluated
    incidents, the match intervals and the weeks, which depend on the features only).
    """

    def __init__(
        self,
        reference: Escalations,
        incidents: pd.DataFrame,
        *,
        max_early: str | pd.Timedelta = DEFAULT_MAX_EARLY,
        max_delay: str | pd.Timedelta | None = None,
    ) -> None:
        self.max_early, self.max_delay = max_early, max_delay
        ref = backtest(reference, incidents, max_early=max_early, max_delay=max_delay)
        self.reference = ref
        inc = ref.incidents
        self.base = inc[["incident_id", "topic", "severity", "evaluated"]].reset_index(drop=True)
        self.topics = sorted(set(reference.windows["topic"].astype(str)) | set(inc["topic"]))
        self._code = {t: i for i, t in enumerate(self.topics)}
        self.inc_topic = np.array([self._code[t] for t in inc["topic"].astype(str)], dtype=np.int64)
        self.match_from = to_utc_ns(inc["match_from"])
        self.match_until = to_utc_ns(inc["match_until"])
        self.severity = inc["severity"].to_numpy(dtype=np.int64)
        self.evaluated = inc["evaluated"].to_numpy(dtype=bool)
        self.reference_at = to_utc_ns(inc["detected_at"].fillna(inc["escalated_at"]))
        self.started = to_utc_ns(inc["started_at"])
        self.weeks = float(ref.weeks)
        self.max_severity = int(self.severity.max()) if len(self.severity) else 1

    def run(self, escalations: Escalations) -> LiveBacktest:
        """Per-incident outcomes and per-tier figures of ``escalations``."""
        notes = escalations.notifications
        codes = pd.Categorical(notes["topic"].astype(str), categories=self.topics).codes
        n_topic = codes.astype(np.int64)
        n_ws = to_utc_ns(notes["window_start"])
        n_at = to_utc_ns(notes["alerted_at"])
        n_tier = notes["tier"].to_numpy(dtype=np.int64)
        # Match matrix: same topic, window overlaps the match interval (as in backtest).
        match = (
            (self.inc_topic[:, None] == n_topic[None, :])
            & in_match_interval(
                n_ws[None, :], n_at[None, :], self.match_from[:, None], self.match_until[:, None]
            )
            & self.evaluated[:, None]
        )
        tiers_m = np.where(match, n_tier[None, :], 0)
        tier_reached = tiers_m.max(axis=1) if match.shape[1] else np.zeros(len(match), np.int64)
        big = np.iinfo(np.int64).max
        at_m = np.where(match, n_at[None, :], big)
        first = at_m.min(axis=1) if match.shape[1] else np.full(len(match), big)
        at_sev = np.where(match & (n_tier[None, :] >= self.severity[:, None]), n_at[None, :], big)
        first_sev = at_sev.min(axis=1) if match.shape[1] else np.full(len(match), big)
        first = np.where(first == big, NAT_NS, first)
        first_sev = np.where(first_sev == big, NAT_NS, first_sev)
        matched = match.any(axis=0)

        sev = self.severity
        outcome = np.select(
            [~self.evaluated, tier_reached == 0, tier_reached < sev, tier_reached == sev],
            [OUTCOME_NOT_EVALUATED, OUTCOME_MISSED, OUTCOME_UNDER, OUTCOME_EXACT],
            OUTCOME_OVER,
        )
        first_ts = pd.to_datetime(first, utc=True)  # int64 min -> NaT
        ref_ts = pd.to_datetime(self.reference_at, utc=True)
        incidents = self.base.assign(
            caught=tier_reached >= 1,
            tier_reached=tier_reached.astype(np.int64),
            outcome=pd.array(outcome, dtype="str"),
            first_alert_at=first_ts,
            first_alert_at_severity=pd.to_datetime(first_sev, utc=True),
            lead_time=ref_ts - first_ts,
        )
        n_tiers = max(1, self.max_severity, escalations.max_tier, int(n_tier.max(initial=0)))
        rows = []
        for k in range(1, n_tiers + 1):
            eligible = self.evaluated & (sev >= k)
            caught = int((eligible & (tier_reached >= k)).sum())
            at_k = n_tier == k
            n_notes, n_true = int(at_k.sum()), int((at_k & matched).sum())
            rows.append(
                {
                    "tier": k,
                    "incidents": int(eligible.sum()),
                    "caught": caught,
                    "recall": caught / eligible.sum() if eligible.any() else float("nan"),
                    "notifications": n_notes,
                    "true_notifications": n_true,
                    "false_notifications": n_notes - n_true,
                    "precision": n_true / n_notes if n_notes else float("nan"),
                    "false_per_week": (n_notes - n_true) / self.weeks
                    if self.weeks > 0
                    else float("nan"),
                }
            )
        return LiveBacktest(
            incidents=incidents,
            tiers=pd.DataFrame(rows),
            false_alerts=notes.loc[~matched].reset_index(drop=True),
            weeks=self.weeks,
        )
