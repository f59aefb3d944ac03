"""The retrospective of a period — a quarter, a campaign — drafted from the facts.

Pure computation: a backtest result × features × incidents × escalations (× planned events)
→ :class:`PeriodReview`: the scope, the phases and milestones of the period on one timeline
(planned events, incidents, the weeks), every incident of the period with its outcome, the
plan's alert load per week and tier (false alerts apart), and the five template sections
written from those numbers. Its notes use the same machinery as an incident's (the notes file
is keyed by the period's id).
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

import numpy as np
import pandas as pd

from .._util.errors import DataLoadError
from .._util.format import format_hours, format_time
from .._util.html import markdown_text
from .._util.times import to_utc, utc_timestamp
from ..escalations._escalations import Escalations
from ._notes import bullet_list, notes_to_markdown

if TYPE_CHECKING:  # pragma: no cover
    import plotly.graph_objects as go

#: The backtest's outcomes as a meeting reads them.
OUTCOME_WORDS = {
    "missed": "missed",
    "under": "caught, below its severity",
    "exact": "caught at its severity",
    "over": "caught, above its severity",
    "not_evaluated": "not evaluated",
}
_SLUG = re.compile(r"[^A-Za-z0-9._-]+")
WEEK = pd.Timedelta(days=7)


@dataclass(frozen=True)
class PeriodReview:
    """The drafted retrospective of a period.

    Attributes
    ----------
    incident_id : the period's id (the key of its notes file), e.g.
        ``period-2026-02-01-2026-04-30``.
    name, start, end : what the period is called and its bounds (UTC; ``end`` excluded).
    incidents : one row per incident started in the period: ``incident_id, topic, severity,
        title, started_at, outcome, tier_reached, first_alert_at, lead_time_h``.
    phases : ``phase, kind, topic, started_at, ended_at`` — planned events (launches,
        campaigns) and incidents of the period, for the timeline.
    alert_load : per week (``week`` = its Monday) and tier: ``alerts`` and ``false_alerts``.
    sections : the five template sections, as Markdown.
    facts : the numbers behind the sentences.
    """

    incident_id: str
    name: str
    start: pd.Timestamp
    end: pd.Timestamp
    incidents: pd.DataFrame
    phases: pd.DataFrame
    alert_load: pd.DataFrame
    sections: dict[str, str]
    facts: dict[str, Any] = field(default_factory=dict)

    def summary(self) -> str:
        """A few lines: the period, its incidents by outcome, its alert load."""
        f = self.facts
        return (
            f"{self.name}: {f['n_incidents']} incident(s), {f['n_caught']} caught, "
            f"{f['n_missed']} missed; {f['alerts']} alert(s), {f['false_alerts']} false "
            f"({f['alerts_per_week']:.1f} a week)"
        )

    def notes_meta(self) -> dict[str, Any]:
        """What the notes file records so that the next period review finds this one."""
        return {
            "kind": "period",
            "name": self.name,
            "period": {"start": self.start.isoformat(), "end": self.end.isoformat()},
            "topic": self.facts.get("topic_scope"),
        }

    def action_texts(self) -> list[str]:
        """The improvements of the draft worth an action item (its bullets)."""
        items = []
        for line in str(self.sections.get("improvements", "")).splitlines():
            text = line.lstrip("-* ").strip()
            if text and not text.startswith("("):
                items.append(text)
        return items

    def action_owner(self) -> str | None:
        """Who owns the drafted actions: the owner of the plan's first tier."""
        return self.facts.get("first_tier_owner")

    def action_due(self) -> pd.Timestamp:
        """Two weeks after the period's end."""
        return self.end + pd.Timedelta(days=14)

    def to_notes(self) -> dict[str, Any]:
        """The draft as a notes document."""
        return {
            "incident_id": self.incident_id,
            **self.notes_meta(),
            "sections": dict(self.sections),
        }

    def to_markdown(self) -> str:
        """The draft as Markdown with the five template headings."""
        return notes_to_markdown(self.to_notes(), title=f"Retrospective {markdown_text(self.name)}")

    def to_frame(self) -> pd.DataFrame:
        """The incidents of the period with their outcomes."""
        return self.incidents.copy()

    def plot(self, **kwargs: Any) -> go.Figure:
        """Phases, milestones and incidents of the period on one timeline."""
        from ..plots._retro import period_figure

        return period_figure(self, **kwargs)

    def plot_alert_load(self, **kwargs: Any) -> go.Figure:
        """The plan's alerts per week and tier, false alerts apart."""
        from ..plots._retro import alert_load_figure

        return alert_load_figure(self, **kwargs)


