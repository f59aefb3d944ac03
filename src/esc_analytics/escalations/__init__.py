"""Evaluation: a policy over features gives the tier per window, episodes and notifications."""

from ._escalations import Escalations
from ._evaluate import (
    AbsentFeatureWarning,
    absent_feature_uses,
    escalations_from_tiers,
    evaluate,
    prepare_grid,
)

__all__ = [
    "AbsentFeatureWarning",
    "Escalations",
    "absent_feature_uses",
    "escalations_from_tiers",
    "evaluate",
    "prepare_grid",
]
