"""Polls before the meeting: one short form per participant, folded into the notes when back.

:func:`poll_form` writes a participant's form (Markdown or YAML) with the five sections, each
prefilled with the facts the draft starts from (quoted: they are context, not answers).
:func:`read_form` reads a returned form; :func:`merge_forms` folds any number of them into the
notes at any time — before the first edit or after many: every new point is appended to its
section, attributed (``- point (alice)``), and remembered, so that merging the same form twice,
or a form after the facilitator rewrote or deleted its point, never brings anything back or
removes anything written. Each participant's reflections are kept as returned (``reflections``)
for the meeting report.
"""

from __future__ import annotations

import hashlib
import os
import re
from collections.abc import Iterable, Mapping
from pathlib import Path
from typing import Any

import yaml

from .._util.errors import DataLoadError
from .._util.html import markdown_defang
from ._notes import SECTION_TITLES, SECTIONS, empty_notes

FORM_KIND = "esc-analytics retrospective poll"
FORM_FORMATS = ("md", "yaml")

_BULLET = re.compile(r"^\s*(?:[-*+•](?=\s|$)|\d+[.)](?=\s|$))\s*")
_LIST_ITEM = re.compile(r"^\s*[-*+•]\s+")
_HEADING = re.compile(r"^\s*##\s+(.+?)\s*#*\s*$")
_FRONT = re.compile(r"\A---\s*\n(.*?)\n---\s*\n", re.DOTALL)
_TITLE_KEYS = {title.casefold(): key for key, title in SECTION_TITLES.items()}
_NOTHING = "- (nothing stands out)"
_NAME = re.compile(r"[^A-Za-z0-9._-]+")


def participant_file_stem(name: str) -> str:
    """A participant's name as a file name: letters, digits, ``. _ -`` (others become ``_``)."""
    stem = _NAME.sub("_", str(name).strip()).strip("._-")
    if not stem:
        raise DataLoadError(f"participant name {name!r} has no letter or digit")
    return stem[:60]


def _facts_lines(text: str, limit: int = 8) -> list[str]:
    """The first lines of a drafted section, as quoted context (Markdown tables skipped)."""
    lines = []
    for raw in str(text or "").splitlines():
        line = raw.strip()
        if not line or line.startswith("|"):
            continue
        lines.append(_LIST_ITEM.sub("", line))
        if len(lines) >= limit:
            break
    return lines


def poll_form(
    notes: Mapping[str, Any],
    participant: str,
    *,
    fmt: str = "md",
    title: str | None = None,
) -> str:
    """The poll form of ``participant`` for the retrospective whose draft is ``notes``: the
    five sections, each with the draft's facts quoted (``> …``) and room for their points."""
    if fmt not in FORM_FORMATS:
        raise DataLoadError(f"form format {fmt!r} unknown; use one of: {', '.join(FORM_FORMATS)}")
    name = " ".join(str(participant).split())
    if not name:
        raise DataLoadError("a participant needs a name")
    sections = notes.get("sections", {})
    subject = str(notes.get("incident_id", ""))
    if fmt == "yaml":
        doc = {
            "form": FORM_KIND,
            "incident_id": subject,
            "participant": name,
            "facts": {k: "\n".join(_facts_lines(sections.get(k, ""))) for k in SECTIONS},
            "sections": {k: "" for k in SECTIONS},
        }
        head = (
            "# Your reflections before the retrospective meeting: write your points under\n"
            "# 'sections' (one per line, starting with '- '); 'facts' is what the draft says.\n"
        )
        return head + yaml.safe_dump(doc, sort_keys=False, allow_unicode=True, width=100)
    front = yaml.safe_dump(
        {"form": FORM_KIND, "incident_id": subject, "participant": name},
        sort_keys=False,
        allow_unicode=True,
    )
    heading = title or f"Retrospective {subject}"
    parts = [
        f"---\n{front}---",
        f"# {markdown_defang(' '.join(heading.split()))}: reflections of {markdown_defang(name)}",
        "",
        "Write your points under each heading, one per line starting with `- `. The quoted",
        "lines (`>`) are what the draft says from the data: leave them, they are not counted.",
        "",
    ]
    for key, heading_text in SECTION_TITLES.items():
        parts.append(f"## {heading_text}")
        parts.append("")
        parts += [f"> {markdown_defang(line)}" for line in _facts_lines(sections.get(key, ""))]
        parts += ["", "- ", ""]
    return "\n".join(parts).rstrip() + "\n"


def _points(text: Any) -> list[str]:
    """The participant's points in a section's text: one per bullet or line, quotes skipped."""
    items = []
    for raw in str(text or "").splitlines():
        if raw.lstrip().startswith(">"):
            continue
        item = _BULLET.sub("", raw).strip()
        if item:
            items.append(" ".join(item.split()))
    return items


