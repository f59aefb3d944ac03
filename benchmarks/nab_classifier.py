"""Out-of-sample NAB scores of the escalation classifier on the five realTweets files in
../shared, beside the rule policy's (benchmarks/nab_realtweets.py) and the published detectors.

Protocol: leave one file out. For each held-out file the classifier (TieredEscalationModel,
one tier, objective "nab", logistic) is fitted on the four other files only; every choice is
made on those four files:

* ``proxy``: the decision threshold tuned by TunedThresholdClassifierCV for the window proxy of
  NAB (objective "nab"), with persistence and cooldown fixed up front (1 window, 144 windows =
  12 h: NAB rewards one early detection per window and charges every repeated one);
* ``events``: ``tune_events=True``: threshold, persistence and cooldown chosen with NAB's real
  scorer (per profile) on out-of-fold scores of the four training files (inside the model: fit
  on three, score the fourth), then the model refitted on the four files scores the fifth.

Inputs (``scale_free=True``, ``burst_levels=((3, 7, 0.99),)``): volume ratio and z-score
against the past baseline, rule calibration's past-only burst level ``level_q99_7d_s3``,
differences of log volume, and their lags and rolling shapes -- nothing that depends on a
company's size, so one model transfers across companies whose volumes differ by orders of
magnitude. Horizon 0: a window is positive inside a NAB anomaly window.
Scores: pooled normalised NAB over the five held-out files. ``--quick``: the ``events``
variant for the standard profile only (its choice also scored with the other profiles).
Run: .venv/bin/python benchmarks/nab_classifier.py [--quick]
"""

from __future__ import annotations

import sys
import time
import warnings
from collections.abc import Sequence
from pathlib import Path

import numpy as np
import pandas as pd

from esc_analytics import TieredEscalationModel, nab_from_escalations

sys.path.insert(0, str(Path(__file__).resolve().parent))
from nab_realtweets import NAB_DIR, PROFILES, PUBLISHED, load

RULE_POLICY = {"standard": 85.3}  # benchmarks/nab_realtweets.py: the shipped default, LOFO
PERSISTENCE = (1, 2, 3)
COOLDOWN = (72, 144, 288)
MODEL = dict(n_tiers=1, model="logistic", objective="nab", horizon="0h", calibrate=False,
             n_splits=3, persistence=1, cooldown=144, use_text=False,
             burst_levels=((3, 7, 0.99),), scale_free=True)
EVENTS = dict(tune_events=True, persistence_grid=PERSISTENCE, cooldown_grid=COOLDOWN)


def model_inputs(features: pd.DataFrame) -> pd.DataFrame:
    """The series' own features; the model computes its burst level itself (past only)."""
    return features[[c for c in features.columns if not c.startswith("level_")]]


def _nab(model: TieredEscalationModel, features: pd.DataFrame, incidents: pd.DataFrame,
         profiles: Sequence[str]) -> dict[str, object]:
    esc = model.escalations(features)
    return {p: nab_from_escalations(esc, incidents, profile=PROFILES[p]) for p in profiles}


def proxy_score(profile: str = "standard") -> float:
    """Pooled leave-one-file-out NAB score of the ``proxy`` variant only (for the test)."""
    features, incidents, _ = load()
    features = model_inputs(features)
    raw = null = perfect = 0.0
    for held in sorted(features["topic"].unique()):
        train = features["topic"] != held
        model = TieredEscalationModel(**MODEL).fit(
            features[train], incidents[incidents["topic"] != held]
        )
        score = _nab(model, features[~train], incidents[incidents["topic"] == held],
                     [profile])[profile]
        raw, null, perfect = raw + score.raw, null + score.raw_null, perfect + score.raw_perfect
    return 100.0 * (raw - null) / (perfect - null)


def run(quick: bool = False) -> pd.DataFrame:
    """Pooled out-of-sample NAB scores per variant and profile (a DataFrame)."""
    features, incidents, _ = load()
    features = model_inputs(features)
    files = sorted(features["topic"].unique())
    profiles = list(PROFILES)
    tuned_for = ["standard"] if quick else profiles
    variants = ["proxy", *(f"events {p}" for p in tuned_for)]
    raw = {key: {p: [0.0, 0.0, 0.0] for p in profiles} for key in variants}
    choices = []
    for held in files:
        t0 = time.perf_counter()
        train_f = features[features["topic"] != held]
        train_i = incidents[incidents["topic"] != held]
        test_f = features[features["topic"] == held]
        test_i = incidents[incidents["topic"] == held]
        model = TieredEscalationModel(**MODEL).fit(train_f, train_i)
        results = {"proxy": _nab(model, test_f, test_i, profiles)}
        picks = {}
        for p in tuned_for:
            tuned = TieredEscalationModel(**MODEL, **EVENTS, nab_profile=PROFILES[p])
            tuned.fit(train_f, train_i)
            results[f"events {p}"] = _nab(tuned, test_f, test_i, profiles)
            picks[f"{p} (thr, for, cooldown)"] = (
                round(tuned.threshold(1), 3), tuned.persistence_[1], tuned.cooldown_[1]
            )
        choices.append({"held_out": held, "proxy_threshold": round(model.threshold(1), 3),
                        **picks, "seconds": round(time.perf_counter() - t0, 1)})
        for key, by_profile in results.items():
            for p, score in by_profile.items():
                acc = raw[key][p]
                acc[0] += score.raw
                acc[1] += score.raw_null
                acc[2] += score.raw_perfect
    rows = []
    for key in variants:
        row = {"variant": key}
        for p in profiles:
            got, null, perfect = raw[key][p]
            row[p] = 100.0 * (got - null) / (perfect - null) if perfect > null else np.nan
        rows.append(row)
    table = pd.DataFrame(rows)
    table.attrs["choices"] = pd.DataFrame(choices)
    return table


def main() -> int:
    if not (NAB_DIR / "anomaly_windows.json").exists():
        print(f"NAB data not found at {NAB_DIR}; nothing to do")
        return 0
    warnings.filterwarnings("ignore")
    t0 = time.perf_counter()
    table = run(quick="--quick" in sys.argv)
    print("NAB realTweets (5 files), normalised score, OUT OF SAMPLE (leave one file out)\n")
    print(f"{'detector':40s} {'standard':>14s} {'low_FP':>14s} {'low_FN':>14s}")
    for _, row in table.iterrows():
        print(f"{'classifier, ' + row['variant']:40s} "
              + " ".join(f"{row[p]:14.1f}" for p in PROFILES))
    print(f"{'rule policy (shipped default), LOFO':40s} {RULE_POLICY['standard']:>14.1f}")
    print("published (in-sample / corpus threshold)")
    for name, scores in PUBLISHED.items():
        print(f"  {name:38s} " + " ".join(f"{a:6.1f} / {b:5.1f}" for a, b in scores))
    print("\nchoices per held-out file (made on the other four files only):")
    print(table.attrs["choices"].to_string(index=False))
    print(f"\ntime: {time.perf_counter() - t0:.0f} s")
    return 0


if __name__ == "__main__":
    sys.exit(main())
