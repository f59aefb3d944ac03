"""Action items of a retrospective, and the previous retrospective found by itself.

An improvement the meeting keeps becomes an action item — what, who owns it, by when, and its
status — stored with the notes (``actions``). The next retrospective of the same topic (or,
for a period review, the next period) opens with the previous one's open actions and open
questions: :func:`find_previous_notes` finds that retrospective among the saved notes by topic
and time, with no path to give.
"""

from __future__ import annotations

import datetime as dt
import os
import re
from collections.abc import Iterable, Mapping
from pathlib import Path
from typing import Any

import pandas as pd

from .._util.errors import DataLoadError
from .._util.times import utc_timestamp
from ._notes import carry_over, load_notes

#: Statuses an action item may have; the first ones are still open.
ACTION_STATUSES: tuple[str, ...] = ("open", "in progress", "done", "dropped")
OPEN_STATUSES: frozenset[str] = frozenset({"open", "in progress"})
#: Days after the reviewed incident's (or period's) end by which a drafted action is due.
DEFAULT_DUE_DAYS = 14
UNASSIGNED = "to assign"

_BULLET = re.compile(r"^\s*(?:[-*+•]|\d+[.)])\s+")
_FIELD = re.compile(r"^\s*(owner|due|status)\s*:\s*(.*)$", re.IGNORECASE)


def make_action(
    action: str,
    *,
    owner: str | None = None,
    due: Any = None,
    status: str = "open",
    source: str | None = None,
) -> dict[str, Any]:
    """One action item as stored with the notes: ``action``, ``owner``, ``due`` (ISO date or
    ""), ``status`` (one of :data:`ACTION_STATUSES`) and ``source`` (the retrospective it
    comes from, when carried over)."""
    text = " ".join(str(action or "").split())
    if not text:
        raise DataLoadError("an action item needs a text")
    state = " ".join(str(status or "open").split()).casefold()
    if state not in ACTION_STATUSES:
        raise DataLoadError(
            f"action status {status!r} unknown; use one of: {', '.join(ACTION_STATUSES)}"
        )
    item: dict[str, Any] = {
        "action": text,
        "owner": " ".join(str(owner or "").split()) or UNASSIGNED,
        "due": _due_text(due),
        "status": state,
    }
    if source:
        item["source"] = str(source)
    return item


def _due_text(due: Any) -> str:
    if due is None or (not isinstance(due, str) and pd.isna(due)):
        return ""
    if isinstance(due, dt.datetime | pd.Timestamp):
        return pd.Timestamp(due).date().isoformat()
    if isinstance(due, dt.date):
        return due.isoformat()
    text = str(due).strip()
    if not text:
        return ""
    try:
        return pd.Timestamp(text).date().isoformat()
    except (ValueError, TypeError) as exc:
        raise DataLoadError(f"due date {text!r} is not a date (use YYYY-MM-DD)") from exc


def draft_actions(
    improvements: Iterable[str],
    *,
    owner: str | None = None,
    due: Any = None,
) -> list[dict[str, Any]]:
    """Action items drafted from improvement sentences (bullets or lines): each open, owned by
    ``owner`` (e.g. the owner of the tier a change concerns), due ``due``. Items carried over
    from an earlier retrospective are left out (they come back as that one's actions)."""
    out = []
    for line in improvements:
        for raw in str(line).splitlines():
            text = _BULLET.sub("", raw).strip()
            if text and "(carried over from" not in text:
                out.append(make_action(text, owner=owner, due=due))
    return out


def actions_to_text(actions: Iterable[Mapping[str, Any]]) -> str:
    """Action items as editable text, one a line: ``- what | owner: X | due: D | status: S``."""
    lines = []
    for item in actions:
        parts = [str(item.get("action", ""))]
        parts.append(f"owner: {item.get('owner') or UNASSIGNED}")
        parts.append(f"due: {item.get('due') or ''}".rstrip())
        parts.append(f"status: {item.get('status') or 'open'}")
        if item.get("source"):
            parts.append(f"from: {item['source']}")
        lines.append("- " + " | ".join(parts))
    return "\n".join(lines)