def period_id(start: pd.Timestamp, end: pd.Timestamp, name: str | None = None) -> str:
    """The notes key of a period: ``period-<start>-<end>`` (dates), with the name's letters when
    one is given (``period-q1-launch-2026-01-01-2026-03-31``)."""
    slug = _SLUG.sub("-", str(name or "").strip()).strip("-._").lower()[:40]
    last = (end - pd.Timedelta("1ns")).date().isoformat()
    return "-".join(p for p in ("period", slug, start.date().isoformat(), last) if p)


def _bounds(start: Any, end: Any) -> tuple[pd.Timestamp, pd.Timestamp]:
    lo, hi = utc_timestamp(start), utc_timestamp(end)
    if lo is None or hi is None:
        raise DataLoadError(f"a period needs a start and an end, got {start!r} and {end!r}")
    if isinstance(end, str) and len(end.strip()) <= 10:  # a date: the whole day is in
        hi = hi + pd.Timedelta(days=1)
    if hi <= lo:
        raise DataLoadError(f"the period ends ({hi}) before it starts ({lo})")
    return lo, hi


def review_period(
    start: Any,
    end: Any,
    backtest_result: Any,
    features: pd.DataFrame,
    incidents: pd.DataFrame,
    escalations: Escalations,
    policy: Any = None,
    *,
    planned_events: pd.DataFrame | None = None,
    topics: list[str] | None = None,
    name: str | None = None,
) -> PeriodReview:
    """Draft the retrospective of the period from ``start`` to ``end`` (a date as ``end``
    includes that day): every incident started in it with its outcome as ``backtest_result``
    judged it, the plan's alerts per week and tier (``escalations``' notifications, false ones
    those the backtest matched to no incident), the planned events and incidents as phases on
    one timeline, and the five sections written from those facts. ``topics`` narrows the scope
    (a campaign on one brand); ``name`` names the period (``"Q1 2026"``)."""
    lo, hi = _bounds(start, end)
    if backtest_result is None or not hasattr(backtest_result, "incidents"):
        raise DataLoadError("review_period needs the backtest result of the plan (esc.backtest)")
    scope = [str(t) for t in topics] if topics else None
    known = sorted({str(t) for t in features["topic"].unique()}) if len(features) else []
    if scope is not None and not set(scope) & set(known):
        raise DataLoadError(
            f"no topic of {scope} in the data; its topics are: {', '.join(known) or '(none)'}"
        )
    label = name or f"{lo:%Y-%m-%d} to {(hi - pd.Timedelta('1ns')):%Y-%m-%d}"

    frame = backtest_result.incidents.copy()
    frame["started_at"] = to_utc(frame["started_at"])
    inside = (frame["started_at"] >= lo) & (frame["started_at"] < hi)
    if scope is not None:
        inside &= frame["topic"].astype(str).isin(scope)
    rows = frame.loc[inside].sort_values(["started_at", "incident_id"], kind="stable")
    titles = incidents.set_index(incidents["incident_id"].astype(str))
    lead = rows["lead_time"] / pd.Timedelta("1h") if "lead_time" in rows else np.nan
    table = pd.DataFrame(
        {
            "incident_id": rows["incident_id"].astype(str).to_numpy(),
            "topic": rows["topic"].astype(str).to_numpy(),
            "severity": rows["severity"].to_numpy(),
            "title": [
                str(titles["title"].get(str(i), "")) if "title" in titles else ""
                for i in rows["incident_id"].astype(str)
            ],
            "started_at": rows["started_at"].to_numpy(),
            "outcome": [OUTCOME_WORDS.get(str(o), str(o)) for o in rows["outcome"]],
            "tier_reached": rows["tier_reached"].to_numpy(),
            "first_alert_at": to_utc(rows["first_alert_at"]).to_numpy(),
            "lead_time_h": np.asarray(lead, dtype=float),
        }
    )
    if len(table):
        table["started_at"] = to_utc(table["started_at"])
        table["first_alert_at"] = to_utc(table["first_alert_at"])

    # Alert load per week and tier (weeks start on Monday, UTC).
    notes = escalations.notifications
    at = to_utc(notes["alerted_at"])
    keep = (at >= lo) & (at < hi)
    if scope is not None:
        keep &= notes["topic"].astype(str).isin(scope)
    sent = notes.loc[keep].assign(alerted_at=at[keep])
    falses = getattr(backtest_result, "false_alerts", pd.DataFrame())
    false_keys = set()
    if len(falses):
        false_keys = set(
            zip(falses["topic"], to_utc(falses["alerted_at"]), falses["tier"], strict=True)
        )
    sent["false"] = [
        (t, a, k) in false_keys
        for t, a, k in zip(sent["topic"], sent["alerted_at"], sent["tier"], strict=True)
    ]
    first_monday = (lo - pd.Timedelta(days=lo.dayofweek)).normalize()
    weeks = pd.date_range(first_monday, hi, freq="7D", inclusive="left")
    levels = sorted(int(t.level) for t in policy.tiers) if policy is not None else []
    levels = sorted(set(levels) | {int(t) for t in sent["tier"].unique()})
    week_of = (
        sent["alerted_at"] - pd.to_timedelta(sent["alerted_at"].dt.dayofweek, unit="D")
    ).dt.normalize()
    load_rows = []
    for week in weeks:
        in_week = sent[week_of == week]
        for level in levels:
            at_level = in_week[in_week["tier"] == level]
            load_rows.append(
                {
                    "week": week,
                    "tier": level,
                    "alerts": len(at_level),
                    "false_alerts": int(at_level["false"].sum()),
                }
            )
    load = pd.DataFrame(load_rows, columns=["week", "tier", "alerts", "false_alerts"])

    # Phases: planned events and incidents inside the period.
    phase_rows = []
    if planned_events is not None and len(planned_events):
        ev = planned_events.copy()
        ev_start, ev_end = to_utc(ev["started_at"]), to_utc(ev["ended_at"])
        overlap = (ev_start < hi) & (ev_end > lo)
        if scope is not None:
            overlap &= ev["topic"].astype(str).isin(scope)
        for i in np.flatnonzero(overlap.to_numpy()):
            rec = ev.iloc[i]
            phase_rows.append(
                {
                    "phase": str(rec.get("name") or rec.get("event_id") or "planned event"),
                    "kind": str(rec.get("kind") or "planned event"),
                    "topic": str(rec["topic"]),
                    "started_at": ev_start.iloc[i],
                    "ended_at": ev_end.iloc[i],
                }
            )
    for rec in rows.itertuples(index=False):
        ended = utc_timestamp(getattr(rec, "ended_at", None))
        phase_rows.append(
            {
                "phase": str(rec.incident_id),
                "kind": "incident",
                "topic": str(rec.topic),
                "started_at": rec.started_at,
                "ended_at": ended if ended is not None else rec.started_at + pd.Timedelta("1h"),
            }
        )
    phases = pd.DataFrame(phase_rows, columns=["phase", "kind", "topic", "started_at", "ended_at"])
    if len(phases):
        phases = phases.sort_values(["started_at", "phase"], kind="stable").reset_index(drop=True)

    window_start = (
        to_utc(features["window_start"]) if len(features) else pd.Series([], dtype=object)
    )
    covered = int(((window_start >= lo) & (window_start < hi)).sum()) if len(features) else 0
    n_weeks = max(float((hi - lo) / WEEK), 1e-9)
    facts: dict[str, Any] = {
        "n_incidents": len(table),
        "n_caught": int(table["outcome"].str.startswith("caught").sum()) if len(table) else 0,
        "n_missed": int((table["outcome"] == "missed").sum()) if len(table) else 0,
        "n_late": int((table["lead_time_h"] < 0).sum()) if len(table) else 0,
        "n_not_evaluated": int((table["outcome"] == "not evaluated").sum()) if len(table) else 0,
        "alerts": len(sent),
        "false_alerts": int(sent["false"].sum()),
        "alerts_per_week": len(sent) / n_weeks,
        "false_per_week": float(sent["false"].sum()) / n_weeks,
        "weeks": n_weeks,
        "topic_scope": ", ".join(scope) if scope else None,
        "first_tier_owner": str(policy.tiers[0].owner)
        if policy is not None and policy.tiers
        else None,
        "busiest_week": None,
        "windows_in_period": covered,
        "data_span": (window_start.min(), window_start.max()) if len(features) else None,
    }
    if len(load) and load["alerts"].sum():
        per_week = load.groupby("week")["alerts"].sum()
        facts["busiest_week"] = (per_week.idxmax(), int(per_week.max()))
    sections = _draft_period_sections(label, lo, hi, scope, table, phases, facts)
    return PeriodReview(
        incident_id=period_id(lo, hi, name),
        name=label,
        start=lo,
        end=hi,
        incidents=table,
        phases=phases,
        alert_load=load,
        sections=sections,
        facts=facts,
    )


