"""Backtest: replay an escalation plan's notifications against the incident log.

Semantics (see ``BacktestResult`` and DESIGN.md "Backtesting semantics"):

* **Match interval** of an incident (:class:`~._matching.MatchRules`, the package's one rule):
  from ``started_at − max_early`` to ``until`` where ``until = started_at + max_delay`` when
  ``max_delay`` is given, else ``ended_at``, else ``started_at + 24h``
  (``DEFAULT_OPEN_DURATION``) for an incident without an end.
* A notification **matches** an incident of the same topic when the window it was computed
  from overlaps the match interval: ``window_start ≤ until`` and ``alerted_at > started_at −
  max_early``. Matching uses the window's data span (fair both ways: the window that contains
  the incident's start counts even though it opened before it, and the window containing its
  last minutes counts even though it closes after it); **times** (delay, lead time) use
  ``alerted_at``, the moment a person could have acted.
* An incident is **caught at tier k** when a matching notification has tier ≥ k;
  ``tier_reached`` is the highest matching tier (0 = missed). One notification may catch
  several overlapping incidents of a topic; each is credited.
* A **false notification** is one that matches no incident of its topic (of any severity); per
  tier k the tier-k notifications are counted (``notifications``, ``false_notifications``,
  ``precision`` = true / all) and false ones per week (alert fatigue). ``false_episodes``
  counts the episodes (by their highest tier) none of whose notifications matched an incident —
  DESIGN's "episode that overlaps no incident", restricted to notifications so that an
  episode which started long before an incident and merely continues through it is false too.
* **Recall at tier k** = share of evaluated incidents of severity ≥ k caught at tier ≥ k.
* Incidents of a topic absent from the escalations, or lying outside the escalations' time span,
  are reported with ``evaluated = False`` and ``outcome = "not_evaluated"`` — never as misses.
* ``weeks`` = length of ``period`` if given, else of the escalations' span (first window start to
  last window end, over all topics) / 7 days; ``period=(start, end)`` keeps incidents starting
  and notifications in windows starting in ``[start, end)``; a kept notification that matches
  an incident starting outside the period (one still going on at its start) is not false.
"""

from __future__ import annotations

import math
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any

import numpy as np
import pandas as pd

from .._util.errors import DataLoadError, PolicyError
from .._util.format import format_duration, format_number, format_share
from .._util.schema import INCIDENT_REQUIRED, NOTIFICATION_COLUMNS, SEVERITY_LABELS
from .._util.stats import wilson_interval
from .._util.times import UTC_DTYPE, to_utc, to_utc_ns, utc_timestamp
from ..escalations._escalations import Escalations
from ._matching import DEFAULT_MAX_EARLY, MatchRules
from ._nab import NabScore, get_profile, nab_from_escalations

OUTCOME_NOT_EVALUATED = "not_evaluated"
OUTCOME_MISSED = "missed"
OUTCOME_UNDER = "under"  # caught below its severity
OUTCOME_EXACT = "exact"  # caught at exactly its severity
OUTCOME_OVER = "over"  # caught above its severity
OUTCOMES = (OUTCOME_EXACT, OUTCOME_OVER, OUTCOME_UNDER, OUTCOME_MISSED, OUTCOME_NOT_EVALUATED)

INCIDENT_RESULT_COLUMNS = (
    "incident_id",
    "topic",
    "severity",
    "started_at",
    "ended_at",
    "detected_at",
    "escalated_at",
    "match_from",
    "match_until",
    "evaluated",
    "not_evaluated_reason",
    "caught",
    "tier_reached",
    "caught_at_severity",
    "outcome",
    "notifications",
    "first_alert_at",
    "first_alert_tier",
    "first_alert_at_severity",
    "detection_delay",
    "detection_delay_at_severity",
    "lead_time",
    "escalation_lead_time",
    "cost",
)
TIER_RESULT_COLUMNS = (
    "tier",
    "incidents",
    "caught",
    "recall",
    "recall_low",
    "recall_high",
    "notifications",
    "true_notifications",
    "false_notifications",
    "precision",
    "false_per_week",
    "false_episodes",
    "median_detection_delay",
)


