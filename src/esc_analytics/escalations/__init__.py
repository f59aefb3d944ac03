"""Evaluation: a policy over features gives the tier per window, episodes and notifications."""

from ._escalations import Escalations
from ._evaluate import (
    PLANNED_EVENT_MODES,
    AbsentFeatureWarning,
    absent_feature_uses,
    escalations_from_tiers,
    evaluate,
    prepare_grid,
)

__all__ = [
    "PLANNED_EVENT_MODES",
    "AbsentFeatureWarning",
    "Escalations",
    "absent_feature_uses",
    "escalations_from_tiers",
    "evaluate",
    "prepare_grid",
]
