"""The retrospective of one incident, drafted from facts: milestones and the five sections.

Pure computation: incidents × escalations × features (× optional mentions) → ``IncidentReview``.
Improvements are quantified by re-evaluating the policy with the smallest threshold changes
that would have alerted earlier, and costed in extra escalations per month. Alerts count for an
incident by the backtest's :class:`~esc_analytics.backtesting.MatchRules` — the very rules of
the backtest result a review is given — so a review never disagrees with its backtest.
"""

from __future__ import annotations

import math
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

import numpy as np
import pandas as pd

from .._util.errors import DataLoadError, PolicyError
from .._util.format import format_hours, format_time
from .._util.html import markdown_text
from .._util.schema import NEGATIVE_SENTIMENT_BAR
from .._util.times import UTC_DTYPE, to_utc, to_utc_ns, utc_timestamp
from ..backtesting._matching import DEFAULT_MAX_EARLY, MatchRules, in_match_interval
from ..escalations._escalations import Escalations
from ..escalations._evaluate import evaluate
from ._notes import SECTION_TITLES, SECTIONS, bullet_list, notes_to_markdown

if TYPE_CHECKING:  # pragma: no cover
    import plotly.graph_objects as go

# A window counts as an early sign of the issue when volume exceeds baseline by this ratio.
FIRST_SIGN_RATIO = 1.5
PRECEDING_PERIOD = pd.Timedelta("7D")
DAYS_PER_MONTH = 30.4375
MAX_CANDIDATES_PER_PARAM = 12
#: Default alert budget of a proposal: extra notifications per month at the tier it changes
#: (about two a week). Proposals costing more are left out, and the review says how many.
DEFAULT_MAX_EXTRA_PER_MONTH = 8.0
# Signals a review may suggest when no threshold change helps (only those the data carries).
_OTHER_SIGNALS = ("negative_share", "reach", "influencer_mentions")
# Where a proposal costs no extra alert, its rank divides by this (alerts a month) instead.
_MIN_COST_PER_MONTH = 0.1

_RISING_OPS = {">", ">=", "gt", "ge"}
_FALLING_OPS = {"<", "<=", "lt", "le"}
_STRICT_OPS = {">", "gt", "<", "lt"}


def _hours(delta: pd.Timedelta) -> float:
    return float(pd.Timedelta(delta) / pd.Timedelta("1h"))


# --- what proposals may use, and what they cost ------------------------------------------------


def measures_lacking(features: pd.DataFrame, names: Any = None) -> dict[str, str]:
    """The measures (of ``names``, default every column) that the data cannot inform, with why:
    those the features mark absent (the input had no such column, see
    ``features.attrs["absent_features"]``) and numeric columns that are empty or zero
    everywhere. A threshold on one of them changes nothing real, so no proposal uses one."""
    absent = dict(features.attrs.get("absent_features") or {})
    out = {name: f"{why} it" for name, why in absent.items()}
    for name in features.columns if names is None else names:
        if name in out or name not in features.columns or name == "window_start":
            continue
        column = features[name]
        if not pd.api.types.is_numeric_dtype(column) or pd.api.types.is_bool_dtype(column):
            continue
        values = column.to_numpy(dtype=float)
        known = values[np.isfinite(values)]
        if not len(known):
            out[name] = "it is empty in the data"
        elif not np.any(known != 0):
            out[name] = "it is zero everywhere in the data"
    if names is not None:
        wanted = set(names)
        out = {k: v for k, v in out.items() if k in wanted}
    return out


def alert_cost_words(per_month: float, level: int) -> str:
    """An alert cost as a person says it: ``+3 tier-1 alerts a month, about one a week``,
    ``no extra tier-2 alert``, ``+81 tier-1 alerts a month, about 3 a day``."""
    n = float(per_month)
    if not np.isfinite(n):
        return f"tier-{level} alert cost unknown"
    if abs(n) < 0.05:
        return f"no extra tier-{level} alert"
    amount = f"{abs(n):.0f}" if abs(n) >= 9.5 else f"{abs(n):.1f}".rstrip("0").rstrip(".")
    noun = "alert" if amount == "1" else "alerts"
    if n < 0:
        return f"{amount} fewer tier-{level} {noun} a month"
    days = DAYS_PER_MONTH / n  # days between extra alerts
    if days < 0.75:
        pace = f"about {round(1 / days)} a day"
    elif days < 1.5:
        pace = "about one a day"
    elif days < 5:
        pace = f"about one every {round(days)} days"
    elif days < 11:
        pace = "about one a week"
    elif days < 21:
        pace = "about one every two weeks"
    elif days < 45:
        pace = "about one a month"
    else:
        pace = f"about one every {round(days / DAYS_PER_MONTH)} months"
    return f"+{amount} tier-{level} {noun} a month, {pace}"


# --- alerts per incident ----------------------------------------------------------------------


def incident_windows(incidents: pd.DataFrame, rules: MatchRules | None = None) -> pd.DataFrame:
    """Each incident's matching window by ``rules`` (default :class:`MatchRules`): alerts from
    ``match_from`` (``started_at − max_early``) to ``match_until`` count for it."""
    rules = MatchRules() if rules is None else rules
    missing = [c for c in ("incident_id", "topic", "started_at", "severity") if c not in incidents]
    if missing:
        raise DataLoadError(f"incidents lack columns {missing}")
    out = incidents.copy()
    start = to_utc(out["started_at"])
    end = to_utc(out["ended_at"]) if "ended_at" in out else None
    out["match_until"] = rules.match_until(start, end)
    out["match_from"] = rules.early_limits(out["topic"], start, out["match_until"])
    out["incident_id"] = out["incident_id"].astype(str)
    return out