@dataclass(frozen=True)
class CostModel:
    """Costs of missing an incident of severity k and of a false notification at tier k.

    ``miss[k]``: cost of an incident of severity k that no notification caught; an incident
    caught only at a lower tier t costs ``miss[k] − miss[t]`` (under-escalation: part of the
    harm). ``false_alarm[k]``: cost of one false tier-k notification. ``late_per_hour``: cost per
    hour between ``started_at`` and the first notification at the incident's severity (caught
    incidents only, early alerts cost nothing). A tier missing from a mapping takes the value of
    the highest tier below it. Defaults: a severity-3 miss costs 25 units, a false tier-1 page
    0.05 — i.e. twenty false tier-1 pages weigh one minor incident missed.
    """

    miss: Mapping[int, float] = field(default_factory=lambda: {1: 1.0, 2: 5.0, 3: 25.0})
    false_alarm: Mapping[int, float] = field(default_factory=lambda: {1: 0.05, 2: 0.25, 3: 1.0})
    late_per_hour: float = 0.0

    def __post_init__(self) -> None:
        for name in ("miss", "false_alarm"):
            raw = getattr(self, name)
            if isinstance(raw, int | float):  # one cost for every tier
                raw = {1: float(raw)}
            try:
                clean = {int(k): float(v) for k, v in dict(raw).items()}
            except (TypeError, ValueError) as exc:
                raise PolicyError(
                    "expected a mapping tier -> cost, e.g. {1: 1.0, 2: 5.0}", key=f"costs.{name}"
                ) from exc
            if not clean or min(clean) < 1 or any(v < 0 or math.isnan(v) for v in clean.values()):
                raise PolicyError(
                    "costs need tiers >= 1 and non-negative values", key=f"costs.{name}"
                )
            object.__setattr__(self, name, dict(sorted(clean.items())))
        if not self.late_per_hour >= 0:
            raise PolicyError("must be a non-negative number", key="costs.late_per_hour")

    def _lookup(self, table: Mapping[int, float], tiers: np.ndarray) -> np.ndarray:
        keys = np.array(sorted(table), dtype=np.int64)
        values = np.array([table[k] for k in keys], dtype=float)
        pos = np.searchsorted(keys, np.asarray(tiers, dtype=np.int64), side="right") - 1
        return np.where(pos >= 0, values[np.clip(pos, 0, None)], 0.0)

    def miss_cost(self, tiers: np.ndarray | int) -> np.ndarray:
        """Cost of missing incidents of the given severities (0 for tier 0)."""
        return self._lookup(self.miss, np.atleast_1d(tiers))

    def false_alarm_cost(self, tiers: np.ndarray | int) -> np.ndarray:
        """Cost of one false notification at each given tier."""
        return self._lookup(self.false_alarm, np.atleast_1d(tiers))

    def to_dict(self) -> dict[str, Any]:
        """JSON-serialisable form."""
        return {
            "miss": {str(k): v for k, v in self.miss.items()},
            "false_alarm": {str(k): v for k, v in self.false_alarm.items()},
            "late_per_hour": self.late_per_hour,
        }


