"""Helpers shared by the sub-commands: option parsing and progress bars."""

from __future__ import annotations

import sys
from collections.abc import Iterable, Sequence
from typing import Any

from .._errors import EscAnalyticsError


def parse_mapping(pairs: Sequence[str] | None, option: str = "--column") -> dict[str, str]:
    """Turn ``["created_at=tweet_created", ...]`` into ``{"created_at": "tweet_created"}``."""
    mapping: dict[str, str] = {}
    for pair in pairs or ():
        name, sep, value = pair.partition("=")
        if not sep or not name.strip() or not value.strip():
            raise EscAnalyticsError(
                f"{option} {pair!r}: expected CANONICAL=SOURCE, e.g. created_at=tweet_created"
            )
        mapping[name.strip()] = value.strip()
    return mapping


def progress(iterable: Iterable[Any] | None = None, **kwargs: Any) -> Any:
    """A tqdm progress bar on an interactive terminal, silent otherwise (pipes, CI, notebooks
    rendered headless)."""
    from tqdm.auto import tqdm

    kwargs.setdefault("disable", not sys.stderr.isatty())
    kwargs.setdefault("leave", False)
    return tqdm(iterable, **kwargs)
