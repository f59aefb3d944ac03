"""Calibration: thresholds, persistence and cooldown fitted to the incident history.

``calibrate`` sweeps a fresh tiered plan, ``calibrate_policy`` fits the team's own plan, and
``walk_forward`` checks either out of sample (fit on the past, score the next period).
"""

from ._readiness import HistoryCheck, check_history
from ._sweep import CalibrationError, CalibrationResult, calibrate
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