@dataclass(frozen=True)
class BacktestResult:
    """What an escalation plan would have done against the incident log.

    Attributes
    ----------
    incidents : one row per incident (``INCIDENT_RESULT_COLUMNS``); times UTC, delays Timedelta.
        ``outcome`` ∈ exact / over / under / missed / not_evaluated.
    tiers : one row per tier k ≥ 1 (``TIER_RESULT_COLUMNS``): recall at tier k (incidents of
        severity ≥ k caught at tier ≥ k), tier-k notifications, false ones, precision, false per
        week, false episodes, median detection delay of the first tier ≥ k alert.
    matrix : evaluated incidents counted by severity (rows) × tier reached (columns 0..N).
    cost : expected total cost under ``costs``; ``cost_breakdown`` splits it.
    weeks : length of the evaluated period in weeks.
    nab : NAB score (``NabScore.to_dict()``) when a ``nab_profile`` was asked, else None.
    false_alerts : the notifications that matched no incident.
    rules : the :class:`MatchRules` the incidents were matched with (``max_early`` and
        ``max_delay`` read from it), so that a retrospective can use the very same.
    """

    incidents: pd.DataFrame
    tiers: pd.DataFrame
    matrix: pd.DataFrame
    cost: float
    weeks: float
    nab: dict | None
    false_alerts: pd.DataFrame
    cost_breakdown: dict[str, float] = field(default_factory=dict)
    costs: CostModel = field(default_factory=CostModel)
    rules: MatchRules = field(default_factory=MatchRules)
    period: tuple[pd.Timestamp, pd.Timestamp] | None = None

    # ------------------------------------------------------------------ views
    @property
    def max_early(self) -> pd.Timedelta:
        """How long before ``started_at`` an alert still counts (``rules.max_early``)."""
        return self.rules.max_early

    @property
    def max_delay(self) -> pd.Timedelta | None:
        """The fixed reaction window when one was given, else None (``rules.max_delay``)."""
        return self.rules.max_delay

    @property
    def evaluated(self) -> pd.DataFrame:
        """The incidents that could be evaluated (topic and time covered by the escalations)."""
        return self.incidents[self.incidents["evaluated"]]

    @property
    def recall(self) -> float:
        """Share of evaluated incidents caught at any tier (NaN when none evaluated)."""
        ev = self.evaluated
        return float(ev["caught"].mean()) if len(ev) else float("nan")

    @property
    def false_per_week(self) -> float:
        """False notifications per week, all tiers."""
        return float(len(self.false_alerts) / self.weeks) if self.weeks > 0 else float("nan")

    @property
    def median_lead_time(self) -> pd.Timedelta:
        """Median lead time over caught incidents with a known detected/escalated time."""
        lt = self.evaluated["lead_time"].dropna()
        return pd.Timedelta(lt.median()) if len(lt) else pd.NaT

    def to_frame(self) -> pd.DataFrame:
        """Per-incident outcomes (a copy)."""
        return self.incidents.copy()

    def summary(self) -> str:
        """A readable block: incidents caught/missed, per-tier recall, false/week, precision."""
        inc = self.incidents
        ev = self.evaluated
        counts = ev["outcome"].value_counts()
        lines = [
            f"Backtest over {self.weeks:.1f} weeks: {len(ev)} incidents evaluated"
            + (f" ({len(inc) - len(ev)} not evaluated)" if len(inc) > len(ev) else ""),
            f"  caught {int(ev['caught'].sum())}, missed {int(counts.get(OUTCOME_MISSED, 0))}"
            f" | at severity {int(ev['caught_at_severity'].sum())}"
            f" (over-escalated {int(counts.get(OUTCOME_OVER, 0))}),"
            f" under-escalated {int(counts.get(OUTCOME_UNDER, 0))}",
            f"  median lead time vs the team: {format_duration(self.median_lead_time)}"
            f" | median detection delay: {format_duration(_median_td(ev['detection_delay']))}",
            f"  false notifications: {len(self.false_alerts)}"
            f" ({format_number(self.false_per_week)}/week)",
            "",
            "  tier  recall        (95% interval)  false/week  precision  notifications",
        ]
        for row in self.tiers.itertuples(index=False):
            recall = f"{int(row.caught)}/{int(row.incidents)}"
            recall += f" {row.recall:.0%}" if row.incidents else "   -"
            interval = (
                f"({row.recall_low:.0%}-{row.recall_high:.0%})" if row.incidents else ""
            )
            lines.append(
                f"  {int(row.tier):>4}  {recall:<12}  {interval:<14}"
                f"  {format_number(row.false_per_week):>10}"
                f"  {format_share(row.precision):>9}  {int(row.notifications):>13}"
            )
        if len(self.tiers) and int(self.tiers["incidents"].min()) < 10:
            lines.append(
                "  (few incidents: the 95% Wilson interval is where recall on new incidents "
                "could plausibly lie)"
            )
        lines.append("")
        lines.append(
            f"  expected cost: {self.cost:.2f}"
            + (
                " ("
                + ", ".join(f"{k} {v:.2f}" for k, v in self.cost_breakdown.items() if k != "total")
                + ")"
                if self.cost_breakdown
                else ""
            )
        )
        if self.nab:
            lines.append(f"  NAB {self.nab['profile']}: {self.nab['score']:.1f}")
        return "\n".join(lines)

    def to_dict(self) -> dict[str, Any]:
        """JSON-serialisable form (times ISO 8601 UTC, durations in hours, NaN → None)."""
        return {
            "weeks": _json_value(self.weeks),
            "period": None if self.period is None else [t.isoformat() for t in self.period],
            "max_early_hours": _json_value(self.max_early),
            "max_delay_hours": _json_value(self.max_delay),
            "recall": _json_value(self.recall),
            "false_per_week": _json_value(self.false_per_week),
            "median_lead_time_hours": _json_value(self.median_lead_time),
            "cost": _json_value(self.cost),
            "cost_breakdown": {k: _json_value(v) for k, v in self.cost_breakdown.items()},
            "costs": self.costs.to_dict(),
            "tiers": _records(self.tiers),
            "matrix": {
                f"severity_{int(sev)}": {str(c): int(v) for c, v in row.items()}
                for sev, row in self.matrix.iterrows()
            },
            "incidents": _records(self.incidents),
            "false_alerts": _records(self.false_alerts),
            "nab": self.nab,
        }

    def plot(self, kind: str = "lead_time", **kwargs: Any):
        """Plotly figure: ``lead_time`` (per-incident bars by outcome), ``tiers`` (recall vs
        false/week per tier) or ``matrix`` (severity × tier reached heat map)."""
        from ..plots._backtest import plot_backtest

        return plot_backtest(self, kind=kind, **kwargs)