def incident_alerts(
    escalations: Escalations, incidents: pd.DataFrame, *, rules: MatchRules | None = None
) -> pd.DataFrame:
    """Per incident: the first alert of each tier within its matching window (``rules``).

    Returns one row per incident (incidents' order) with ``incident_id, topic, severity,
    tier_reached`` (0 = missed), ``first_alert_at`` and ``first_alert_tier{k}_at`` for every tier
    k of the escalations (the first notification at tier ≥ k), plus ``team_noticed_at``
    (``detected_at``, else ``escalated_at``) and ``lead_time_h`` = team_noticed − first alert.
    """
    win = incident_windows(incidents, rules)
    notes = escalations.notifications
    tiers = sorted({int(t) for t in escalations.windows["tier"].unique() if int(t) > 0})
    tiers = sorted(set(tiers) | {int(t) for t in notes["tier"].unique()})
    rows = []
    by_topic = {topic: frame for topic, frame in notes.groupby("topic", sort=False)}
    for rec in win.itertuples(index=False):
        frame = by_topic.get(rec.topic)
        row: dict[str, Any] = {
            "incident_id": rec.incident_id,
            "topic": rec.topic,
            "severity": int(rec.severity),
        }
        hit = None
        if frame is not None:
            hit = frame[
                in_match_interval(
                    frame["window_start"], frame["alerted_at"], rec.match_from, rec.match_until
                )
            ]
        if hit is None or hit.empty:
            row["tier_reached"] = 0
            row["first_alert_at"] = pd.NaT
            for k in tiers:
                row[f"first_alert_tier{k}_at"] = pd.NaT
        else:
            hit = hit.sort_values(["alerted_at", "tier"])
            row["tier_reached"] = int(hit["tier"].max())
            row["first_alert_at"] = hit["alerted_at"].iloc[0]
            for k in tiers:
                at_k = hit.loc[hit["tier"] >= k, "alerted_at"]
                row[f"first_alert_tier{k}_at"] = at_k.iloc[0] if len(at_k) else pd.NaT
        rows.append(row)
    out = pd.DataFrame(rows)
    if out.empty:
        out = pd.DataFrame(columns=["incident_id", "topic", "severity", "tier_reached"])
    noticed = pd.Series(pd.NaT, index=win.index, dtype="datetime64[us, UTC]")
    for col in ("escalated_at", "detected_at"):  # detected_at wins where both are known
        if col in win:
            val = to_utc(win[col])
            noticed = val.where(val.notna(), noticed)
    out["team_noticed_at"] = noticed.astype(UTC_DTYPE).array
    for col in [c for c in out.columns if c.startswith("first_alert_")]:
        out[col] = to_utc(out[col]).astype(UTC_DTYPE)
    out["lead_time_h"] = (out["team_noticed_at"] - out["first_alert_at"]) / pd.Timedelta("1h")
    return out


def false_episodes(
    escalations: Escalations, incidents: pd.DataFrame, *, rules: MatchRules | None = None
) -> pd.DataFrame:
    """Episodes that overlap no incident's matching window (``rules``) on their topic (false
    escalations)."""
    eps = escalations.episodes
    if eps.empty:
        return eps.copy()
    win = incident_windows(incidents, rules)
    overlaps = np.zeros(len(eps), dtype=bool)
    ep_topic = eps["topic"].to_numpy()
    # int64 nanoseconds on both sides (tz-aware episode times never meet naive numpy ones)
    ep_start, ep_end = to_utc_ns(eps["started_at"]), to_utc_ns(eps["ended_at"])
    match_from, match_until = to_utc_ns(win["match_from"]), to_utc_ns(win["match_until"])
    for topic, frm, to in zip(win["topic"], match_from, match_until, strict=True):
        overlaps |= (ep_topic == topic) & (ep_start <= to) & (ep_end > frm)
    return eps.loc[~overlaps].reset_index(drop=True)


# --- the review ------------------------------------------------------------------------------


