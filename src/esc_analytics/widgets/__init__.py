"""Interactive controllers for JupyterLab (a leaf: nothing in the library imports this).

Each widget is a thin controller over pure, tested functions: callbacks call them and assign
the results to plotly FigureWidgets inside ``batch_update()``.
"""

from __future__ import annotations

from .explain import SpikeExplainer
from .retro import RetroReviewer
from .topics import TopicPicker
from .tuner import ThresholdTuner
from .whatif import PolicyWhatIf

__all__ = ["PolicyWhatIf", "RetroReviewer", "SpikeExplainer", "ThresholdTuner", "TopicPicker"]
