"""Out-of-sample NAB scores on the five realTweets files in ../shared, beside published ones.

Protocols (thresholds, persistence and cooldown are always fitted on training data only):
  A. leave-one-file-out, calibration picks the detection feature itself among a fixed family
     (burst level vs a past quantile: smoothing 2/3/4 windows, 7/10 days, quantile 0.99/0.995);
  B. leave-one-file-out with one detection feature fixed up front (level_q99_7d_s3, the first
     feature we tried, chosen in an in-sample exploration of all five files -- so B is
     optimistic about the feature, not about its threshold);
  C. time split: calibrate on the first half of every file, score the second half (NAB's rules
     applied to each held-out half as a file, probation included);
  D. nested leave-one-file-out: the detection feature of the family is chosen by an inner
     leave-one-file-out among the four training files (the feature that transfers best between
     them), then its threshold is fitted on all four;
  S. in sample, for reference: one policy fitted on all five files and scored on the same five --
     the protocol of the published figures "tuned in-sample" (ARTime's 86.6). Not out of sample.
Pooled normalised score over the held-out parts, profiles standard / low_FP / low_FN.

Caveat on feature search: across ~80 variants of burst features (smoothing, lookback,
quantile, peak-of-day spans) the leave-one-file-out score of a *single fixed* variant ranges
from ~45 to ~87 on these five files; the best variant is a post-hoc pick among many, not an
out-of-sample figure. Protocol A (selection inside each fold) is the honest number; the other
five realTweets files of NAB would be the clean test of any variant chosen here.
Run: .venv/bin/python benchmarks/nab_realtweets.py [--quick]   (~9 min; --quick ~4 min)
"""

from __future__ import annotations

import sys
import time
import warnings
from pathlib import Path

import numpy as np
import pandas as pd

from esc_analytics import (
    add_detection_features,
    backtest,
    calibrate,
    evaluate,
    features_from_series,
    incidents_from_nab_windows,
    load_series,
    nab_score,
    walk_forward,
)
from esc_analytics.features import detection_feature_name

NAB_DIR = Path(__file__).resolve().parents[1].parent / "shared" / "data" / "nab-realtweets-dev"
PROFILES = {"standard": "standard", "low_FP": "reward_low_FP_rate", "low_FN": "reward_low_FN_rate"}
PUBLISHED = {  # in-sample threshold / NAB's corpus-wide threshold (../shared/data/README.md)
    "ARTime": ((86.6, 83.6), (80.1, 73.4), (91.1, 89.0)),
    "Numenta HTM": ((80.3, 77.2), (77.2, 72.2), (83.0, 80.9)),
    "contextOSE": ((76.8, 76.8), (76.2, 76.2), (78.6, 78.2)),
    "earthgeckoSkyline": ((71.9, 71.9), (48.3, 48.3), (81.3, 81.3)),
    "relativeEntropy": ((65.3, 65.3), (59.7, 59.7), (69.0, 69.0)),
    "twitterADVec": ((51.8, 51.8), (25.1, 25.1), (62.0, 62.0)),
    "windowedGaussian": ((47.9, 47.9), (0.3, 0.3), (65.3, 65.3)),
    "random": ((26.6, 25.0), (15.8, 13.3), (43.1, 34.3)),
}
FAMILY = dict(smooth=(2, 3, 4), lookback_days=(7, 10), quantiles=(0.99, 0.995))
FIXED = detection_feature_name(3, 7, 0.99)
GRIDS = dict(persistence_grid=(1, 2, 3, 4, 6), cooldown_grid=(72, 144, 216))
FIT = dict(n_tiers=1, objective="nab", max_early="0h", smoothing=3, n_thresholds=300)


def load(nab_dir: Path = NAB_DIR) -> tuple[pd.DataFrame, pd.DataFrame, list[str]]:
    """Features (each file on its own time span) with detection features, and incidents."""
    series = load_series(sorted(str(p) for p in nab_dir.glob("*.csv"))).data
    parts = [features_from_series(f) for _, f in series.groupby("topic", sort=True)]
    features = add_detection_features(pd.concat(parts, ignore_index=True), freq="5min", **FAMILY)
    names = [
        detection_feature_name(s, d, q)
        for s in FAMILY["smooth"]
        for d in FAMILY["lookback_days"]
        for q in FAMILY["quantiles"]
    ]
    return features, incidents_from_nab_windows(nab_dir / "anomaly_windows.json"), names


def pooled_nab(result, topic: str | None = None) -> float:
    """Pooled normalised NAB score of a leave-one-file-out result (all folds or one topic's):
    per-file scores weighted by the file's scored windows, as NAB pools raw scores."""
    folds = result.folds if topic is None else result.folds[result.folds["topic"] == topic]
    windows = result.incidents.groupby("topic")["incident_id"].count()
    weights = folds["topic"].map(windows).to_numpy(dtype=float)
    return float((folds["nab_score"].to_numpy() * weights).sum() / weights.sum())


def _lofo(features, incidents, feature: str, profile: str, grids) -> object:
    """Leave-one-file-out walk-forward with one detection feature."""
    return walk_forward(
        features,
        incidents,
        scheme="topics",
        feature_candidates=[feature],
        nab_profile=profile,
        **FIT,
        **grids,
    )


