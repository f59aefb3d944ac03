"""Retrospective notes: the five template sections kept on disk, never lost.

Pure helpers (``carry_over``, ``merge_participant_notes``, ``notes_to_markdown``) plus the only
file I/O of the retrospective: atomic saves with a backup of the previous version, and the
per-participant files collected before the meeting (``retro-notes/INC-007/alice.yaml``).
"""

from __future__ import annotations

import hashlib
import os
import re
from collections.abc import Mapping
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import yaml

from .._util.atomic import atomic_write_text
from .._util.errors import DataLoadError
from .._util.html import markdown_defang, markdown_text

# The retrospective template, in meeting order: key -> heading.
SECTION_TITLES: dict[str, str] = {
    "scope": "Scope and milestones",
    "went_well": "What went well",
    "did_not_go_well": "What did not go well",
    "improvements": "Improvements",
    "open_questions": "Open questions",
}
SECTIONS: tuple[str, ...] = tuple(SECTION_TITLES)
# Sections that the next retrospective inherits from this one.
CARRIED_SECTIONS: tuple[str, ...] = ("improvements", "open_questions")
NOTES_FORMAT_VERSION = 2  # 2: action items, merged reflections, subject (topic, time)

_BULLET = re.compile(r"^\s*(?:[-*+•]|\d+[.)])\s+")
_CARRIED_MARK = re.compile(r"\s*\(carried over from [^)]*\)\s*$")
# Ids used as file names unchanged; others are hashed (see notes_file_stem).
_PLAIN_ID = re.compile(r"[A-Za-z0-9_][A-Za-z0-9._-]{0,79}")
# Endings that would make an id's participants folder meet another id's notes or backup file.
_RESERVED_ENDINGS = (".yaml", ".yml", ".bak", ".tmp", ".md", ".")
_LINE_BREAKS = re.compile(r"[\r\n\u2028\u2029]+")


def empty_notes(incident_id: str) -> dict[str, Any]:
    """A fresh notes document for ``incident_id``: every template section, empty."""
    return {
        "format": NOTES_FORMAT_VERSION,
        "incident_id": str(incident_id),
        "sections": {key: "" for key in SECTIONS},
    }


def _section_items(text: str) -> list[str]:
    """Split a section's text into items: one per bullet line, or per non-empty line."""
    items = []
    for line in str(text or "").splitlines():
        item = _BULLET.sub("", line).strip()
        if item:
            items.append(item)
    return items


def carry_over(previous_notes: Mapping[str, Any] | None) -> dict[str, str]:
    """The previous retrospective's improvements and open questions, as bulleted text that
    prefills the same sections of the next one (each item marked with its origin, no repeats)."""
    result = {key: "" for key in CARRIED_SECTIONS}
    if not previous_notes:
        return result
    sections = previous_notes.get("sections", previous_notes)
    if not isinstance(sections, Mapping):
        raise DataLoadError("previous notes have no 'sections' mapping")
    origin = str(previous_notes.get("incident_id", "") or "the previous retrospective")
    for key in CARRIED_SECTIONS:
        seen: set[str] = set()
        lines = []
        for item in _section_items(sections.get(key, "")):
            bare = _CARRIED_MARK.sub("", item).strip()
            if bare.casefold() in seen:
                continue
            seen.add(bare.casefold())
            lines.append(f"- {bare} (carried over from {origin})")
        result[key] = "\n".join(lines)
    return result


def merge_participant_notes(
    notes_by_participant: Mapping[str, Mapping[str, Any]],
) -> dict[str, str]:
    """Merge per-participant notes into one text per section, each item attributed.

    Deterministic: participants in name order, items in each participant's order; an item
    written identically by several participants appears once, naming all of them.
    """
    merged: dict[str, str] = {}
    for key in SECTIONS:
        order: list[str] = []
        authors: dict[str, list[str]] = {}
        for participant in sorted(notes_by_participant, key=lambda p: (p.casefold(), p)):
            notes = notes_by_participant[participant] or {}
            sections = notes.get("sections", notes)
            for item in _section_items(sections.get(key, "") if sections else ""):
                norm = item.casefold()
                if norm not in authors:
                    order.append(item)
                    authors[norm] = []
                if participant not in authors[norm]:
                    authors[norm].append(participant)
        merged[key] = "\n".join(
            f"- {item} ({', '.join(authors[item.casefold()])})" for item in order
        )
    return merged


def combine_texts(*texts: str) -> str:
    """Join section texts (draft, carried-over items, participants' notes), skipping blanks."""
    return "\n".join(t.strip("\n") for t in texts if t and t.strip())