@dataclass(frozen=True)
class IncidentReview:
    """The drafted retrospective of one incident.

    Attributes
    ----------
    incident_id, incident : the incident's id and its row as a dict.
    milestones : ``milestone, at, tier, detail`` sorted by time (``at`` UTC).
    sections : the five template sections (keys of ``SECTION_TITLES``) drafted as Markdown.
    facts : the numbers behind the sentences (lead time, tier reached, false escalations…).
    improvements : ``parameter, current, proposed, first_alert_at, hours_earlier,
        hours_before_team, extra_escalations_per_month`` — threshold changes that alert earlier.
    context : the topic's windows around the incident (``window_start, volume,
        baseline_volume, volume_ratio, tier``) for the milestone figure.
    """

    incident_id: str
    incident: dict[str, Any]
    milestones: pd.DataFrame
    sections: dict[str, str]
    facts: dict[str, Any] = field(default_factory=dict)
    improvements: pd.DataFrame = field(default_factory=pd.DataFrame)
    context: pd.DataFrame = field(default_factory=pd.DataFrame)

    def summary(self) -> str:
        """A few lines: the incident, whether and when the policy caught it, the best fix."""
        f = self.facts
        lines = [f"{self.incident_id} ({self.incident.get('topic')}, severity {f['severity']})"]
        lines.append(f"  {f['outcome_sentence']}")
        if f.get("improvement_sentence"):
            lines.append(f"  {f['improvement_sentence']}")
        return "\n".join(lines)

    def to_frame(self) -> pd.DataFrame:
        """The milestones as a table."""
        return self.milestones.copy()

    def to_notes(self) -> dict[str, Any]:
        """The draft as a notes document (see ``_notes``) to edit and save."""
        return {"incident_id": self.incident_id, "sections": dict(self.sections)}

    def to_markdown(self) -> str:
        """The draft as a Markdown document with the five template headings."""
        title = f"Retrospective {_md_text(self.incident_id)}"
        if self.incident.get("title"):
            title += f": {_md_text(self.incident['title'])}"
        return notes_to_markdown(self.to_notes(), title=title)

    def notes_meta(self) -> dict[str, Any]:
        """What the notes file records about this retrospective's subject, so that the next
        one finds it (by topic and time): ``kind``, ``topic``, ``started_at`` (ISO, UTC)."""
        start = utc_timestamp(self.incident.get("started_at"))
        return {
            "kind": "incident",
            "topic": str(self.incident.get("topic")),
            "started_at": start.isoformat() if start is not None else None,
        }

    def action_texts(self) -> list[str]:
        """The improvements worth an action item: the headline proposal, else the advice to
        look at another signal (nothing when the plan already alerted as early as it can)."""
        if self.facts.get("improvement_sentence"):
            return [self.facts["improvement_sentence"]]
        first = next(iter(str(self.sections.get("improvements", "")).splitlines()), "")
        if "consider another signal" not in first:
            return []
        have = [n for n in _OTHER_SIGNALS if n not in self.facts.get("measures_lacking", {})]
        signals = f" ({', '.join(n.replace('_', ' ') for n in have)})" if have else ""
        tier = self.facts.get("target_tier")
        return [f"Find a signal that tells this kind of incident early at tier {tier}{signals}."]

    def action_owner(self) -> str | None:
        """Who owns the drafted action: the owner of the tier the proposal changes."""
        return self.facts.get("target_owner")

    def action_due(self) -> pd.Timestamp | None:
        """When the drafted action is due: two weeks after the incident's end (or start)."""
        end = utc_timestamp(self.incident.get("ended_at")) or utc_timestamp(
            self.incident.get("started_at")
        )
        return end + pd.Timedelta(days=14) if end is not None else None

    def plot(self, **kwargs: Any) -> go.Figure:
        """The milestone timeline (see ``esc_analytics.plots._retro.milestone_figure``)."""
        from ..plots._retro import milestone_figure

        return milestone_figure(self, **kwargs)


def _md_text(value: Any) -> str:
    """User text (ids, titles, categories) inside Markdown that notebooks and reports render as
    HTML: markup, links and images are shown literally, never interpreted or followed."""
    return markdown_text(value)


def _md_code(value: Any) -> str:
    """User text inside a generated code span (literal already): no backtick to break out."""
    return str(value).replace("`", "'")


def _incident_row(incidents: pd.DataFrame, incident_id: str) -> pd.Series:
    ids = incidents["incident_id"].astype(str)
    match = incidents.loc[ids == str(incident_id)]
    if match.empty:
        shown = ", ".join(ids.head(8).tolist())
        raise DataLoadError(f"unknown incident {incident_id!r}; known ids include: {shown}")
    return match.iloc[0]


def _first_sign(
    ctx: pd.DataFrame, peak_at: pd.Timestamp | None, earliest: pd.Timestamp
) -> pd.Timestamp | None:
    """Start of the run of windows with volume_ratio > FIRST_SIGN_RATIO that leads to the peak."""
    if peak_at is None or "volume_ratio" not in ctx or ctx.empty:
        return None
    sub = ctx[(ctx["window_start"] >= earliest) & (ctx["window_start"] <= peak_at)]
    ratio = sub["volume_ratio"].to_numpy(dtype=float)
    if len(ratio) == 0 or not ratio[-1] > FIRST_SIGN_RATIO:
        return None
    below = np.flatnonzero(~(ratio > FIRST_SIGN_RATIO))
    first = below[-1] + 1 if len(below) else 0
    return pd.Timestamp(sub["window_start"].iloc[first])


def _first_negative_mention(
    mentions: pd.DataFrame | None, topic: str, since: pd.Timestamp, until: pd.Timestamp
) -> tuple[pd.Timestamp | None, str | None]:
    if mentions is None or mentions.empty or "sentiment" not in mentions:
        return None, None
    m = mentions
    if "topic" in m:
        m = m[m["topic"] == topic]
    at = to_utc(m["created_at"])
    m = m[(at >= since) & (at <= until) & (m["sentiment"] <= NEGATIVE_SENTIMENT_BAR)]
    if m.empty:
        return None, None
    m = m.sort_values(["created_at", "mention_id"])
    first = m.iloc[0]
    return pd.Timestamp(first["created_at"]), str(first["mention_id"])


def _tier_conditions(policy: Any, level: int) -> list[tuple[str, Any]]:
    """(flat parameter name, condition) for the threshold conditions of tier ``level``."""
    tier = next((t for t in policy.tiers if int(t.level) == int(level)), None)
    if tier is None:
        return []
    conditions = tier.conditions  # every condition, nested groups depth first
    index = getattr(policy, "_params", None)  # name -> (level, 'condition', position)
    if isinstance(index, Mapping):
        return [
            (name, conditions[pos])
            for name, (lvl, attr, pos) in index.items()
            if lvl == level and attr == "condition" and pos is not None
        ]
    params = policy.get_params()
    names = [(f"tier{level}__{c.feature}", c) for c in conditions]
    return [(name, c) for name, c in names if name in params]


def _nice_threshold(value: float, op: str) -> float:
    """A round threshold (3 significant digits) at which ``feature op threshold`` holds for
    ``value``: just below it for > / >=, just above it for < / <=."""
    if value == 0 or not np.isfinite(value):
        step = 0.01
    else:
        step = 10.0 ** (math.floor(math.log10(abs(value))) - 2)
    if op in _RISING_OPS:
        new = math.floor(value / step) * step
        if op in _STRICT_OPS and new >= value:
            new -= step
    else:
        new = math.ceil(value / step) * step
        if op in _STRICT_OPS and new <= value:
            new += step
    return float(round(new, 10))


