"""Calibration: thresholds, persistence and cooldown fitted to the incident history.

``calibrate`` sweeps a fresh tiered plan (tiers nested and distinct, fewer when the incident
log cannot separate them) or, given the team's plan, fits that plan's own thresholds
(``calibrate_policy``); ``walk_forward`` checks a calibration out of sample (fit on the past,
score the next period).
"""

from ._calibrate import calibrate
from ._readiness import HistoryCheck, check_history
from ._sweep import CalibrationError, CalibrationResult
from ._template import TemplateCalibrationResult, calibrate_policy
from ._walk_forward import WalkForwardResult, walk_forward

__all__ = [
    "CalibrationError",
    "CalibrationResult",
    "HistoryCheck",
    "TemplateCalibrationResult",
    "WalkForwardResult",
    "calibrate",
    "calibrate_policy",
    "check_history",
    "walk_forward",
]