# ---------------------------------------------------------------------------- the backtest
def backtest(
    escalations: Escalations,
    incidents: pd.DataFrame,
    *,
    max_early: str | pd.Timedelta = DEFAULT_MAX_EARLY,
    max_delay: str | pd.Timedelta | None = None,
    costs: CostModel | None = None,
    nab_profile: str | None = None,
    period: tuple[Any, Any] | None = None,
) -> BacktestResult:
    """Replay ``escalations`` against ``incidents``: per-incident outcomes, per-tier recall,
    precision and false notifications per week, the severity × tier matrix, expected cost and
    optionally the NAB score. See the module docstring for the exact rules."""
    if not isinstance(escalations, Escalations):
        raise DataLoadError(
            f"backtest needs an Escalations object (from evaluate), got {type(escalations)}"
        )
    rules = MatchRules.of(max_early, max_delay)
    costs = costs if costs is not None else CostModel()
    if not isinstance(costs, CostModel):
        raise PolicyError("costs must be a CostModel(miss=..., false_alarm=...)", key="costs")
    if nab_profile is not None:
        get_profile(nab_profile)  # validate early
    span = _period(period)

    inc = prepare_incidents(incidents, rules=rules)
    outside = inc.iloc[0:0]
    windows = escalations.windows
    notes = _prepare_notifications(escalations.notifications)
    win_start = to_utc(windows["window_start"]) if len(windows) else pd.Series([], dtype=UTC_DTYPE)
    freq = escalations.freq
    if span is not None:
        in_span = (inc["started_at"] >= span[0]) & (inc["started_at"] < span[1])
        inc, outside = inc[in_span], inc[~in_span]
        notes = notes[(notes["window_start"] >= span[0]) & (notes["window_start"] < span[1])]
        keep = ((win_start >= span[0]) & (win_start < span[1])).to_numpy()
        windows, win_start = windows[keep], win_start[keep]
        weeks = (span[1] - span[0]) / pd.Timedelta(days=7)
    elif len(win_start):
        weeks = (win_start.max() + freq - win_start.min()) / pd.Timedelta(days=7)
    else:
        weeks = 0.0
    inc = inc.reset_index(drop=True)
    notes = notes.reset_index(drop=True)

    # Coverage per topic: an incident is evaluated only where the escalations saw its topic.
    coverage = (
        pd.DataFrame(
            {
                "topic": windows["topic"].astype(str).to_numpy(),
                "ws": win_start.astype(UTC_DTYPE).reset_index(drop=True),
            }
        )
        .groupby("topic")["ws"]
        .agg(["min", "max"])
    )
    inc = mark_evaluated(inc, coverage, freq)

    inc_idx, note_idx = _match_pairs(inc, notes)
    result, pairs = _incident_outcomes(inc, notes, inc_idx, note_idx)
    matched = np.zeros(len(notes), dtype=bool)
    matched[note_idx] = True
    if len(outside):
        # A notification in the period that matches an incident outside it (one still going
        # on when the period starts) is not a false alarm, though that incident is not scored.
        other = outside.assign(evaluated=True)
        matched[_match_pairs(other.reset_index(drop=True), notes)[1]] = True
    false_alerts = notes[~matched].reset_index(drop=True)

    n_tiers = int(
        max(
            [1, escalations.max_tier]
            + ([int(notes["tier"].max())] if len(notes) else [])
            + ([int(inc["severity"].max())] if len(inc) else [])
        )
    )
    tiers = _tier_table(result, notes, pairs, matched, weeks, n_tiers)
    matrix = _matrix(result, n_tiers)
    result, breakdown = _apply_costs(result, false_alerts, costs, weeks)

    nab = None
    if nab_profile is not None:
        esc = escalations
        if span is not None:
            esc = Escalations(windows, escalations.episodes, notes, freq)
        ev = result[result["evaluated"]]
        nab_inc = pd.DataFrame(
            {"topic": ev["topic"], "started_at": ev["started_at"], "ended_at": ev["match_until"]}
        )
        nab = _nab_dict(nab_from_escalations(esc, nab_inc, profile=nab_profile))

    return BacktestResult(
        incidents=result,
        tiers=tiers,
        matrix=matrix,
        cost=breakdown["total"],
        weeks=float(weeks),
        nab=nab,
        false_alerts=false_alerts,
        cost_breakdown=breakdown,
        costs=costs,
        rules=rules,
        period=span,
    )