def _first_alert_at_tier(
    esc: Escalations, topic: str, level: int, frm: pd.Timestamp, to: pd.Timestamp
) -> pd.Timestamp | None:
    n = esc.notifications
    hit = n[(n["topic"] == topic) & (n["tier"] >= level)]
    hit = hit[in_match_interval(hit["window_start"], hit["alerted_at"], frm, to)]
    return pd.Timestamp(hit["alerted_at"].min()) if len(hit) else None


def quantify_improvements(
    policy: Any,
    features: pd.DataFrame,
    incident: Mapping[str, Any],
    *,
    level: int,
    current_alert_at: pd.Timestamp | None,
    team_noticed_at: pd.Timestamp | None,
    rules: MatchRules | None = None,
    baseline_escalations: Escalations | None = None,
    since: pd.Timestamp | None = None,
    until: pd.Timestamp | None = None,
    max_extra_per_month: float | None = DEFAULT_MAX_EXTRA_PER_MONTH,
) -> pd.DataFrame:
    """Threshold changes of tier ``level`` that would have alerted for this incident earlier.

    For every threshold (and persistence / minimum volume) of the tier, candidate values are
    the feature values seen in the incident's windows (from ``since``, default its start, to
    ``until``, e.g. its peak) before the current alert; the policy is
    re-evaluated with each. Kept per parameter: the smallest change that alerts earlier and
    the smallest that alerts earliest. Cost = extra notifications at tier ≥ level per month
    over all topics and windows of ``features``. The incident's windows are those of ``rules``
    (default :class:`MatchRules`).

    Never proposed: a threshold on a measure the data lacks (:func:`measures_lacking`).
    Ranked best first by ``hours_per_extra_alert`` — hours gained (earlier than the current
    alert, or for a miss before the team noticed / the end of its window) per extra alert a
    month; ``alert_cost`` says the cost in words; ``within_budget`` is False where the cost
    exceeds ``max_extra_per_month`` (None: no budget).
    """
    rules = MatchRules() if rules is None else rules
    columns = [
        "parameter",
        "current",
        "proposed",
        "first_alert_at",
        "hours_earlier",
        "hours_before_team",
        "extra_escalations_per_month",
        "gain_h",
        "hours_per_extra_alert",
        "alert_cost",
        "within_budget",
    ]
    if max_extra_per_month is not None and not max_extra_per_month >= 0:
        raise ValueError(f"max_extra_per_month must be >= 0, got {max_extra_per_month}")
    topic = incident["topic"]
    start = utc_timestamp(incident["started_at"])
    frm = rules.match_from(start)
    to = rules.match_until(start, utc_timestamp(incident.get("ended_at")))
    deadline = current_alert_at if current_alert_at is not None else to + pd.Timedelta("1ns")
    topic_feats = features[features["topic"] == topic]
    local = topic_feats[
        (topic_feats["window_start"] >= frm - PRECEDING_PERIOD)
        & (topic_feats["window_start"] <= to + pd.Timedelta("1D"))
    ]
    # Candidates come from the issue's own windows (from its first sign, else its start), so
    # that "earlier" never means "alerting on ordinary traffic before the issue existed".
    first = max(frm, since if since is not None else start)
    last = min(deadline, until + pd.Timedelta("1ns")) if until is not None else deadline
    in_window = local[(local["window_start"] >= first) & (local["window_start"] < last)]
    if in_window.empty:
        return pd.DataFrame(columns=columns)

    params = policy.get_params()
    candidates: list[tuple[str, float, float]] = []  # (param, current, proposed)
    conditions = _tier_conditions(policy, level)
    lacking = measures_lacking(features, [c.feature for _, c in conditions])
    for key, cond in conditions:
        if cond.feature not in in_window or cond.op not in _RISING_OPS | _FALLING_OPS:
            continue
        if cond.feature in lacking:
            continue
        current = float(params[key])
        vals = in_window[cond.feature].to_numpy(dtype=float)
        vals = vals[np.isfinite(vals)]
        if cond.op in _RISING_OPS:
            vals = np.unique(vals[vals <= current])[::-1]  # nearest first
        else:
            vals = np.unique(vals[vals >= current])
        proposals = sorted(
            {_nice_threshold(v, cond.op) for v in vals} - {current},
            key=lambda p, c=current: abs(p - c),
        )
        if len(proposals) > MAX_CANDIDATES_PER_PARAM:
            idx = np.unique(np.linspace(0, len(proposals) - 1, MAX_CANDIDATES_PER_PARAM).round())
            proposals = [proposals[int(i)] for i in idx]
        candidates += [(key, current, p) for p in proposals]
    for suffix, floor in (("persistence", 1), ("min_volume", 0)):
        key = f"tier{level}__{suffix}"
        if key in params and params[key] is not None and float(params[key]) > floor:
            current = float(params[key])
            steps = range(int(current) - 1, floor - 1, -1) if suffix == "persistence" else ()
            if suffix == "min_volume":
                vols = in_window["volume"].to_numpy(dtype=float)
                steps = sorted({float(v) for v in vols if v < current}, reverse=True)[:6]
            candidates += [(key, current, float(s)) for s in steps]

    def alert_for(pol: Any) -> pd.Timestamp | None:
        # An alert counts only from the first sign: earlier ones fire on ordinary
        # traffic and would not have been about this incident.
        return _first_alert_at_tier(evaluate(pol, local), topic, level, max(frm, first), to)

    found: list[dict[str, Any]] = []
    for key in dict.fromkeys(k for k, _, _ in candidates):
        best_any = best_max = None
        for _, current, proposed in (c for c in candidates if c[0] == key):
            value = int(proposed) if key.endswith("persistence") else proposed
            try:
                pol = policy.set_params(**{key: value})
            except PolicyError:
                continue
            at = alert_for(pol)
            if at is None or (current_alert_at is not None and at >= current_alert_at):
                continue
            rec = {"parameter": key, "current": current, "proposed": float(proposed), "at": at}
            if best_any is None:
                best_any = rec
            if best_max is None or at < best_max["at"]:
                best_max = rec
        for rec in {id(r): r for r in (best_any, best_max) if r is not None}.values():
            found.append(rec)
    if not found:
        return pd.DataFrame(columns=columns)

    base = baseline_escalations if baseline_escalations is not None else evaluate(policy, features)
    span = features["window_start"].max() - features["window_start"].min()
    months = max(_hours(span) / 24 / DAYS_PER_MONTH, 1e-9)
    base_count = int((base.notifications["tier"] >= level).sum())
    rows = []
    for rec in found:
        key, proposed = rec["parameter"], rec["proposed"]
        value = int(proposed) if key.endswith("persistence") else proposed
        esc = evaluate(policy.set_params(**{key: value}), features)
        extra = int((esc.notifications["tier"] >= level).sum()) - base_count
        ref = current_alert_at if current_alert_at is not None else None
        if ref is not None:
            gain = _hours(ref - rec["at"])
        elif team_noticed_at is not None and team_noticed_at > rec["at"]:
            gain = _hours(team_noticed_at - rec["at"])
        else:
            gain = max(_hours(to - rec["at"]), 0.0)
        per_month = extra / months
        rows.append(
            {
                "parameter": key,
                "current": rec["current"],
                "proposed": proposed,
                "first_alert_at": rec["at"],
                "hours_earlier": _hours(ref - rec["at"]) if ref is not None else np.nan,
                "hours_before_team": (
                    _hours(team_noticed_at - rec["at"]) if team_noticed_at is not None else np.nan
                ),
                "extra_escalations_per_month": per_month,
                "gain_h": gain,
                "hours_per_extra_alert": gain / max(per_month, _MIN_COST_PER_MONTH),
                "alert_cost": alert_cost_words(per_month, level),
                "within_budget": max_extra_per_month is None or per_month <= max_extra_per_month,
            }
        )
    out = pd.DataFrame(rows, columns=columns)
    out["_change"] = (out["proposed"] - out["current"]).abs() / out["current"].abs().clip(
        lower=1e-9
    )
    out["_rank"] = -out["hours_per_extra_alert"]
    out = out.sort_values(["_rank", "_change", "parameter", "proposed"], kind="stable")
    out = out.drop(columns=["_change", "_rank"]).drop_duplicates(["parameter", "proposed"])
    return out.reset_index(drop=True)