def notes_to_markdown(notes: Mapping[str, Any], *, title: str | None = None) -> str:
    """The notes as a Markdown document with the five template headings in order.

    ``title`` is Markdown (escape data in it with ``markdown_text``); by default "Retrospective
    <incident id>" with the id escaped. Sections are people's text mixed with the draft's
    Markdown: links, images and raw HTML in them are neutralised (``markdown_defang``), bullets
    and emphasis kept."""
    sections = notes.get("sections", {})
    head = title or f"Retrospective {markdown_text(notes.get('incident_id', ''))}".strip()
    parts = [f"# {markdown_defang(_LINE_BREAKS.sub(' ', head))}", ""]
    for key, heading in SECTION_TITLES.items():
        body = markdown_defang(str(sections.get(key) or "").strip()) or "_(nothing recorded)_"
        parts += [f"## {heading}", "", body, ""]
    return "\n".join(parts).rstrip() + "\n"


# --- files -----------------------------------------------------------------------------------


def _validate(notes: Any, source: str) -> dict[str, Any]:
    if not isinstance(notes, Mapping):
        raise DataLoadError("expected a mapping with 'incident_id' and 'sections'", source=source)
    if "sections" not in notes and set(notes) & set(SECTIONS):
        # A participant's hand-written file: section names at the top level.
        meta = {k: v for k, v in notes.items() if k not in SECTIONS}
        notes = {**meta, "sections": {k: v for k, v in notes.items() if k in SECTIONS}}
    sections = notes.get("sections", {})
    if not isinstance(sections, Mapping):
        raise DataLoadError("'sections' must map section names to text", source=source)
    unknown = sorted(set(sections) - set(SECTIONS))
    if unknown:
        raise DataLoadError(
            f"unknown section(s) {unknown}; allowed: {list(SECTIONS)}", source=source
        )
    actions = notes.get("actions") or []
    if not isinstance(actions, list) or not all(
        isinstance(a, Mapping) and str(a.get("action") or "").strip() for a in actions
    ):
        raise DataLoadError(
            "'actions' must be a list of items each with an 'action'", source=source
        )
    out = dict(notes)
    out["sections"] = {key: str(sections.get(key) or "") for key in SECTIONS}
    if actions:
        out["actions"] = [dict(a) for a in actions]
    return out


def save_notes(
    notes: Mapping[str, Any], path: str | os.PathLike[str], *, backup: bool = True
) -> Path:
    """Save retrospective notes as YAML, atomically, keeping the previous version as ``.bak``."""
    doc = _validate(notes, str(path))
    doc["format"] = NOTES_FORMAT_VERSION
    doc["saved_at"] = datetime.now(UTC).isoformat(timespec="seconds")
    text = yaml.safe_dump(doc, sort_keys=False, allow_unicode=True, width=100)
    return atomic_write_text(path, text, backup=backup)


def load_notes(path: str | os.PathLike[str]) -> dict[str, Any]:
    """Load notes saved by :func:`save_notes` (or written by hand with the same keys)."""
    source = str(path)
    try:
        raw = yaml.safe_load(Path(path).read_text(encoding="utf-8"))
    except FileNotFoundError as exc:
        raise DataLoadError("notes file not found", source=source) from exc
    except yaml.YAMLError as exc:
        raise DataLoadError(f"not valid YAML ({exc})", source=source) from exc
    return _validate(raw or {}, source)


def load_participant_notes(folder: str | os.PathLike[str]) -> dict[str, dict[str, Any]]:
    """Read every ``<participant>.yaml`` in ``folder`` (one file per participant), by name.

    A missing folder means nobody wrote notes yet (empty result)."""
    base = Path(folder)
    if not base.exists():
        return {}
    found: dict[str, dict[str, Any]] = {}
    for file in sorted(base.iterdir()):
        if file.suffix.lower() in (".yaml", ".yml") and not file.name.startswith("."):
            found[file.stem] = load_notes(file)
    return found


def notes_file_stem(incident_id: object) -> str:
    """The file name (without ``.yaml``) of an incident's notes; distinct ids always get
    distinct names.

    A short plain id (letters, digits, ``.``, ``_``, ``-``; at most 80 characters; not starting
    with a dot or dash) is its own name, as before: ``INC-007`` → ``INC-007``. Any other id
    (``INC/7``, ``INC 7``, unicode, 300 characters...) gets a readable ASCII prefix and ``~``
    plus 16 hex digits of its SHA-256: ``INC/7`` → ``INC_7~3c4f...``. A plain id never contains
    ``~``, so the two kinds never meet; the notes file keeps the exact id inside
    (``incident_id``)."""
    text = str(incident_id)
    if _PLAIN_ID.fullmatch(text) and not text.lower().endswith(_RESERVED_ENDINGS):
        return text
    prefix = re.sub(r"[^A-Za-z0-9._-]+", "_", text).strip("._-")[:40] or "incident"
    digest = hashlib.sha256(text.encode("utf-8", "surrogatepass")).hexdigest()[:16]
    return f"{prefix}~{digest}"


def bullet_list(items: list[str]) -> str:
    """A drafted section's Markdown bullets (one per item), or a placeholder when empty."""
    return "\n".join(f"- {s}" for s in items) if items else "- (nothing stands out)"
