"""Retrospective reviewers: an incident's (pick one, see its milestones) or a period's; edit the
five sections and the action items.

Notes autosave (atomic, previous version kept as ``.bak``) to ``<notes_dir>/<id>.yaml``. Poll
forms returned by participants (``esc-analytics retro poll``) dropped in ``<notes_dir>/<id>/``
(Markdown or YAML) are folded in, attributed, whenever the reviewer opens the retrospective —
before or after edits, nothing already written is lost (``esc-analytics retro merge`` does the
same from the command line). The previous retrospective of the same topic (or the previous
period) is found in ``notes_dir`` by itself; its open action items and open questions open
this one. In a meeting report (``render --meeting``) a reviewer shows its notes, the
participants' reflections and the action items as formatted text and tables.
"""

from __future__ import annotations

import contextlib
from pathlib import Path
from typing import Any

import ipywidgets as W
import pandas as pd
import plotly.graph_objects as go

from .._util.atomic import atomic_write_text
from .._util.errors import DataLoadError
from .._util.html import escape_text, markdown_defang, markdown_text
from ..backtesting._backtest import backtest
from ..backtesting._matching import DEFAULT_MAX_EARLY
from ..escalations._evaluate import evaluate
from ..retro._actions import actions_from_text, actions_to_text, find_previous_notes
from ..retro._draft import draft_notes
from ..retro._notes import (
    SECTION_TITLES,
    combine_texts,
    load_notes,
    notes_file_stem,
    notes_to_markdown,
    save_notes,
)
from ..retro._poll import merge_forms, read_form
from ..retro._review import (
    DEFAULT_MAX_EXTRA_PER_MONTH,
    IncidentReview,
    pick_instructive_incident,
    review_incident,
)
from ._common import DisplayMixin, html_table

ACTIONS_HELP = "one a line: - what | owner: who | due: YYYY-MM-DD | status: open/in progress/done"


def read_forms_in(folder: Path) -> list[dict[str, Any]]:
    """Every returned form or participant's notes file (``*.md``, ``*.yaml``, ``*.yml``) in
    ``folder``, in name order; none when the folder does not exist."""
    if not folder.is_dir():
        return []
    return [
        read_form(f)
        for f in sorted(folder.iterdir())
        if f.is_file()
        and f.suffix.lower() in (".md", ".yaml", ".yml")
        and not f.name.startswith(".")
    ]