def _improvement_sentence(imp: pd.DataFrame, level: int, caught: bool) -> str | None:
    """The headline proposal: the best ranked (most hours gained per extra alert)."""
    if imp.empty:
        return None
    best = imp.iloc[0]
    name = str(best["parameter"]).split("__", 1)[1]
    fmt = (lambda v: f"{v:.0f}") if name in ("persistence", "min_volume") else (lambda v: f"{v:g}")
    verb = "Lowering" if best["proposed"] < best["current"] else "Raising"
    if caught and np.isfinite(best["hours_earlier"]):
        gain = f"would have alerted at tier {level} {format_hours(best['hours_earlier'])} earlier"
    else:
        gain = f"would have caught it at tier {level} ({format_time(best['first_alert_at'])})"
    if np.isfinite(best["hours_before_team"]) and best["hours_before_team"] > 0:
        gain += f", {format_hours(best['hours_before_team'])} before the team noticed"
    return (
        f"{verb} tier {level} `{name}` from {fmt(best['current'])} to {fmt(best['proposed'])} "
        f"{gain}; cost: {best['alert_cost']}."
    )


def review_incident(
    incident_id: str,
    backtest_result: Any,
    features: pd.DataFrame,
    incidents: pd.DataFrame,
    escalations: Escalations,
    policy: Any,
    mentions: pd.DataFrame | None = None,
    *,
    max_early: str | pd.Timedelta = DEFAULT_MAX_EARLY,
    max_delay: str | pd.Timedelta | None = None,
    quantify: bool = True,
    max_extra_per_month: float | None = DEFAULT_MAX_EXTRA_PER_MONTH,
) -> IncidentReview:
    """Draft the retrospective of ``incident_id`` from the facts.

    ``escalations`` are the policy's escalations on ``features``; ``backtest_result`` (may be
    None) supplies the matching rules (``rules``, else ``max_early`` and ``max_delay``) when it
    records them, so that the review judges the incident as its backtest did; ``max_early``
    and ``max_delay`` apply otherwise (the backtest's precedence: ``started_at + max_delay``
    when given, else ``ended_at``, else 24 h after the start). With ``mentions`` the first
    negative mention marks the first sign of the issue; otherwise the first window of the
    volume ramp (volume_ratio > 1.5) before the peak does.

    Improvements never name a measure the data lacks, are ranked by hours gained per extra
    alert, and those costing more than ``max_extra_per_month`` extra alerts a month at their
    tier are left out (``facts["proposals_over_budget"]`` counts them; None = no budget).
    """
    rules = _recorded_rules(backtest_result, max_early, max_delay)
    inc = _incident_row(incidents, incident_id)
    incident = {k: (None if (not isinstance(v, str) and pd.isna(v)) else v) for k, v in inc.items()}
    topic = incident["topic"]
    severity = int(incident["severity"])
    start = utc_timestamp(incident["started_at"])
    end_known = utc_timestamp(incident.get("ended_at"))
    window = incident_windows(incidents, rules)
    earliest = window.loc[window["incident_id"] == str(incident_id), "match_from"].iloc[0]
    end = rules.incident_end(start, end_known)  # the incident's own span, for context and peak
    detected = utc_timestamp(incident.get("detected_at"))
    team_escalated = utc_timestamp(incident.get("escalated_at"))
    resolved = utc_timestamp(incident.get("resolved_at"))
    noticed = detected or team_escalated

    alerts = incident_alerts(escalations, incidents, rules=rules)
    alert = alerts.loc[alerts["incident_id"] == str(incident_id)].iloc[0]
    tier_reached = int(alert["tier_reached"])
    first_alert = utc_timestamp(alert["first_alert_at"])
    bt_row = _backtest_row(backtest_result, incident_id)
    if bt_row is not None:  # the backtest's verdict is the reference where there is one
        tier_reached = int(bt_row["tier_reached"])
        first_alert = utc_timestamp(bt_row["first_alert_at"])
    levels = sorted(int(t.level) for t in policy.tiers) if policy is not None else []
    first_at = {
        k: utc_timestamp(alert.get(f"first_alert_tier{k}_at"))
        for k in levels
        if f"first_alert_tier{k}_at" in alert
    }
    target = min(severity, max(levels)) if levels else severity

    # Context windows and the peak.
    feats = features[features["topic"] == topic]
    ctx_from, ctx_to = earliest - pd.Timedelta("2D"), end + pd.Timedelta("1D")
    ctx = feats[(feats["window_start"] >= ctx_from) & (feats["window_start"] <= ctx_to)]
    cols = [c for c in ("window_start", "volume", "baseline_volume", "volume_ratio") if c in ctx]
    ctx = ctx[cols].sort_values("window_start").reset_index(drop=True)
    ew = escalations.windows
    ew = ew[(ew["topic"] == topic)][["window_start", "tier"]]
    ctx = ctx.merge(ew, on="window_start", how="left")
    ctx["tier"] = ctx["tier"].fillna(0).astype(int)
    in_inc = ctx[(ctx["window_start"] >= start.floor("1h")) & (ctx["window_start"] <= end)]
    if in_inc.empty:
        in_inc = ctx[(ctx["window_start"] >= earliest) & (ctx["window_start"] <= end)]
    peak_at = peak_volume = None
    if len(in_inc) and "volume" in in_inc:
        i = int(np.argmax(in_inc["volume"].to_numpy()))
        peak_at = pd.Timestamp(in_inc["window_start"].iloc[i])
        peak_volume = float(in_inc["volume"].iloc[i])
    max_ratio = (
        float(in_inc["volume_ratio"].max()) if "volume_ratio" in in_inc and len(in_inc) else None
    )

    first_sign = _first_sign(ctx, peak_at, earliest)
    first_mention_at, first_mention_id = _first_negative_mention(
        mentions, topic, first_sign or earliest, peak_at or end
    )

    # Milestones.
    ms: list[dict[str, Any]] = []
    if first_mention_at is not None:
        ms.append(
            {
                "milestone": "first negative mention",
                "at": first_mention_at,
                "tier": 0,
                "detail": f"mention {first_mention_id}",
            }
        )
    if first_sign is not None:
        ms.append(
            {
                "milestone": "first sign in volume",
                "at": first_sign,
                "tier": 0,
                "detail": f"volume above {FIRST_SIGN_RATIO}× baseline",
            }
        )
    ms.append(
        {"milestone": "started", "at": start, "tier": 0, "detail": "incident start on social"}
    )
    for k, at in first_at.items():
        if at is not None:
            ms.append(
                {
                    "milestone": f"policy escalation tier {k}",
                    "at": at,
                    "tier": k,
                    "detail": f"first tier-{k} alert",
                }
            )
    if detected is not None:
        ms.append({"milestone": "detected", "at": detected, "tier": 0, "detail": "team noticed"})
    if team_escalated is not None:
        ms.append(
            {"milestone": "escalated", "at": team_escalated, "tier": 0, "detail": "team escalated"}
        )
    if peak_at is not None:
        ms.append(
            {
                "milestone": "peak",
                "at": peak_at,
                "tier": 0,
                "detail": f"{peak_volume:g} mentions in the window",
            }
        )
    if end_known is not None:
        ms.append({"milestone": "ended", "at": end_known, "tier": 0, "detail": "incident end"})
    if resolved is not None:
        ms.append({"milestone": "resolved", "at": resolved, "tier": 0, "detail": "resolved"})
    milestones = pd.DataFrame(ms, columns=["milestone", "at", "tier", "detail"])
    milestones["at"] = to_utc(milestones["at"])
    milestones = milestones.sort_values("at", kind="stable").reset_index(drop=True)
    milestones["hours_from_start"] = (milestones["at"] - start) / pd.Timedelta("1h")

    # Facts.
    false_alerts = getattr(backtest_result, "false_alerts", None)
    if false_alerts is not None and "alerted_at" in false_alerts:
        falses = false_alerts.assign(_at=to_utc(false_alerts["alerted_at"]))
    else:
        falses = false_episodes(escalations, incidents, rules=rules)
        falses = falses.assign(_at=falses["started_at"])
    before = falses[(falses["_at"] >= start - PRECEDING_PERIOD) & (falses["_at"] < start)]
    false_week_all = len(before)
    false_week_topic = int((before["topic"] == topic).sum())
    lead_h = (
        _hours(noticed - first_alert) if (noticed is not None and first_alert is not None) else None
    )
    target_at = first_at.get(target)
    facts: dict[str, Any] = {
        "severity": severity,
        "target_tier": target,
        "tier_reached": tier_reached,
        "caught": tier_reached > 0,
        "first_alert_at": first_alert,
        "first_alert_at_target": target_at,
        "team_noticed_at": noticed,
        "lead_time_h": lead_h,
        "detection_delay_h": _hours(first_alert - start) if first_alert is not None else None,
        "team_delay_h": _hours(noticed - start) if noticed is not None else None,
        "peak_at": peak_at,
        "peak_volume": peak_volume,
        "max_volume_ratio": max_ratio,
        "false_escalations_prev_week": false_week_all,
        "false_escalations_prev_week_topic": false_week_topic,
        "duration_h": _hours(end_known - start) if end_known is not None else None,
    }

    improvements = pd.DataFrame()
    if quantify and policy is not None and levels:
        improvements = quantify_improvements(
            policy,
            features,
            incident,
            level=target,
            current_alert_at=target_at,
            team_noticed_at=noticed,
            rules=rules,
            baseline_escalations=escalations,
            since=first_sign,
            until=peak_at,
            max_extra_per_month=max_extra_per_month,
        )
    over = improvements[~improvements["within_budget"].astype(bool)] if len(improvements) else []
    facts["proposals_over_budget"] = len(over)
    facts["target_owner"] = next(
        (str(t.owner) for t in (policy.tiers if policy is not None else ()) if t.level == target),
        None,
    )
    facts["max_extra_per_month"] = max_extra_per_month
    facts["measures_lacking"] = measures_lacking(
        features,
        [*(_policy_measures(policy) if policy is not None else []), *_OTHER_SIGNALS],
    )
    if len(improvements):
        improvements = improvements[improvements["within_budget"].astype(bool)]
        improvements = improvements.reset_index(drop=True)
    facts["improvement_sentence"] = _improvement_sentence(
        improvements, target, target_at is not None
    )

    sections = _draft_sections(incident, milestones, facts, improvements, policy, levels)
    facts["outcome_sentence"] = sections.pop("_outcome")
    return IncidentReview(
        incident_id=str(incident_id),
        incident=incident,
        milestones=milestones,
        sections=sections,
        facts=facts,
        improvements=improvements,
        context=ctx,
    )


