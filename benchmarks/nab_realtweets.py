"""Out-of-sample NAB scores on the five realTweets files in ../shared, beside published ones.

Protocols (thresholds, persistence and cooldown are always fitted on training data only):
  A. leave-one-file-out, calibration picks the detection feature itself among a fixed family
     (burst level vs a past quantile: smoothing 2/3/4 windows, 7/10 days, quantile 0.99/0.995);
  B. leave-one-file-out with one detection feature fixed up front (level_q99_7d_s3, the first
     feature we tried, chosen in an in-sample exploration of all five files -- so B is
     optimistic about the feature, not about its threshold);
  C. time split: calibrate on the first half of every file, score the second half (NAB's rules
     applied to each held-out half as a file, probation included).
Pooled normalised score over the held-out parts, profiles standard / low_FP / low_FN.

Caveat on feature search: across ~80 variants of burst features (smoothing, lookback,
quantile, peak-of-day spans) the leave-one-file-out score of a *single fixed* variant ranges
from ~45 to ~87 on these five files; the best variant is a post-hoc pick among many, not an
out-of-sample figure. Protocol A (selection inside each fold) is the honest number; the other
five realTweets files of NAB would be the clean test of any variant chosen here.
Run: .venv/bin/python benchmarks/nab_realtweets.py [--quick]
"""

from __future__ import annotations

import sys
import time
import warnings
from pathlib import Path

import pandas as pd

from esc_analytics._calibrate import add_detection_features, detection_feature_name
from esc_analytics._features import features_from_series
from esc_analytics._io import incidents_from_nab_windows, load_series
from esc_analytics._walkforward import walk_forward

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
        b = walk_forward(
            features,
            incidents,
            scheme="topics",
            feature_candidates=[FIXED],
            nab_profile=profile,
            **FIT,
            **grids,
        )
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
        rows.append(
            {
                "profile": label,
                "A_loo_auto": a.nab,
                "B_loo_fixed": b.nab,
                "C_time_split": c.nab,
                "seconds": time.perf_counter() - t0,
                "A_picks": list(a.folds["params"]),
                "B_picks": list(b.folds["params"]),
            }
        )
    return pd.DataFrame(rows)


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
    ):
        cells = [f"{v:14.1f}" for v in table[col]]
        print(f"{name:32s} {' '.join(cells)}")
    print(f"{'published (in-sample / corpus thr)':32s}")
    for name, scores in PUBLISHED.items():
        print(f"  {name:30s} " + " ".join(f"{a:6.1f} / {b:5.1f}" for a, b in scores))
    print("\nfold choices (standard):")
    for pick in table["A_picks"].iloc[0]:
        print("  A", pick)
    for pick in table["B_picks"].iloc[0]:
        print("  B", pick)
    print(f"\ntime: {table['seconds'].sum():.0f} s")
    return 0


if __name__ == "__main__":
    sys.exit(main())