def read_form(path: str | os.PathLike[str]) -> dict[str, Any]:
    """A returned form (Markdown with its front matter, or YAML; also a participant's plain
    YAML notes) as ``{"incident_id", "participant", "sections"}`` with each section's points
    one per line. The participant defaults to the file's name."""
    source = str(path)
    file = Path(path)
    try:
        text = file.read_text(encoding="utf-8-sig")
    except FileNotFoundError as exc:
        raise DataLoadError("form not found", source=source) from exc
    except UnicodeDecodeError as exc:
        raise DataLoadError("form is not UTF-8 text", source=source) from exc
    meta: dict[str, Any] = {}
    sections: dict[str, list[str]] = {k: [] for k in SECTIONS}
    front = _FRONT.match(text)
    if file.suffix.lower() in (".md", ".markdown", ".txt") or front:
        if front:
            try:
                meta = yaml.safe_load(front.group(1)) or {}
            except yaml.YAMLError as exc:
                raise DataLoadError(
                    f"front matter is not valid YAML ({exc})", source=source
                ) from exc
            text = text[front.end() :]
        current = None
        for line in text.splitlines():
            heading = _HEADING.match(line)
            if heading:
                current = _TITLE_KEYS.get(heading.group(1).casefold())
                continue
            if current is not None:
                sections[current] += _points(line)
    else:
        try:
            doc = yaml.safe_load(text) or {}
        except yaml.YAMLError as exc:
            raise DataLoadError(f"not valid YAML ({exc})", source=source) from exc
        if not isinstance(doc, Mapping):
            raise DataLoadError("expected a form (a mapping with 'sections')", source=source)
        meta = {k: v for k, v in doc.items() if k not in SECTIONS and k != "sections"}
        given = doc.get("sections", {k: doc[k] for k in SECTIONS if k in doc})
        if not isinstance(given, Mapping):
            raise DataLoadError("'sections' must map section names to text", source=source)
        unknown = sorted(set(given) - set(SECTIONS))
        if unknown:
            raise DataLoadError(
                f"unknown section(s) {unknown}; allowed: {list(SECTIONS)}", source=source
            )
        for key in SECTIONS:
            sections[key] = _points(given.get(key))
    if not isinstance(meta, Mapping):
        meta = {}
    participant = " ".join(str(meta.get("participant") or file.stem).split())
    return {
        "incident_id": None if meta.get("incident_id") is None else str(meta["incident_id"]),
        "participant": participant,
        "sections": {k: "\n".join(v) for k, v in sections.items()},
    }


def _point_key(participant: str, section: str, point: str) -> str:
    text = "\x1f".join((participant.casefold(), section, " ".join(point.split()).casefold()))
    return hashlib.sha256(text.encode("utf-8", "surrogatepass")).hexdigest()[:16]


def merge_forms(
    notes: Mapping[str, Any] | None,
    forms: Iterable[Mapping[str, Any]],
    *,
    incident_id: str | None = None,
) -> tuple[dict[str, Any], int]:
    """Fold returned ``forms`` (see :func:`read_form`) into ``notes``; returns (new notes,
    number of points added). Nothing already in the notes is changed or removed: each new point
    is appended to its section as ``- point (participant)`` and remembered in ``merged``, so a
    point merged once is never added again (even after it was edited or deleted). Forms of
    another retrospective (their ``incident_id``) raise :class:`DataLoadError`."""
    subject = incident_id or (notes or {}).get("incident_id")
    doc = dict(notes) if notes else empty_notes(str(subject or ""))
    doc["sections"] = {k: str((doc.get("sections") or {}).get(k) or "") for k in SECTIONS}
    merged = list(doc.get("merged") or [])
    known = set(merged)
    reflections = {k: dict(v) for k, v in (doc.get("reflections") or {}).items()}
    added = 0
    for form in sorted(forms, key=lambda f: (str(f.get("participant", "")).casefold(), str(f))):
        who = " ".join(str(form.get("participant") or "").split())
        if not who:
            raise DataLoadError("a form without a participant's name cannot be attributed")
        if form.get("incident_id") and subject and str(form["incident_id"]) != str(subject):
            raise DataLoadError(
                f"the form of {who} is for {form['incident_id']!r}, not {subject!r}"
            )
        mine = reflections.setdefault(who, {})
        for key in SECTIONS:
            points = _points((form.get("sections") or {}).get(key))
            had = _points(mine.get(key))
            mine[key] = "\n".join(had + [p for p in points if p not in had])
            for point in points:
                mark = _point_key(who, key, point)
                if mark in known:
                    continue
                known.add(mark)
                merged.append(mark)
                body = doc["sections"][key].rstrip("\n")
                if body.strip() == _NOTHING:  # the draft's placeholder gives way
                    body = ""
                doc["sections"][key] = (body + "\n" if body else "") + f"- {point} ({who})"
                added += 1
        reflections[who] = {k: v for k, v in mine.items() if v}
    doc["reflections"] = dict(sorted(reflections.items(), key=lambda kv: kv[0].casefold()))
    doc["merged"] = merged
    return doc, added