def _policy_measures(policy: Any) -> list[str]:
    """Every measure a policy's conditions read, in plan order."""
    names = [c.feature for tier in policy.tiers for c in (*tier.all, *tier.any)]
    return list(dict.fromkeys(names))


def _recorded_rules(backtest_result: Any, max_early: Any, max_delay: Any) -> MatchRules:
    """The matching rules a backtest result records (its ``rules``, else its ``max_early`` and
    ``max_delay`` where it has them), else the ones given: a review and its backtest agree."""
    recorded = getattr(backtest_result, "rules", None)
    if isinstance(recorded, MatchRules):
        return recorded
    early = getattr(backtest_result, "max_early", None)
    return MatchRules.of(
        max_early if early is None else early, getattr(backtest_result, "max_delay", max_delay)
    )


def _backtest_row(backtest_result: Any, incident_id: str) -> pd.Series | None:
    frame = getattr(backtest_result, "incidents", None)
    if frame is None or "incident_id" not in frame or "tier_reached" not in frame:
        return None
    match = frame[frame["incident_id"].astype(str) == str(incident_id)]
    if match.empty or not bool(match.iloc[0].get("evaluated", True)):
        return None
    return match.iloc[0]


def _tier_thresholds_text(policy: Any, level: int) -> str:
    """``volume_ratio >= 2.5 for 2 windows, volume >= 10`` for tier ``level``."""
    if policy is None:
        return ""
    for tier in policy.tiers:
        if int(tier.level) != level:
            continue
        parts = [f"{c.feature} {c.op} {c.value:g}" for c in tier.conditions]
        text = tier.root.describe(exact=True) if tier.nested else " and ".join(parts)
        if tier.persistence > 1:
            text += f" for {tier.persistence} windows"
        if tier.min_volume is not None:
            text += f", volume >= {tier.min_volume:g}"
        return text
    return ""


