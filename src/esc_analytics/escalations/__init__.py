"""Evaluation: a policy over features gives the tier per window, episodes and notifications;
alerts add who to page and why, and shape webhook payloads."""

from ._alerts import Alerts, alert_payload, alerts
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
    "Alerts",
    "Escalations",
    "absent_feature_uses",
    "alert_payload",
    "alerts",
    "escalations_from_tiers",
    "evaluate",
    "prepare_grid",
]