class _NotesEditor(DisplayMixin):
    """The notes of one retrospective at a time: five section boxes and the action items,
    autosaved, poll forms merged, the previous retrospective carried over."""

    notes_dir: Path
    review: Any

    def _build_editor(self, previous_notes: dict | str | Path | None) -> None:
        if isinstance(previous_notes, str | Path):
            previous_notes = load_notes(previous_notes)
        self.previous_given = previous_notes
        self.previous_notes: dict | None = previous_notes
        self.areas: dict[str, W.Textarea] = {}
        for key in (*SECTION_TITLES, "actions"):
            area = W.Textarea(
                description="",
                placeholder=ACTIONS_HELP if key == "actions" else "",
                layout=W.Layout(width="100%", height="140px"),
                continuous_update=False,
            )
            area.add_class("esc-retro-section")
            area.add_class(f"esc-retro-{key.replace('_', '-')}")
            area.observe(self._on_edit, names="value")
            self.areas[key] = area
        self.export_button = W.Button(description="export Markdown")
        self.export_button.add_class("esc-retro-export")
        self.export_button.on_click(lambda _b: self.export_markdown())
        self.status = W.HTML()
        self._loading = False
        self.notes: dict[str, Any] = {}

    def _section_widgets(self) -> list[W.Widget]:
        out: list[W.Widget] = []
        for key, title in SECTION_TITLES.items():
            out += [W.HTML(f"<h4>{title}</h4>"), self.areas[key]]
        out += [W.HTML("<h4>Action items</h4>"), self.areas["actions"]]
        return out

    # -- files -------------------------------------------------------------------------------
    def subject_id(self) -> str:
        """The id of the retrospective shown (an incident's, or a period's)."""
        return str(self.review.incident_id)

    def notes_path(self, subject: str | None = None) -> Path:
        """``<notes_dir>/<id>.yaml``."""
        return self.notes_dir / f"{notes_file_stem(subject or self.subject_id())}.yaml"

    def participants_dir(self, subject: str | None = None) -> Path:
        """``<notes_dir>/<id>/``: returned poll forms and participants' notes."""
        return self.notes_dir / notes_file_stem(subject or self.subject_id())

    def _find_previous(self) -> dict | None:
        if self.previous_given is not None:
            return self.previous_given
        meta = self.review.notes_meta()
        when = (meta.get("period") or {}).get("start") or meta.get("started_at")
        found = find_previous_notes(
            self.notes_dir,
            before=when,
            topic=meta.get("topic"),
            kind=meta.get("kind"),
            exclude=self.subject_id(),
        )
        return load_notes(found) if found is not None else None

    def _open(self) -> None:
        """Show the current review's notes: saved ones (with new poll forms merged in), else a
        draft from the facts, the previous retrospective and the forms."""
        subject = self.subject_id()
        path = self.notes_path()
        forms = read_forms_in(self.participants_dir())
        self.previous_notes = self._find_previous()
        if path.exists() and self._holds_other(path, subject):
            notes, _ = merge_forms(draft_notes(self.review, self.previous_notes, {}), forms)
            origin = f"{path.name} holds another retrospective's notes: not loaded (draft shown)"
        elif path.exists():
            saved = load_notes(path)
            if saved.get("drafted") is False:  # made by `retro merge` before any draft
                draft = draft_notes(self.review, self.previous_notes, {})
                saved["sections"] = {
                    k: combine_texts(draft["sections"].get(k, ""), saved["sections"].get(k, ""))
                    for k in SECTION_TITLES
                }
                saved["actions"] = draft["actions"] + list(saved.get("actions") or [])
                saved = {**draft, **saved, "drafted": True}
            notes, added = merge_forms(saved, forms)
            origin = f"loaded {path.name}"
            if added:
                save_notes(notes, path)
                origin += f"; {added} new point(s) from returned forms merged and saved"
        else:
            notes, _ = merge_forms(draft_notes(self.review, self.previous_notes, {}), forms)
            origin = f"draft from facts ({len(forms)} returned form(s) merged)"
        if self.previous_notes:
            origin += f"; opened with {self.previous_notes.get('incident_id')}'s open items"
        self.notes = notes
        self._loading = True
        try:
            for key in SECTION_TITLES:
                self.areas[key].value = notes["sections"].get(key, "")
            self.areas["actions"].value = actions_to_text(notes.get("actions") or [])
        finally:
            self._loading = False
        self.status.value = escape_text(origin)

    @staticmethod
    def _holds_other(path: Path, subject: str) -> bool:
        """True when the notes at ``path`` were saved for another id (two ids that a
        case-insensitive file system maps to one name)."""
        saved = load_notes(path).get("incident_id")
        return saved is not None and str(saved) != str(subject)

    # -- actions -----------------------------------------------------------------------------
    def current_notes(self) -> dict[str, Any]:
        """The notes as edited now (sections, action items, merged reflections, subject)."""
        doc = dict(self.notes)
        doc.update(self.review.notes_meta())
        doc["incident_id"] = self.subject_id()
        doc["sections"] = {k: self.areas[k].value for k in SECTION_TITLES}
        doc["actions"] = actions_from_text(self.areas["actions"].value)
        doc["drafted"] = True
        return doc

    def save(self) -> Path:
        """Save the notes now (atomic; the previous version is kept as ``.bak``). Never over
        another retrospective's notes: that raises :class:`DataLoadError`."""
        target = self.notes_path()
        if target.exists() and self._holds_other(target, self.subject_id()):
            message = f"not saved: {target.name} holds another retrospective's notes"
            self.status.value = escape_text(message)
            raise DataLoadError(message, source=str(target))
        try:
            notes = self.current_notes()
        except DataLoadError as exc:  # a bad action line: say which, keep the text
            self.status.value = escape_text(f"not saved: {exc}")
            raise
        path = save_notes(notes, target)
        self.notes = notes
        self.status.value = escape_text(f"saved {path.name}")
        return path

    def title(self) -> str:
        """The retrospective's title, as Markdown (data escaped)."""
        return f"Retrospective {markdown_text(self.subject_id())}"

    def export_markdown(self, path: str | Path | None = None) -> Path:
        """Write the notes and action items as Markdown (default ``<notes_dir>/<id>.md``)."""
        target = Path(path) if path else self.notes_path().with_suffix(".md")
        notes = self.current_notes()
        text = notes_to_markdown(notes, title=self.title())
        if notes.get("actions"):
            text += (
                "\n## Action items\n\n" + markdown_defang(actions_to_text(notes["actions"])) + "\n"
            )
        atomic_write_text(target, text, backup=True)
        self.status.value = escape_text(f"exported {target.name}")
        return target

    def _on_edit(self, _change: dict[str, Any]) -> None:
        if not self._loading:
            with contextlib.suppress(DataLoadError):  # the status says why; the text stays
                self.save()

    # -- the meeting report --------------------------------------------------------------------
    def static_parts(self) -> list[Any]:
        """What a meeting report shows instead of the editor: the notes as formatted text,
        the participants' reflections, the action items as a table (see ``widgets.meeting``)."""
        from IPython.display import HTML, Markdown

        notes = self.current_notes()
        parts: list[Any] = []
        if self.previous_notes:
            origin = escape_text(self.previous_notes.get("incident_id"))
            parts.append(
                HTML(
                    '<p class="esc-carried">Opened with the open action items and questions of '
                    f"the previous retrospective, {origin}.</p>"
                )
            )
        body = []
        for key, heading in SECTION_TITLES.items():
            text = markdown_defang(str(notes["sections"].get(key) or "").strip())
            body += [f"### {heading}", "", text or "_(nothing recorded)_", ""]
        parts.append(Markdown("\n".join(body)))
        reflections = notes.get("reflections") or {}
        if reflections:
            rows = []
            for who, sections in reflections.items():
                count = sum(len(str(v).splitlines()) for v in sections.values() if v)
                where = ", ".join(
                    SECTION_TITLES[k].lower() for k in SECTION_TITLES if sections.get(k)
                )
                rows.append({"participant": who, "points": count, "sections": where})
            parts.append(
                HTML(
                    "<h3>Reflections from the poll</h3><p>Each participant's points are merged "
                    "above, with their name in brackets.</p>" + html_table(pd.DataFrame(rows))
                )
            )
        actions = notes.get("actions") or []
        parts.append(HTML("<h3>Action items</h3>"))
        if actions:
            frame = pd.DataFrame(
                [
                    {
                        "action": a.get("action"),
                        "owner": a.get("owner"),
                        "due": a.get("due") or "—",
                        "status": a.get("status"),
                        "from": a.get("source") or "this retrospective",
                    }
                    for a in actions
                ]
            )
            parts.append(HTML(html_table(frame)))
        else:
            parts.append(HTML("<p>No action item recorded.</p>"))
        return parts