def _draft_period_sections(
    label: str,
    lo: pd.Timestamp,
    hi: pd.Timestamp,
    scope: list[str] | None,
    table: pd.DataFrame,
    phases: pd.DataFrame,
    f: dict[str, Any],
) -> dict[str, str]:
    md = markdown_text
    where = (
        f"topics {', '.join(f'`{t}`' for t in map(lambda s: s.replace('`', ''), scope))}"
        if scope
        else "every topic"
    )
    scope_lines = [
        f"**{md(label)}**: {format_time(lo)} to {format_time(hi)} ({f['weeks']:.1f} weeks), "
        f"{where}; {f['n_incidents']} incident(s), {f['alerts']} alert(s) of the plan.",
    ]
    if not f["windows_in_period"]:
        span = f["data_span"]
        scope_lines.append(
            "The data holds no window in this period"
            + (f" (it covers {format_time(span[0])} to {format_time(span[1])})" if span else "")
            + ": there is nothing to review in it."
        )
    planned = phases[phases["kind"] != "incident"] if len(phases) else phases
    if len(planned):
        scope_lines += ["", "Phases and milestones:"]
        scope_lines += [
            f"- {md(p.phase)} ({md(p.kind)}, {md(p.topic)}): {format_time(p.started_at)} to "
            f"{format_time(p.ended_at)}"
            for p in planned.itertuples(index=False)
        ]
    if len(table):
        scope_lines += [
            "",
            "| incident | topic | severity | started (UTC) | outcome | tier reached |",
        ]
        scope_lines += ["|---|---|---|---|---|---|"]
        for r in table.itertuples(index=False):
            scope_lines.append(
                f"| {md(r.incident_id)} | {md(r.topic)} | {r.severity} "
                f"| {format_time(r.started_at)} | {r.outcome} | {int(r.tier_reached)} |"
            )
    well, notwell, improve, questions = [], [], [], []
    caught = table[table["outcome"].str.startswith("caught")] if len(table) else table
    early = caught[caught["lead_time_h"] > 0] if len(caught) else caught
    if len(early):
        well.append(
            f"{len(early)} of {f['n_incidents']} incident(s) alerted before the team noticed "
            f"(median {format_hours(float(early['lead_time_h'].median()))} earlier)."
        )
    if f["n_incidents"] and f["n_missed"] == 0 and f["n_not_evaluated"] < f["n_incidents"]:
        well.append("No incident of the period was missed by the plan.")
    if f["n_missed"]:
        missed = table[table["outcome"] == "missed"]
        notwell.append(
            f"{f['n_missed']} incident(s) missed: "
            + ", ".join(md(i) for i in missed["incident_id"])
            + "."
        )
        improve.append(
            "Review each missed incident's retrospective (notebook 04) and the smallest "
            "threshold change it proposes."
        )
    if f["n_late"]:
        notwell.append(f"{f['n_late']} incident(s) alerted only after the team had noticed them.")
    under = (
        table[(table["tier_reached"] > 0) & (table["tier_reached"] < table["severity"])]
        if len(table)
        else table
    )
    if len(under):
        notwell.append(
            f"{len(under)} incident(s) reached a lower tier than their severity: "
            + ", ".join(md(i) for i in under["incident_id"])
            + "."
        )
    if f["alerts"]:
        share = f["false_alerts"] / f["alerts"]
        sentence = (
            f"The plan sent {f['alerts']} alert(s), about {f['alerts_per_week']:.1f} a week; "
            f"{f['false_alerts']} matched no incident ({share:.0%})."
        )
        (notwell if f["false_per_week"] > 2 else well).append(sentence)
        if f["false_per_week"] > 2:
            improve.append(
                f"Bring false alerts down from {f['false_per_week']:.1f} a week: recalibrate "
                "with a lower false-alert budget (esc-analytics calibrate --max-false-per-week)."
            )
        if f["busiest_week"] is not None:
            week, count = f["busiest_week"]
            questions.append(
                f"The busiest week (from {week:%Y-%m-%d}) had {count} alert(s): was the team "
                "able to act on each of them?"
            )
    else:
        (notwell if f["n_incidents"] else well).append("The plan sent no alert in the period.")
    if f["n_not_evaluated"]:
        questions.append(
            f"{f['n_not_evaluated']} incident(s) could not be evaluated (outside the data): "
            "is data missing for them?"
        )
    if len(planned):
        questions.append(
            "Did the planned phases (launches, campaigns) raise alerts that the team expected?"
        )
    if not f["n_incidents"]:
        questions.append("No incident was logged in the period: was nothing missed from the log?")
    questions.append("Who owns follow-up on each improvement, and by when?")

    return {
        "scope": "\n".join(scope_lines),
        "went_well": bullet_list(well),
        "did_not_go_well": bullet_list(notwell),
        "improvements": bullet_list(improve),
        "open_questions": bullet_list(questions),
    }