# ---------------------------------------------------------------------------- helpers
def _period(period: Any) -> tuple[pd.Timestamp, pd.Timestamp] | None:
    if period is None:
        return None
    try:
        start, end = (utc_timestamp(t) for t in period)
    except (TypeError, ValueError) as exc:
        raise PolicyError("expected (start, end) timestamps", key="period") from exc
    if start is None or end is None or not end > start:
        raise PolicyError(f"end {end} must be after start {start}", key="period")
    return start, end


def _severity(values: pd.Series) -> pd.Series:
    def one(v: Any) -> float:
        if isinstance(v, str):
            key = v.strip().lower()
            if key in SEVERITY_LABELS:
                return float(SEVERITY_LABELS[key])
            try:
                return float(key)
            except ValueError:
                return float("nan")
        try:
            return float(v)
        except (TypeError, ValueError):
            return float("nan")

    sev = values.map(one).astype(float)
    bad = sev.isna() | (sev < 1) | (sev != np.floor(sev))
    if bad.any():
        shown = values[bad].astype(str).unique()[:5].tolist()
        raise DataLoadError(
            f"severity must be a tier 1..N or a label ({', '.join(sorted(SEVERITY_LABELS))});"
            f" got {shown}",
            source="incidents",
            column="severity",
            lines=(np.flatnonzero(bad.to_numpy()) + 1).tolist(),
        )
    return sev.astype(np.int64)


def prepare_incidents(
    incidents: pd.DataFrame,
    delay: str | pd.Timedelta | None = None,
    *,
    rules: MatchRules | None = None,
) -> pd.DataFrame:
    """Validated incidents with UTC times, numeric severity and the matching interval
    ``match_from`` .. ``match_until`` of ``rules`` (default: the default rules with
    ``max_delay=delay``); shared with calibration so both match incidents by the same rule."""
    if rules is None:
        rules = MatchRules.of(max_delay=delay)
    if not isinstance(incidents, pd.DataFrame):
        raise DataLoadError("incidents must be a DataFrame (see load_incidents)")
    missing = [c for c in INCIDENT_REQUIRED if c not in incidents.columns]
    if missing:
        raise DataLoadError(
            f"incidents lack required columns {missing}; columns are {list(incidents.columns)}",
            source="incidents",
        )
    inc = pd.DataFrame(
        {
            "incident_id": incidents["incident_id"].astype(str).to_numpy(),
            "topic": incidents["topic"].astype(str).to_numpy(),
            "severity": _severity(incidents["severity"].reset_index(drop=True)).to_numpy(),
        }
    )
    for col in ("started_at", "ended_at", "detected_at", "escalated_at"):
        if col in incidents.columns:
            try:
                inc[col] = to_utc(incidents[col].reset_index(drop=True)).astype(UTC_DTYPE)
            except (TypeError, ValueError) as exc:
                raise DataLoadError(
                    f"cannot read times: {exc}", source="incidents", column=col
                ) from exc
        else:
            inc[col] = pd.Series(pd.NaT, index=inc.index, dtype=UTC_DTYPE)
    if inc["started_at"].isna().any():
        raise DataLoadError(
            "every incident needs started_at",
            source="incidents",
            column="started_at",
            lines=(np.flatnonzero(inc["started_at"].isna().to_numpy()) + 1).tolist(),
        )
    inc["match_until"] = rules.match_until(inc["started_at"], inc["ended_at"])
    inc["match_from"] = rules.early_limits(inc["topic"], inc["started_at"], inc["match_until"])
    return inc.sort_values(["started_at", "topic", "incident_id"], kind="stable")


