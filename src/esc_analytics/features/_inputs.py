"""Files → features in one call: what a notebook or a command reads before any analysis.

:func:`load_inputs` loads the mentions (or pre-aggregated volume series), the incident log,
the planned events and the escalation plan of a data folder (by default the bundled sample),
builds the features the plan is evaluated on (planned events kept out of the baselines), and
returns them together as :class:`Inputs`, whose ``summary()`` says what was read.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field, replace
from pathlib import Path
from typing import Any

import pandas as pd

from .._util.errors import DataLoadError
from .._util.format import format_hours
from .._util.paths import sample_dir
from .._util.schema import DEFAULT_TOPIC, FEATURE_MEASURES, infer_freq
from ..io import LoadResult, Project, load_incidents, load_mentions, load_project, load_series
from ..io._planned_events import load_planned_events
from ..policy import Policy, load_policy
from ._build import (
    ABSENT_FEATURES_ATTR,
    build_features,
    features_from_series,
    mark_absent_features,
)
from ._files import FREQ_ATTR, read_features
from ._grid import window_length

#: The file names a data folder holds (those of the bundled sample, ``esc-analytics sample``).
DATA_FILES = {
    "mentions": "mentions.csv.gz",
    "incidents": "incidents.csv",
    "planned_events": "planned_events.csv",
    "policy": "policy.yaml",
}

Source = str | Path | pd.DataFrame | Sequence[str | Path]


@dataclass(frozen=True)
class Inputs:
    """What :func:`load_inputs` read: the loads (accepted rows, quarantine, summary), the
    planned events, the escalation plan and the features built from them.

    ``mentions`` or ``series`` is the load the features come from (the other is None);
    ``incidents``, ``planned_events`` and ``policy`` are None when not loaded. ``freq`` is the
    window length of the features; ``sources`` names where the planned events and the policy
    came from (the loads' own summaries name their files)."""

    mentions: LoadResult | None
    series: LoadResult | None
    incidents: LoadResult | None
    planned_events: pd.DataFrame | None
    policy: Policy | None
    features: pd.DataFrame
    freq: pd.Timedelta
    sources: Mapping[str, str] = field(default_factory=dict)

    def summary(self) -> str:
        """What was read: per load the rows read / accepted / quarantined (by reason) and its
        file, how times were read and every note (as the commands print them); the planned
        events and the plan; then the feature grid."""
        lines: list[str] = []
        if self.sources.get("project"):
            lines.append(f"{'project:':<11}{self.sources['project']}")
        for loaded in (self.mentions, self.series, self.incidents):
            if loaded is not None:
                s = loaded.summary
                headline = f"{s.kind + ':':<11}{s}  ({s.source})"
                lines.extend(load_summary_lines(s, headline=headline))
        if "features" in self.sources:
            lines.append(f"{'features:':<11}read from {self.sources['features']}")
        if self.planned_events is not None:
            lines.append(
                f"planned events: {len(self.planned_events)}, kept out of the baselines"
                f"{_from(self.sources.get('planned_events'))}"
            )
        if self.policy is not None:
            lines.append(
                f"{'policy:':<11}{self.policy.name}, {len(self.policy.tiers)} tier(s)"
                f"{_from(self.sources.get('policy'))}"
            )
        features = self.features
        if self.incidents is not None:
            unmatched = unmatched_topics_line(features, self.incidents.data)
            if unmatched:
                lines.append(f"warning: {unmatched}")
        window = format_hours(self.freq / pd.Timedelta(hours=1))
        text = f"{'features:':<11}{len(features):,} windows of {window}"
        if len(features):
            first, last = features["window_start"].min(), features["window_start"].max()
            text += (
                f" over {features['topic'].nunique()} topic(s), "
                f"{first:%Y-%m-%d} → {last:%Y-%m-%d}"
            )
        lines.append(text)
        measures = measures_line(features)
        if measures:
            lines.append(measures)
        return "\n".join(lines)


def _from(source: str | None) -> str:
    return f"  ({source})" if source else ""


def load_summary_lines(summary: Any, hint: str = "", *, headline: str = "") -> list[str]:
    """What a load did (a :class:`LoadSummary`), one line each: the ``headline`` (by default
    ``<kind> <source>: read N, accepted A, quarantined Q (reason: n...)``, as the commands
    print it), how times were read, every loader note (truncated file, DST adjustments,
    defaults filled...) and an optional hint on how to recover the quarantined rows."""
    kind = getattr(summary, "kind", "") or "rows"
    source = getattr(summary, "source", "")
    lines = [headline or (f"{kind} {source}: {summary}" if source else f"{kind}: {summary}")]
    timezone_note = getattr(summary, "timezone_note", "")
    if timezone_note:
        lines.append(f"  times: {timezone_note}")
    mapped = getattr(summary, "columns_mapped", None)
    if mapped:
        lines.append("  columns: " + ", ".join(
            canonical if source == canonical else f"{source!r} → {canonical}"
            for canonical, source in mapped.items()
        ))
    lines.extend(f"  note: {note}" for note in getattr(summary, "notes", ()))
    if hint:
        lines.append(f"  hint: {hint}")
    return lines


def measures_line(features: pd.DataFrame) -> str:
    """Which measures of the features the input did not carry (absent: filled with zeros,
    with why) and which are zero in every window, in one line (empty when none): a policy or
    a reader of a chart should know that ``reach`` is zero because no follower count was
    read, not because nobody with followers posted."""
    absent = dict(features.attrs.get(ABSENT_FEATURES_ATTR, {}))
    zero = [
        m for m in FEATURE_MEASURES
        if m in features.columns and m not in absent and len(features)
        and not features[m].fillna(0).astype(bool).any()
    ]
    parts = []
    if absent:
        by_reason: dict[str, list[str]] = {}
        for measure, why in absent.items():
            by_reason.setdefault(why, []).append(measure)
        parts.append("absent (zeros): " + "; ".join(
            f"{', '.join(measures)} ({why})" for why, measures in by_reason.items()
        ))
    if zero:
        parts.append(f"zero in every window: {', '.join(zero)}")
    return f"{'measures:':<11}" + "; ".join(parts) if parts else ""


def unmatched_topics_line(
    features: pd.DataFrame, incidents: pd.DataFrame, *, cli: bool = False
) -> str:
    """Why incidents will not be evaluated because their topic is not in the data, and what
    to do, in one line: when no incident's topic is in ``features``, or when the data has no
    topic (every post topic ``all``, an export without a topic column: then the mapping is
    what to fix; ``cli``: said with the command line's option, else with ``columns=``).
    Empty otherwise (a file holding some of the topics is a choice)."""
    if incidents is None or not len(incidents) or "topic" not in incidents:
        return ""
    have = set(map(str, features["topic"].unique())) if len(features) else set()
    topics = incidents["topic"].astype(str)
    missing = sorted(set(topics) - have)
    if not missing:
        return ""
    n = int(topics.isin(missing).sum())
    if n < len(incidents) and have != {DEFAULT_TOPIC}:
        return ""  # some topics left out on purpose (one brand's file): "not evaluated" says it
    shown = ", ".join(missing[:5]) + (f", … ({len(missing)} topics)" if len(missing) > 5 else "")
    text = (f"{n} of {len(incidents)} incident(s) have a topic the data does not hold "
            f"({shown}): they will not be evaluated")
    if have == {DEFAULT_TOPIC}:
        how = ("--column topic=YOUR_COLUMN (project file: [columns.mentions] topic = "
               "\"YOUR_COLUMN\")" if cli else "columns={'topic': 'your column'}")
        text += (f". The data has no topic column, so every post is topic {DEFAULT_TOPIC!r}: "
                 f"map your topic column with {how}, or give the incidents topic "
                 f"{DEFAULT_TOPIC!r}")
    else:
        text += f"; the data's topics: {', '.join(sorted(have)[:8])}"
    return text


def load_inputs(
    data_dir: str | Path | None = None,
    *,
    mentions: Source | None = None,
    series: Source | None = None,
    incidents: Source | bool | None = None,
    policy: str | Path | Policy | bool | None = None,
    planned_events: str | Path | pd.DataFrame | bool | None = None,
    freq: str | pd.Timedelta | None = None,
    columns: Mapping[str, str] | None = None,
    tz: str | None = None,
    project: str | Path | Project | None = None,
    incident_columns: Mapping[str, str] | None = None,
    severity_map: Mapping[str, int] | None = None,
    features_path: str | Path | None = None,
) -> Inputs:
    """Load a data folder's inputs and build its features.

    ``data_dir`` holds ``mentions.csv.gz``, ``incidents.csv`` and, when present,
    ``planned_events.csv`` and ``policy.yaml`` (None = the bundled sample data). Each input
    may instead be given: a path (or, for mentions and series, a list of paths or a
    DataFrame), a DataFrame of incidents or planned events, a :class:`Policy`; ``False``
    skips it. ``series`` (pre-aggregated volumes, see :func:`load_series`) replaces the
    mentions; each series topic gets its own time span.

    ``freq``: the window length of the features (mentions: default ``"1h"``; series: told
    from the file when None). ``columns`` maps the mention or series files' column names (see
    :func:`resolve_columns`); ``tz`` is the zone of times without an offset in every file.
    ``incident_columns`` maps the incident log's columns, ``severity_map`` its labels onto
    tiers (``{"P1": 3}``).

    ``project``: a project file (``esc-analytics.toml``, see :func:`load_project`) or a
    :class:`Project`: the files it names and their column mappings, its severity labels, time
    zone and window length. What is given here wins (per column for the mappings; a file
    given does not get the project's mapping, which describes the project's files);
    ``data_dir``'s files win over the project's. A file the project does not name is looked
    for in the project's folder (by the names above); a plan it does not name is the bundled
    starter plan (said in ``summary()``). None: no project (:func:`find_project` finds one
    from the working directory or ``$ESC_ANALYTICS_PROJECT``).

    ``features_path``: a features file written by ``esc-analytics aggregate`` (on any
    engine, e.g. a Spark job over the data lake; see :func:`read_features`) replaces the
    aggregation: its features are used as they are, its window length is the file's; the
    mentions are then loaded only when ``mentions`` is given (to show posts and texts).

    Raises :class:`~esc_analytics.DataLoadError` when no mention (or volume row) is usable,
    with the load's summary and notes in the message."""
    proj = project if isinstance(project, Project) or project is None else load_project(project)
    sources: dict[str, str] = {}
    if proj is not None:
        if proj.path is not None:
            sources["project"] = str(proj.path)
        if data_dir is None:
            # the project's column mappings describe its own files: only those get them
            if mentions is None and series is None:
                if proj.series:
                    series = list(proj.series)
                    columns = {**proj.series_columns, **(columns or {})}
                elif proj.mentions:
                    mentions = list(proj.mentions)
                    columns = {**proj.mention_columns, **(columns or {})}
            if incidents is None and proj.incidents is not None:
                incidents = proj.incidents
                incident_columns = {**proj.incident_columns, **(incident_columns or {})}
            planned_events = proj.planned_events if planned_events is None else planned_events
            policy = proj.policy if policy is None else policy
            data_dir = proj.folder
            if policy is None and not (Path(data_dir) / DATA_FILES["policy"]).exists():
                policy = sample_dir() / DATA_FILES["policy"]
                sources["policy"] = f"{policy}: the bundled starter plan (the project names none)"
        severity_map = {**proj.severity_map, **(severity_map or {})}
        tz = tz if tz is not None else proj.tz
        freq = freq if freq is not None else proj.freq
    folder = _Folder(data_dir)
    mapping = dict(columns) if columns else None
    if features_path is not None:
        inputs = _from_features_file(
            features_path, folder, incidents=incidents, policy=policy, tz=tz, freq=freq,
            mentions=mentions, columns=mapping, incident_columns=incident_columns,
            severity_map=severity_map,
        )  # fmt: skip
        return replace(inputs, sources={**sources, **inputs.sources})
    if series is not None:
        mentions_load = None
        series_load = load_series(_many(series), columns=mapping, tz=tz)
        rows = series_load
    else:
        source = folder.path("mentions") if mentions is None else _many(mentions)
        mentions_load = load_mentions(source, columns=mapping, tz=tz)
        series_load = None
        rows = mentions_load
    if rows.data.empty:
        what = "volume row" if series_load is not None else "mention"
        summary = rows.summary
        raise DataLoadError(
            f"no usable {what} ({'; '.join([str(summary), *summary.notes])})",
            source=summary.source,
        )
    incidents_load = _incident_log(folder, incidents, tz, incident_columns, severity_map)
    planned = None
    if planned_events is not False:
        given = folder.optional("planned_events") if planned_events is None else planned_events
        if given is not None:
            planned = load_planned_events(given, tz=tz)
            if not isinstance(given, pd.DataFrame):
                sources["planned_events"] = str(given)
    plan = _plan(folder, policy, sources)
    if series_load is not None:
        step = window_length(freq) if freq is not None else None
        parts = [
            features_from_series(frame, freq=step, planned_events=planned)
            for _, frame in series_load.data.groupby("topic", sort=True)
        ]
        # marked again over all topics: per-topic marks do not survive the concatenation
        features = mark_absent_features(
            pd.concat(parts, ignore_index=True), series_load.data, "series"
        )
        step = step if step is not None else infer_freq(features)
    else:
        step = window_length(freq if freq is not None else "1h")
        measures = plan if plan is not None and plan.plan_measures else None  # terms, segments
        features = build_features(
            mentions_load.data, freq=step, planned_events=planned, measures=measures
        )
    return Inputs(
        mentions=mentions_load,
        series=series_load,
        incidents=incidents_load,
        planned_events=planned,
        policy=plan,
        features=features,
        freq=step,
        sources=sources,
    )


def _from_features_file(
    path: str | Path,
    folder: _Folder,
    *,
    incidents: Source | bool | None,
    policy: str | Path | Policy | bool | None,
    tz: str | None,
    freq: str | pd.Timedelta | None,
    mentions: Source | None = None,
    columns: Mapping[str, str] | None = None,
    incident_columns: Mapping[str, str] | None = None,
    severity_map: Mapping[str, int] | None = None,
) -> Inputs:
    """:class:`Inputs` of a features file (planned events are already in its baselines), with
    the incident log and the plan as :func:`load_inputs` reads them, and the mentions only
    when given."""
    features = read_features(path)
    step = features.attrs[FREQ_ATTR]
    if freq is not None and window_length(freq) != step:
        raise DataLoadError(
            f"the features file has windows of {step}, not {window_length(freq)}: leave freq "
            "unset or aggregate again with that window length",
            source=str(path),
        )
    incidents_load = _incident_log(folder, incidents, tz, incident_columns, severity_map)
    sources = {"features": str(path)}
    plan = _plan(folder, policy, sources)
    mentions_load = (
        load_mentions(_many(mentions), columns=columns, tz=tz) if mentions is not None else None
    )
    return Inputs(
        mentions=mentions_load,
        series=None,
        incidents=incidents_load,
        planned_events=None,
        policy=plan,
        features=features,
        freq=step,
        sources=sources,
    )


def _incident_log(
    folder: _Folder,
    incidents: Source | bool | None,
    tz: str | None,
    columns: Mapping[str, str] | None,
    severity_map: Mapping[str, int] | None,
) -> LoadResult | None:
    """The incident log (the folder's when None; not read when False)."""
    if incidents is False:
        return None
    return load_incidents(
        folder.path("incidents") if incidents is None else incidents,
        tz=tz,
        columns=dict(columns) if columns else None,
        severity_map=dict(severity_map) if severity_map else None,
    )


def _plan(folder: _Folder, policy: Any, sources: dict[str, str]) -> Policy | None:
    """The escalation plan (the folder's policy.yaml when None; none when False); where it
    came from goes in ``sources`` unless already said (the project's starter plan)."""
    if policy is False:
        return None
    given = folder.optional("policy") if policy is None else policy
    if isinstance(given, Policy) or given is None:
        return given
    sources.setdefault("policy", str(given))
    return load_policy(given)


def _many(source: Any) -> Any:
    """A tuple of paths as the list the loaders take."""
    return list(source) if isinstance(source, tuple) else source


class _Folder:
    """The default file of each input in ``data_dir`` (the sample data's folder when None,
    looked up only when a default is needed)."""

    def __init__(self, data_dir: str | Path | None) -> None:
        self._given = Path(data_dir) if data_dir is not None else None

    @property
    def root(self) -> Path:
        return self._given if self._given is not None else sample_dir()

    def path(self, name: str) -> Path:
        return self.root / DATA_FILES[name]

    def optional(self, name: str) -> Path | None:
        path = self.path(name)
        return path if path.exists() else None
