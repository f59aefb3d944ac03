"""Loading: mention exports, volume series and incident logs into the data contracts.

Every loader quarantines bad rows with a reason (nothing silently lost) and returns a
:class:`LoadResult` whose ``summary`` says what was read, how times were handled and why rows
were refused.
"""

from ._load import (
    COLUMN_ALIASES,
    LoadResult,
    LoadSummary,
    incidents_from_nab_windows,
    is_nab_windows,
    load_incidents,
    load_mentions,
    load_series,
    resolve_columns,
    score_sentiment,
)
from ._planned_events import load_planned_events
from ._project import (
    PROJECT_ENV,
    PROJECT_FILE,
    Project,
    draft_project,
    find_project,
    load_project,
    project_toml,
    save_project,
)

__all__ = [
    "COLUMN_ALIASES",
    "PROJECT_ENV",
    "PROJECT_FILE",
    "LoadResult",
    "LoadSummary",
    "Project",
    "draft_project",
    "find_project",
    "incidents_from_nab_windows",
    "is_nab_windows",
    "load_incidents",
    "load_mentions",
    "load_planned_events",
    "load_project",
    "load_series",
    "project_toml",
    "resolve_columns",
    "save_project",
    "score_sentiment",
]