def _prepare_notifications(notifications: pd.DataFrame) -> pd.DataFrame:
    notes = notifications.loc[:, list(NOTIFICATION_COLUMNS)].copy()
    notes["topic"] = notes["topic"].astype(str)
    notes["window_start"] = to_utc(notes["window_start"]).astype(UTC_DTYPE)
    notes["alerted_at"] = to_utc(notes["alerted_at"]).astype(UTC_DTYPE)
    notes["tier"] = notes["tier"].astype(np.int64)
    return notes.sort_values(["topic", "window_start", "tier"], kind="stable")


def mark_evaluated(inc: pd.DataFrame, coverage: pd.DataFrame, freq: pd.Timedelta) -> pd.DataFrame:
    """Add ``evaluated`` and ``not_evaluated_reason`` to prepared incidents: an incident is
    evaluated where ``coverage`` (per topic the first and last window start, columns ``min``
    and ``max``) saw its topic and its match interval overlaps that span. Shared with
    calibration, which must leave out the same incidents."""
    empty = pd.Series(pd.NaT, index=inc.index, dtype=UTC_DTYPE)
    first = inc["topic"].map(coverage["min"]).astype(UTC_DTYPE) if len(coverage) else empty
    last = inc["topic"].map(coverage["max"]).astype(UTC_DTYPE) if len(coverage) else empty
    known = first.notna().to_numpy()
    overlaps = (inc["match_until"] >= first) & (inc["started_at"] < last + freq)
    overlaps = overlaps.fillna(False).to_numpy(dtype=bool)
    inc["evaluated"] = known & overlaps
    reason = np.where(
        ~known,
        "topic not in escalations",
        np.where(~overlaps, "outside escalations' time span", ""),
    )
    inc["not_evaluated_reason"] = pd.array(reason, dtype="str")
    return inc


def _match_pairs(inc: pd.DataFrame, notes: pd.DataFrame) -> tuple[np.ndarray, np.ndarray]:
    """All (incident row, notification row) pairs where the notification's window overlaps the
    incident's match interval (:func:`~._matching.in_match_interval`); evaluated incidents
    only. Per topic, by binary search."""
    inc_parts, note_parts = [], []
    ev = inc[inc["evaluated"]]
    for topic, group in ev.groupby("topic", sort=True):
        mask = (notes["topic"] == topic).to_numpy()
        if not mask.any():
            continue
        rows = np.flatnonzero(mask)  # notes are sorted by topic then window_start
        ws = to_utc_ns(notes["window_start"])[rows]
        alerted = to_utc_ns(notes["alerted_at"])[rows]
        # alerted_at = window_start + freq is sorted with window_start.
        lo = np.searchsorted(alerted, to_utc_ns(group["match_from"]), side="right")
        hi = np.searchsorted(ws, to_utc_ns(group["match_until"]), side="right")
        n = np.maximum(hi - lo, 0)
        inc_parts.append(np.repeat(group.index.to_numpy(), n))
        offsets = np.arange(n.sum()) - np.repeat(np.cumsum(n) - n, n)
        note_parts.append(rows[np.repeat(lo, n) + offsets])
    if not inc_parts:
        return np.empty(0, np.int64), np.empty(0, np.int64)
    return np.concatenate(inc_parts), np.concatenate(note_parts)