def _draft_sections(
    incident: Mapping[str, Any],
    milestones: pd.DataFrame,
    f: Mapping[str, Any],
    improvements: pd.DataFrame,
    policy: Any,
    levels: list[int],
) -> dict[str, str]:
    start = utc_timestamp(incident["started_at"])
    sev, reached, target = f["severity"], f["tier_reached"], f["target_tier"]
    # Scope and milestones.
    name = _md_text(incident.get("title") or incident["incident_id"])
    scope = [
        f"**{name}** on topic `{_md_code(incident['topic'])}`, severity {sev}"
        + (f" ({_md_text(incident['category'])})" if incident.get("category") else "")
        + f"; started on social at {format_time(start)}"
        + (f", lasted {format_hours(f['duration_h'])}." if f["duration_h"] is not None else "."),
        "",
        "| milestone | time (UTC) | from start |",
        "|---|---|---|",
    ]
    for rec in milestones.itertuples(index=False):
        offset = ("+" if rec.hours_from_start >= 0 else "−") + format_hours(rec.hours_from_start)
        scope.append(f"| {rec.milestone} | {format_time(rec.at)} | {offset} |")

    well: list[str] = []
    notwell: list[str] = []
    lead = f["lead_time_h"]
    first_alert = f["first_alert_at"]
    if f["caught"]:
        outcome = f"Caught at tier {reached} (first alert {format_time(first_alert)})"
        if lead is not None and lead > 0:
            well.append(f"The policy caught it {format_hours(lead)} before the team noticed.")
            outcome += f", {format_hours(lead)} before the team noticed."
        elif lead is not None and lead < 0:
            notwell.append(
                f"The policy's first alert came {format_hours(lead)} after the team noticed."
            )
            outcome += f", {format_hours(lead)} after the team noticed."
        else:
            well.append(f"The policy escalated at {format_time(first_alert)}.")
            outcome += "."
        if f["detection_delay_h"] is not None and f["detection_delay_h"] > 0:
            well.append(
                f"First alert {format_hours(f['detection_delay_h'])} after the start on social."
            )
        elif f["detection_delay_h"] is not None:
            well.append(
                f"First alert {format_hours(f['detection_delay_h'])} before the recorded start."
            )
        if reached >= sev:
            well.append(f"Reached tier {reached}, matching severity {sev}.")
        else:
            notwell.append(f"Reached tier {reached} only, severity was {sev}.")
        if reached > sev:
            notwell.append(f"Over-escalated: reached tier {reached} for a severity-{sev} incident.")
    else:
        outcome = "Missed: no policy escalation in the incident's window."
        ratio = f["max_volume_ratio"]
        lowest = min(levels) if levels else 1
        rule = _tier_thresholds_text(policy, lowest)
        msg = "The policy did not escalate"
        if ratio is not None:
            msg += f"; the highest volume ratio was {ratio:.1f}× baseline"
        if rule:
            msg += f", against tier {lowest}'s rule `{rule}`"
        notwell.append(msg + ".")
    if f["team_delay_h"] is not None:
        (well if f["team_delay_h"] <= 2 else notwell).append(
            f"The team noticed {format_hours(f['team_delay_h'])} "
            f"{'after' if f['team_delay_h'] >= 0 else 'before'} the start on social."
        )
    n_all, n_topic = f["false_escalations_prev_week"], f["false_escalations_prev_week_topic"]
    if n_all:
        notwell.append(
            f"{n_all} false escalation{'s' if n_all != 1 else ''} in the preceding week "
            f"({n_topic} on this topic): alert fatigue may slow the response."
        )
    else:
        well.append("No false escalations in the preceding week: alerts were credible.")

    imp_lines = []
    if f["improvement_sentence"]:
        imp_lines.append(f["improvement_sentence"])
        others = improvements.iloc[1:4]
        for rec in others.itertuples(index=False):
            fname = str(rec.parameter).split("__", 1)[1]
            gain = (
                f"{format_hours(rec.hours_earlier)} earlier"
                if np.isfinite(rec.hours_earlier)
                else f"alert at {format_time(rec.first_alert_at)}"
            )
            imp_lines.append(
                f"Alternative: `{fname}` {rec.current:g} → {rec.proposed:g}: {gain}; "
                f"cost: {rec.alert_cost}."
            )
    elif f["first_alert_at_target"] is None:
        have = [name for name in _OTHER_SIGNALS if name not in f.get("measures_lacking", {})]
        signal = f" ({', '.join(n.replace('_', ' ') for n in have)})" if have else ""
        imp_lines.append(
            f"No single threshold change of tier {target} within the alert budget catches this "
            f"incident earlier; consider another signal{signal}."
        )
    else:
        imp_lines.append(f"Tier {target} already alerted as early as its thresholds allow.")
    n_over = f.get("proposals_over_budget", 0)
    if n_over:
        imp_lines.append(
            f"{n_over} other change{'s' if n_over != 1 else ''} would alert earlier but cost more "
            f"than {f['max_extra_per_month']:g} extra tier-{target} alerts a month: not proposed."
        )
    if n_all >= 7:
        imp_lines.append(
            f"Review the tier rules behind the {n_all} false escalations of the preceding week."
        )

    questions = []
    if f["team_noticed_at"] is None:
        questions.append(
            "When did the team first notice? (no detected_at or escalated_at recorded)"
        )
    if not f["caught"]:
        questions.append(
            "Was the issue visible in social volume at all, or did it surface elsewhere first?"
        )
    if f["caught"] and reached < sev:
        questions.append(
            f"What signal would have told tier {sev} apart early (negative share, reach, press)?"
        )
    if f["caught"] and lead is not None and lead > 0:
        questions.append(
            "Would the team have acted on the alert this early, given the alert volume at the time?"
        )
    questions.append("Who owns follow-up on each improvement, and by when?")

    return {
        "scope": "\n".join(scope),
        "went_well": bullet_list(well),
        "did_not_go_well": bullet_list(notwell),
        "improvements": bullet_list(imp_lines),
        "open_questions": bullet_list(questions),
        "_outcome": outcome,
    }


