"""Retrospective reviewer: pick an incident, see its milestones, edit the five sections.

Notes autosave (atomic, previous version kept as ``.bak``) to ``<notes_dir>/<incident>.yaml``;
participants' notes collected before the meeting live in ``<notes_dir>/<incident>/<name>.yaml``
and are merged (attributed) into the draft; the previous retrospective's improvements and open
questions are carried over.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import ipywidgets as W
import pandas as pd
import plotly.graph_objects as go

from .._util.atomic import atomic_write_text
from .._util.errors import DataLoadError
from .._util.html import escape_text, markdown_text
from ..backtesting._backtest import backtest
from ..backtesting._matching import DEFAULT_MAX_EARLY
from ..escalations._evaluate import evaluate
from ..retro._draft import draft_notes
from ..retro._notes import (
    SECTION_TITLES,
    load_notes,
    load_participant_notes,
    notes_file_stem,
    notes_to_markdown,
    save_notes,
)
from ..retro._review import IncidentReview, pick_instructive_incident, review_incident
from ._common import DisplayMixin


class RetroReviewer(DisplayMixin):
    """Draft, edit and save the retrospective of an incident."""

    def __init__(
        self,
        features: pd.DataFrame,
        incidents: pd.DataFrame,
        policy: Any,
        *,
        mentions: pd.DataFrame | None = None,
        notes_dir: str | Path = "retro-notes",
        incident_id: str | None = None,
        previous_notes: dict | str | Path | None = None,
        max_early: str | pd.Timedelta = DEFAULT_MAX_EARLY,
    ) -> None:
        self.features, self.incidents, self.policy = features, incidents, policy
        self.mentions = mentions
        self.notes_dir = Path(notes_dir)
        self.max_early = max_early
        self.escalations = evaluate(policy, features)
        self.result = backtest(self.escalations, incidents, max_early=max_early)
        if isinstance(previous_notes, (str, Path)):
            previous_notes = load_notes(previous_notes)
        self.previous_notes = previous_notes
        ids = incidents["incident_id"].astype(str).tolist()
        first = incident_id or pick_instructive_incident(
            incidents, self.escalations, max_early=max_early
        )
        self.picker = W.Dropdown(options=ids, value=str(first), description="incident")
        self.picker.add_class("esc-retro-incident")
        self.figure = go.FigureWidget()
        self.figure.add_class("esc-retro-timeline")
        self.areas: dict[str, W.Textarea] = {}
        for key in SECTION_TITLES:
            area = W.Textarea(
                description="",
                layout=W.Layout(width="100%", height="140px"),
                continuous_update=False,
            )
            area.add_class("esc-retro-section")
            area.add_class(f"esc-retro-{key.replace('_', '-')}")
            area.observe(self._on_edit, names="value")
            self.areas[key] = area
        self.export_button = W.Button(description="export Markdown", icon="download")
        self.export_button.add_class("esc-retro-export")
        self.export_button.on_click(lambda _b: self.export_markdown())
        self.status = W.HTML()
        self._loading = False
        self.review: IncidentReview | None = None
        self.picker.observe(lambda c: self.select(c["new"]), names="value")
        sections = []
        for key, title in SECTION_TITLES.items():
            sections += [W.HTML(f"<h4>{title}</h4>"), self.areas[key]]
        self.widget = W.VBox(
            [self.picker, self.figure, *sections, W.HBox([self.export_button, self.status])]
        )
        self.select(str(first))

    # -- files -------------------------------------------------------------------------------
    def notes_path(self, incident_id: str | None = None) -> Path:
        """``<notes_dir>/<incident>.yaml``."""
        return self.notes_dir / f"{notes_file_stem(incident_id or self.picker.value)}.yaml"

    def participants_dir(self, incident_id: str | None = None) -> Path:
        """``<notes_dir>/<incident>/`` holding one ``<participant>.yaml`` per person."""
        return self.notes_dir / notes_file_stem(incident_id or self.picker.value)

    # -- actions -----------------------------------------------------------------------------
    def select(self, incident_id: str) -> None:
        """Show ``incident_id``: its milestones and its notes (saved ones, else a fresh draft)."""
        self.review = review_incident(
            incident_id,
            self.result,
            self.features,
            self.incidents,
            self.escalations,
            self.policy,
            self.mentions,
            max_early=self.max_early,
        )
        path = self.notes_path(incident_id)
        if path.exists() and self._holds_other_incident(path, incident_id):
            participants = load_participant_notes(self.participants_dir(incident_id))
            notes = draft_notes(self.review, self.previous_notes, participants)
            origin = f"{path.name} holds another incident's notes: not loaded (draft shown)"
        elif path.exists():
            notes = load_notes(path)
            origin = f"loaded {path.name}"
        else:
            participants = load_participant_notes(self.participants_dir(incident_id))
            notes = draft_notes(self.review, self.previous_notes, participants)
            origin = f"draft from facts ({len(participants)} participant notes merged)"
        self._loading = True
        try:
            for key, area in self.areas.items():
                area.value = notes["sections"].get(key, "")
        finally:
            self._loading = False
        fresh = self.review.plot()
        with self.figure.batch_update():
            self.figure.data = ()
            self.figure.layout = fresh.layout
            self.figure.add_traces(list(fresh.data))
        self.status.value = escape_text(origin)

    def current_notes(self) -> dict[str, Any]:
        """The notes as edited now."""
        return {
            "incident_id": str(self.picker.value),
            "sections": {k: a.value for k, a in self.areas.items()},
        }

    @staticmethod
    def _holds_other_incident(path: Path, incident_id: str) -> bool:
        """True when the notes file at ``path`` was saved for another incident (two ids that a
        case-insensitive file system maps to one name)."""
        saved = load_notes(path).get("incident_id")
        return saved is not None and str(saved) != str(incident_id)

    def save(self) -> Path:
        """Save the notes now (atomic; the previous version is kept as ``.bak``). Never over
        another incident's notes: that raises :class:`DataLoadError`."""
        target = self.notes_path()
        if target.exists() and self._holds_other_incident(target, str(self.picker.value)):
            message = f"not saved: {target.name} holds another incident's notes"
            self.status.value = escape_text(message)
            raise DataLoadError(message, source=str(target))
        path = save_notes(self.current_notes(), target)
        self.status.value = escape_text(f"saved {path.name}")
        return path

    def export_markdown(self, path: str | Path | None = None) -> Path:
        """Write the notes as Markdown (default ``<notes_dir>/<incident>.md``)."""
        target = Path(path) if path else self.notes_path().with_suffix(".md")
        title = f"Retrospective {markdown_text(self.picker.value)}"
        if self.review is not None and self.review.incident.get("title"):
            title += f": {markdown_text(self.review.incident['title'])}"
        atomic_write_text(target, notes_to_markdown(self.current_notes(), title=title), backup=True)
        self.status.value = escape_text(f"exported {target.name}")
        return target

    def _on_edit(self, _change: dict[str, Any]) -> None:
        if not self._loading:
            self.save()
