"""esc-analytics: fit and backtest social-media escalation plans against your own history.

Public names are re-exported here from private modules (``_io``, ``_features``, ...).
"""

from __future__ import annotations

from ._errors import DataLoadError, EscAnalyticsError, ModelError, PolicyError

__all__ = [
    "DataLoadError",
    "EscAnalyticsError",
    "ModelError",
    "PolicyError",
]