def pick_instructive_incident(
    incidents: pd.DataFrame,
    escalations: Escalations,
    *,
    max_early: str | pd.Timedelta = DEFAULT_MAX_EARLY,
    max_delay: str | pd.Timedelta | None = None,
) -> str:
    """The incident with most to learn from: missed or under-escalated at high severity first,
    then caught late; ties by severity, then start time, then id (deterministic). Alerts count
    by the backtest's rules with ``max_early`` and ``max_delay``."""
    if incidents.empty:
        raise DataLoadError("no incidents to review")
    a = incident_alerts(escalations, incidents, rules=MatchRules.of(max_early, max_delay))
    a["started_at"] = to_utc(incidents["started_at"]).to_numpy()
    missed = a["tier_reached"] == 0
    under = (~missed) & (a["tier_reached"] < a["severity"])
    late = (~missed) & (a["lead_time_h"] < 0)
    a["_rank"] = np.select([missed, under, late], [0, 1, 2], default=3)
    a = a.sort_values(
        ["_rank", "severity", "started_at", "incident_id"],
        ascending=[True, False, True, True],
        kind="stable",
    )
    return str(a["incident_id"].iloc[0])


__all__ = [
    "SECTIONS",
    "SECTION_TITLES",
    "IncidentReview",
    "false_episodes",
    "incident_alerts",
    "pick_instructive_incident",
    "quantify_improvements",
    "review_incident",
]