def nested(features, incidents, family, profile, grids) -> tuple[float, list[str]]:
    """Protocol D: per held-out file, pick the feature by an inner leave-one-file-out on the
    other files, then score the held-out file with that feature's outer fold."""
    outer = {name: _lofo(features, incidents, name, profile, grids) for name in family}
    scores, weights, picks = [], [], []
    for topic in sorted(features["topic"].unique()):
        train_f = features[features["topic"] != topic]
        train_i = incidents[incidents["topic"] != topic]
        inner = {
            name: pooled_nab(_lofo(train_f, train_i, name, profile, grids)) for name in family
        }
        best = max(family, key=lambda n: (inner[n], -family.index(n)))  # ties: first listed
        fold = outer[best].folds[outer[best].folds["topic"] == topic].iloc[0]
        scores.append(fold["nab_score"])
        weights.append(int((incidents["topic"] == topic).sum()))
        picks.append(f"{topic}: {fold['params']} (inner {inner[best]:.1f})")
    return float(np.dot(scores, weights) / sum(weights)), picks


def in_sample(features, incidents, family, profile, grids) -> float:
    """Reference S: fit on all five files, score the same five (not out of sample)."""
    fit = calibrate(
        features,
        incidents,
        feature_candidates=family,
        nab_profile=profile,
        run_backtest=False,
        **{**FIT, "smoothing": 0},
        **grids,
    )
    bt = backtest(
        evaluate(fit.policy, features),
        incidents,
        max_early=FIT["max_early"],
        nab_profile=profile,
    )
    return float(bt.nab["score"])


def anomaly_point_score(incidents: pd.DataFrame, features: pd.DataFrame) -> float:
    """Standard score of a detector firing once, exactly at the middle of every window (NAB
    centres its windows on the labelled anomaly), never elsewhere: what detecting the anomaly
    itself -- not the ramp before it -- can earn at best (the windows do not overlap)."""
    detections, windows, timestamps = {}, {}, {}
    for topic, part in features.groupby("topic", sort=True):
        times = pd.DatetimeIndex(part["window_start"].sort_values())
        inc = incidents[incidents["topic"] == topic]
        first = times.searchsorted(pd.DatetimeIndex(inc["started_at"]), side="left")
        last = times.searchsorted(pd.DatetimeIndex(inc["ended_at"]), side="right") - 1
        fire = np.zeros(len(times), dtype=bool)
        fire[(first + last + 1) // 2] = True
        detections[topic], timestamps[topic] = fire, times
        windows[topic] = list(zip(inc["started_at"], inc["ended_at"], strict=True))
    return nab_score(detections, windows, timestamps).normalised


def run(quick: bool = False) -> pd.DataFrame:
    """Scores per protocol and profile (a DataFrame, also printed)."""
    features, incidents, family = load()
    grids = dict(persistence_grid=(2, 3), cooldown_grid=(144,)) if quick else GRIDS
    rows = []
    for label, profile in PROFILES.items():
        t0 = time.perf_counter()
        a = walk_forward(
            features,
            incidents,
            scheme="topics",
            feature_candidates=family,
            nab_profile=profile,
            **FIT,
            **grids,
        )
        b = _lofo(features, incidents, FIXED, profile, grids)
        half = (features["window_start"].max() - features["window_start"].min()) / 2
        c = walk_forward(
            features,
            incidents,
            scheme="expanding",
            n_folds=1,
            min_train=half,
            feature_candidates=family,
            nab_profile=profile,
            **FIT,
            **grids,
        )
        d, d_picks = nested(features, incidents, family, profile, grids)
        s_in = in_sample(features, incidents, family, profile, grids)
        rows.append(
            {
                "profile": label,
                "A_loo_auto": a.nab,
                "B_loo_fixed": b.nab,
                "C_time_split": c.nab,
                "D_nested": d,
                "S_in_sample": s_in,
                "seconds": time.perf_counter() - t0,
                "A_picks": list(a.folds["params"]),
                "B_picks": list(b.folds["params"]),
                "D_picks": d_picks,
            }
        )
    table = pd.DataFrame(rows)
    table.attrs["anomaly_point"] = anomaly_point_score(incidents, features)
    return table


def main() -> int:
    if not (NAB_DIR / "anomaly_windows.json").exists():
        print(f"NAB data not found at {NAB_DIR}; nothing to do")
        return 0
    warnings.filterwarnings("ignore", category=RuntimeWarning)
    table = run(quick="--quick" in sys.argv)
    print("NAB realTweets (5 files), normalised score, OUT OF SAMPLE (ours) vs published\n")
    print(f"{'detector':32s} {'standard':>14s} {'low_FP':>14s} {'low_FN':>14s}")
    for col, name in (
        ("A_loo_auto", "ours A: leave-one-file-out"),
        ("B_loo_fixed", "ours B: LOFO, fixed feature"),
        ("C_time_split", "ours C: time split (2nd half)"),
        ("D_nested", "ours D: nested LOFO"),
        ("S_in_sample", "ours S: IN SAMPLE (reference)"),
    ):
        cells = [f"{v:14.1f}" for v in table[col]]
        print(f"{name:32s} {' '.join(cells)}")
    print(f"{'a detector firing at each labelled anomaly, nothing else':58s} "
          f"{table.attrs['anomaly_point']:5.1f} (standard)")
    print(f"{'published (in-sample / corpus thr)':32s}")
    for name, scores in PUBLISHED.items():
        print(f"  {name:30s} " + " ".join(f"{a:6.1f} / {b:5.1f}" for a, b in scores))
    print("\nfold choices (standard):")
    for pick in table["A_picks"].iloc[0]:
        print("  A", pick)
    for pick in table["B_picks"].iloc[0]:
        print("  B", pick)
    for pick in table["D_picks"].iloc[0]:
        print("  D", pick)
    print(f"\ntime: {table['seconds'].sum():.0f} s")
    return 0


if __name__ == "__main__":
    sys.exit(main())