class RetroReviewer(_NotesEditor):
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
        max_extra_per_month: float | None = DEFAULT_MAX_EXTRA_PER_MONTH,
    ) -> None:
        self.features, self.incidents, self.policy = features, incidents, policy
        self.mentions = mentions
        self.notes_dir = Path(notes_dir)
        self.max_early = max_early
        self.max_extra_per_month = max_extra_per_month
        self.escalations = evaluate(policy, features)
        self.result = backtest(self.escalations, incidents, max_early=max_early)
        ids = incidents["incident_id"].astype(str).tolist()
        first = incident_id or pick_instructive_incident(
            incidents, self.escalations, max_early=max_early
        )
        self._build_editor(previous_notes)
        self.picker = W.Dropdown(options=ids, value=str(first), description="incident")
        self.picker.add_class("esc-retro-incident")
        self.figure = go.FigureWidget()
        self.figure.add_class("esc-retro-timeline")
        self.review: IncidentReview | None = None
        self.picker.observe(lambda c: self.select(c["new"]), names="value")
        self.widget = W.VBox(
            [
                self.picker,
                self.figure,
                *self._section_widgets(),
                W.HBox([self.export_button, self.status]),
            ]
        )
        self.select(str(first))

    def subject_id(self) -> str:
        """The incident shown."""
        return str(self.picker.value)

    def title(self) -> str:
        """``Retrospective <id>: <title>`` (data escaped)."""
        title = f"Retrospective {markdown_text(self.picker.value)}"
        if self.review is not None and self.review.incident.get("title"):
            title += f": {markdown_text(self.review.incident['title'])}"
        return title

    def select(self, incident_id: str) -> None:
        """Show ``incident_id``: its milestones and its notes (saved ones with new poll forms
        merged, else a fresh draft)."""
        self.review = review_incident(
            incident_id,
            self.result,
            self.features,
            self.incidents,
            self.escalations,
            self.policy,
            self.mentions,
            max_early=self.max_early,
            max_extra_per_month=self.max_extra_per_month,
        )
        self._open()
        fresh = self.review.plot()
        with self.figure.batch_update():
            self.figure.data = ()
            self.figure.layout = fresh.layout
            self.figure.add_traces(list(fresh.data))


class PeriodReviewer(_NotesEditor):
    """Edit and save the retrospective of a period (a :class:`~esc_analytics.PeriodReview`):
    its five sections and action items, with poll forms merged and the previous period's
    open items carried over."""

    def __init__(
        self,
        review: Any,
        *,
        notes_dir: str | Path = "retro-notes",
        previous_notes: dict | str | Path | None = None,
    ) -> None:
        self.review = review
        self.notes_dir = Path(notes_dir)
        self._build_editor(previous_notes)
        self.widget = W.VBox([*self._section_widgets(), W.HBox([self.export_button, self.status])])
        self._open()

    def title(self) -> str:
        """``Retrospective <period name>``."""
        return f"Retrospective {markdown_text(self.review.name)}"