def actions_from_text(text: str) -> list[dict[str, Any]]:
    """Parse :func:`actions_to_text`'s lines back (a line without fields is an open action
    to assign). Raises :class:`DataLoadError` naming the line with a bad status or date."""
    out = []
    for number, raw in enumerate(str(text or "").splitlines(), start=1):
        line = _BULLET.sub("", raw).strip()
        if not line:
            continue
        head, *fields = [p.strip() for p in line.split("|")]
        values: dict[str, str] = {}
        source = None
        for part in fields:
            if part.lower().startswith("from:"):
                source = part.split(":", 1)[1].strip()
                continue
            match = _FIELD.match(part)
            if match:
                values[match.group(1).lower()] = match.group(2).strip()
            elif part:
                head = f"{head} | {part}"
        try:
            out.append(
                make_action(
                    head,
                    owner=values.get("owner"),
                    due=values.get("due"),
                    status=values.get("status") or "open",
                    source=source,
                )
            )
        except DataLoadError as exc:
            raise DataLoadError(f"action line {number}: {exc}") from exc
    return out


def open_actions(notes: Mapping[str, Any] | None) -> list[dict[str, Any]]:
    """The action items of ``notes`` still open (status open or in progress)."""
    return [dict(a) for a in (notes or {}).get("actions") or () if a.get("status") in OPEN_STATUSES]


def _notes_time(doc: Mapping[str, Any]) -> pd.Timestamp | None:
    """When a notes document's subject happened: a period's end, else the incident's start."""
    period = doc.get("period")
    if isinstance(period, Mapping) and period.get("end"):
        return utc_timestamp(period["end"])
    if doc.get("started_at"):
        return utc_timestamp(doc["started_at"])
    return None


def find_previous_notes(
    notes_dir: str | os.PathLike[str],
    *,
    before: Any,
    topic: str | None = None,
    kind: str | None = None,
    exclude: str | None = None,
) -> Path | None:
    """The saved retrospective to open this one with: among ``<notes_dir>/*.yaml``, the latest
    whose subject happened before ``before`` (an incident's start, a period's end) — of the
    same ``topic`` when one is, else of any — of the same ``kind`` (``"incident"`` or
    ``"period"``, None = either); never the notes of ``exclude`` (this retrospective's own id).
    None when there is none. Files that are not notes are skipped."""
    base = Path(notes_dir)
    if not base.is_dir():
        return None
    limit = utc_timestamp(before)
    found: list[tuple[int, pd.Timestamp, str, Path]] = []
    for file in sorted(base.glob("*.yaml")):
        try:
            doc = load_notes(file)
        except DataLoadError:
            continue
        if exclude is not None and str(doc.get("incident_id")) == str(exclude):
            continue
        doc_kind = "period" if doc.get("period") else "incident"
        if kind is not None and doc_kind != kind:
            continue
        when = _notes_time(doc)
        if when is None or (limit is not None and when >= limit):
            continue
        same = int(topic is not None and str(doc.get("topic")) == str(topic))
        found.append((same, when, file.name, file))
    if not found:
        return None
    return max(found)[3]


def carry_over_notes(previous: Mapping[str, Any] | None) -> dict[str, Any]:
    """What the next retrospective inherits from ``previous``: its open questions (marked with
    their origin) and its open action items (``source`` set). A previous retrospective with no
    action items (written before they existed) passes on its improvements as text instead."""
    if not previous:
        return {"sections": {}, "actions": []}
    origin = str(previous.get("incident_id", "") or "the previous retrospective")
    carried = carry_over(previous)
    actions = [{**item, "source": item.get("source") or origin} for item in open_actions(previous)]
    sections = {"open_questions": carried.get("open_questions", "")}
    if not previous.get("actions"):
        sections["improvements"] = carried.get("improvements", "")
    return {"sections": sections, "actions": actions}
