"""The library's exception types: one base class so callers (and the CLI) can catch them all."""

from __future__ import annotations

from collections.abc import Sequence


class EscAnalyticsError(Exception):
    """Base class of every error esc-analytics raises on purpose (bad input, bad config)."""


class DataLoadError(EscAnalyticsError, ValueError):
    """A file or frame cannot be used at all: missing, unreadable, wrong format, no time column...

    The message names the file, the column and the first offending lines so that the user can
    fix the input; the same facts are kept as attributes for programs.
    """

    def __init__(
        self,
        message: str,
        *,
        source: str | None = None,
        column: str | None = None,
        lines: Sequence[int] = (),
    ) -> None:
        self.source = source
        self.column = column
        self.lines = tuple(int(n) for n in lines)
        parts = []
        if source:
            parts.append(str(source))
        if column:
            parts.append(f"column {column!r}")
        if self.lines:
            shown = ", ".join(str(n) for n in self.lines[:5])
            more = f" (+{len(self.lines) - 5} more)" if len(self.lines) > 5 else ""
            parts.append(f"line{'s' if len(self.lines) > 1 else ''} {shown}{more}")
        prefix = ": ".join([", ".join(parts)]) + ": " if parts else ""
        super().__init__(prefix + message)


class PolicyError(EscAnalyticsError, ValueError):
    """An escalation policy is invalid; the message names the key and what is allowed."""

    def __init__(self, message: str, *, key: str | None = None) -> None:
        self.key = key
        super().__init__(f"{key}: {message}" if key else message)


class ModelError(EscAnalyticsError, ValueError):
    """A model file or model input cannot be used."""


class ProjectError(EscAnalyticsError, ValueError):
    """A project file (``esc-analytics.toml``) cannot be used; the message names the file and
    the key, and what to write instead."""

    def __init__(self, message: str, *, source: str | None = None, key: str | None = None) -> None:
        self.source = source
        self.key = key
        where = ": ".join(part for part in (source, key) if part)
        super().__init__(f"{where}: {message}" if where else message)
