"""Backtesting: escalations against past incidents — caught per tier, lead time, false alarms,
cost, NAB score — and plan A vs plan B what-if comparisons.

(The package is ``backtesting`` so that ``esc_analytics.backtest`` stays the function.)
"""

from ._backtest import BacktestResult, CostModel, backtest, prepare_incidents
from ._matching import MatchRules
from ._nab import NAB_PROFILES, NabScore, nab_from_escalations, nab_score, nab_score_file
from ._whatif import PolicyComparison, compare_policies, scale_thresholds

__all__ = [
    "NAB_PROFILES",
    "BacktestResult",
    "CostModel",
    "MatchRules",
    "NabScore",
    "PolicyComparison",
    "backtest",
    "compare_policies",
    "nab_from_escalations",
    "nab_score",
    "nab_score_file",
    "prepare_incidents",
    "scale_thresholds",
]
