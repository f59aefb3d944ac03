"""Interactive controllers for JupyterLab (a leaf: nothing in the library imports this).

Each widget is a thin controller over pure, tested functions: callbacks call them and assign
the results to plotly FigureWidgets inside ``batch_update()``.
"""

from __future__ import annotations

from . import meeting
from .explain import SpikeExplainer
from .meeting import meeting_mode
from .retro import PeriodReviewer, RetroReviewer
from .topics import TopicPicker
from .tuner import ThresholdTuner
from .whatif import PolicyWhatIf

__all__ = [
    "PeriodReviewer",
    "PolicyWhatIf",
    "RetroReviewer",
    "SpikeExplainer",
    "ThresholdTuner",
    "TopicPicker",
    "meeting",
    "meeting_mode",
]