def _incident_outcomes(
    inc: pd.DataFrame, notes: pd.DataFrame, inc_idx: np.ndarray, note_idx: np.ndarray
) -> tuple[pd.DataFrame, pd.DataFrame]:
    """Per-incident outcomes (rows in ``inc`` order) and the matched pairs (i, tier,
    alerted_at) they were computed from."""
    pairs = pd.DataFrame(
        {
            "i": inc_idx,
            "tier": notes["tier"].to_numpy()[note_idx],
            "alerted_at": notes["alerted_at"].iloc[note_idx].reset_index(drop=True),
        }
    )
    sev = inc["severity"].to_numpy()
    pairs["at_sev"] = pairs["tier"].to_numpy() >= sev[pairs["i"].to_numpy()]
    by = pairs.groupby("i")
    n = len(inc)
    tier_reached = by["tier"].max().reindex(range(n), fill_value=0).to_numpy()
    count = by.size().reindex(range(n), fill_value=0).to_numpy()
    first = pairs.sort_values(["i", "alerted_at", "tier"], ascending=[True, True, False])
    first = first.drop_duplicates("i").set_index("i")
    first_at = first["alerted_at"].reindex(range(n))
    first_tier = first["tier"].reindex(range(n)).fillna(0).astype(np.int64)
    first_sev_at = (
        pairs[pairs["at_sev"]].groupby("i")["alerted_at"].min().reindex(range(n)).astype(UTC_DTYPE)
    )

    out = inc.copy()
    out["caught"] = tier_reached >= 1
    out["tier_reached"] = tier_reached.astype(np.int64)
    out["caught_at_severity"] = tier_reached >= sev
    out["outcome"] = pd.array(
        np.select(
            [~out["evaluated"], tier_reached == 0, tier_reached < sev, tier_reached == sev],
            [OUTCOME_NOT_EVALUATED, OUTCOME_MISSED, OUTCOME_UNDER, OUTCOME_EXACT],
            OUTCOME_OVER,
        ),
        dtype="str",
    )
    out["notifications"] = count.astype(np.int64)
    out["first_alert_at"] = first_at.astype(UTC_DTYPE)
    out["first_alert_tier"] = first_tier
    out["first_alert_at_severity"] = first_sev_at
    out["detection_delay"] = out["first_alert_at"] - out["started_at"]
    out["detection_delay_at_severity"] = out["first_alert_at_severity"] - out["started_at"]
    reference = out["detected_at"].fillna(out["escalated_at"])
    out["lead_time"] = reference - out["first_alert_at"]
    out["escalation_lead_time"] = out["escalated_at"] - out["first_alert_at_severity"]
    out["cost"] = 0.0
    return out.loc[:, list(INCIDENT_RESULT_COLUMNS)], pairs


def _tier_table(
    result: pd.DataFrame,
    notes: pd.DataFrame,
    pairs: pd.DataFrame,
    matched: np.ndarray,
    weeks: float,
    n_tiers: int,
) -> pd.DataFrame:
    ev = result[result["evaluated"]]
    # Episodes whose notifications matched nothing, by the highest tier they reached.
    ep = (
        pd.DataFrame(
            {
                "ep": notes["episode_id"].astype(str).to_numpy(),
                "tier": notes["tier"].to_numpy(),
                "topic": notes["topic"].to_numpy(),
                "matched": matched,
            }
        )
        .groupby(["topic", "ep"])
        .agg(tier=("tier", "max"), matched=("matched", "any"))
    )
    rows = []
    for k in range(1, n_tiers + 1):
        eligible = ev[ev["severity"] >= k]
        caught = int((eligible["tier_reached"] >= k).sum())
        at_k = (notes["tier"] == k).to_numpy()
        n_notes = int(at_k.sum())
        n_true = int((at_k & matched).sum())
        n_false = n_notes - n_true
        # First alert of tier >= k per caught incident, from the matched pairs.
        hit = pairs[(pairs["tier"] >= k) & pairs["i"].isin(eligible.index)]
        first_k = hit.groupby("i")["alerted_at"].min()
        delay = (
            _median_td(first_k - result.loc[first_k.index, "started_at"])
            if len(first_k)
            else pd.NaT
        )
        rows.append(
            {
                "tier": k,
                "incidents": len(eligible),
                "caught": caught,
                "recall": caught / len(eligible) if len(eligible) else float("nan"),
                "recall_low": wilson_interval(caught, len(eligible))[0],
                "recall_high": wilson_interval(caught, len(eligible))[1],
                "notifications": n_notes,
                "true_notifications": n_true,
                "false_notifications": n_false,
                "precision": n_true / n_notes if n_notes else float("nan"),
                "false_per_week": n_false / weeks if weeks > 0 else float("nan"),
                "false_episodes": int(((ep["tier"] == k) & ~ep["matched"]).sum()),
                "median_detection_delay": delay,
            }
        )
    table = pd.DataFrame(rows, columns=list(TIER_RESULT_COLUMNS))
    table["median_detection_delay"] = pd.Series(
        [r["median_detection_delay"] for r in rows], index=table.index, dtype="timedelta64[ns]"
    )
    return table


def _matrix(result: pd.DataFrame, n_tiers: int) -> pd.DataFrame:
    ev = result[result["evaluated"]]
    max_sev = max(n_tiers, int(ev["severity"].max()) if len(ev) else 1)
    counts = np.zeros((max_sev, n_tiers + 1), dtype=np.int64)
    np.add.at(counts, (ev["severity"].to_numpy() - 1, ev["tier_reached"].to_numpy()), 1)
    return pd.DataFrame(
        counts,
        index=pd.RangeIndex(1, max_sev + 1, name="severity"),
        columns=pd.RangeIndex(0, n_tiers + 1, name="tier_reached"),
    )


def _apply_costs(
    result: pd.DataFrame, false_alerts: pd.DataFrame, costs: CostModel, weeks: float
) -> tuple[pd.DataFrame, dict[str, float]]:
    ev = result["evaluated"].to_numpy()
    sev = result["severity"].to_numpy()
    reached = result["tier_reached"].to_numpy()
    missed = np.where(ev & (reached == 0), costs.miss_cost(sev), 0.0)
    under = np.where(
        ev & (reached > 0) & (reached < sev),
        np.clip(costs.miss_cost(sev) - costs.miss_cost(reached), 0.0, None),
        0.0,
    )
    hours = result["detection_delay_at_severity"].dt.total_seconds().to_numpy() / 3600.0
    late = np.where(ev & ~np.isnan(hours), costs.late_per_hour * np.clip(hours, 0, None), 0.0)
    false_cost = (
        float(costs.false_alarm_cost(false_alerts["tier"].to_numpy()).sum())
        if len(false_alerts)
        else 0.0
    )
    out = result.copy()
    out["cost"] = missed + under + late
    breakdown = {
        "missed": float(missed.sum()),
        "under_escalated": float(under.sum()),
        "late": float(late.sum()),
        "false_alarms": false_cost,
    }
    breakdown["total"] = float(sum(breakdown.values()))
    breakdown["per_week"] = breakdown["total"] / weeks if weeks > 0 else float("nan")
    return out, breakdown


def _nab_dict(score: NabScore) -> dict:
    d = score.to_dict()
    d["per_topic"] = [{k: _json_value(v) for k, v in row.items()} for row in d["per_topic"]]
    return {k: _json_value(v) if k != "per_topic" else v for k, v in d.items()}


def _median_td(values: pd.Series) -> pd.Timedelta:
    """Median of durations; NaT when there are none. Missing values are dropped *before* the
    conversion: an all-NaT column without a timedelta dtype is inferred as datetime64 and
    ``pd.to_timedelta`` refuses it."""
    v = pd.Series(values).dropna()
    return pd.Timedelta(pd.to_timedelta(v).median()) if len(v) else pd.NaT


def _json_value(v: Any) -> Any:
    """One value as JSON: timestamps ISO, durations hours, NaN/NaT None, numpy → Python."""
    if v is None:
        return None
    if isinstance(v, pd.Timestamp):
        return None if pd.isna(v) else v.isoformat()
    if isinstance(v, pd.Timedelta | np.timedelta64):
        return None if pd.isna(v) else pd.Timedelta(v) / pd.Timedelta(hours=1)
    if v is pd.NaT:
        return None
    if isinstance(v, np.bool_ | bool):
        return bool(v)
    if isinstance(v, np.integer):
        return int(v)
    if isinstance(v, float | np.floating):
        return None if math.isnan(v) else float(v)
    return v


def _records(frame: pd.DataFrame) -> list[dict[str, Any]]:
    rename = {c: f"{c}_hours" for c in frame.columns if pd.api.types.is_timedelta64_dtype(frame[c])}
    return [
        {rename.get(k, k): _json_value(v) for k, v in row.items()}
        for row in frame.to_dict(orient="records")
    ]
