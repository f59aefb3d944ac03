"""NAB scorer: hand-computed cases, a row-by-row reference (NAB's sweeper logic) and real data."""

from __future__ import annotations

import json
import math

import numpy as np
import pandas as pd
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from esc_analytics import Escalations
from esc_analytics._util.errors import PolicyError
from esc_analytics.backtesting._nab import (
    NAB_PROFILES,
    NabFile,
    get_profile,
    nab_from_escalations,
    nab_score,
    nab_score_file,
    probation_rows,
    scaled_sigmoid,
    window_rows,
)


def S(y: float) -> float:
    """NAB's scaled sigmoid, written out by hand for the expectations below."""
    return -1.0 if y > 3 else 2.0 / (1.0 + math.exp(5.0 * y)) - 1.0


S1 = S(-1.0)  # 2 / (1 + e^-5) - 1 = 0.98661...


# ----------------------------------------------------------------------------- building blocks
@pytest.mark.parametrize(
    ("y", "expected"),
    [
        (-1.0, 0.9866142981514305),
        (-0.5, 0.8482836399575131),
        (0.0, 0.0),
        (3.0, 2.0 / (1.0 + math.exp(15.0)) - 1.0),  # NAB clamps only beyond 3
        (3.0001, -1.0),
        (7.0, -1.0),
    ],
)
def test_scaled_sigmoid_matches_nab_values(y, expected):
    assert float(scaled_sigmoid(y)) == pytest.approx(expected, abs=1e-12)


@pytest.mark.parametrize(
    ("n", "expected"), [(0, 0), (10, 1), (1000, 150), (4999, 749), (5000, 750), (15903, 750)]
)
def test_probation_is_fifteen_percent_capped_at_750(n, expected):
    assert probation_rows(n) == expected


def test_profiles_have_nab_weights():
    assert (NAB_PROFILES["standard"].tp, NAB_PROFILES["standard"].fp) == (1.0, 0.11)
    assert NAB_PROFILES["reward_low_FP_rate"].fp == 0.22
    assert NAB_PROFILES["reward_low_FN_rate"].fn == 2.0
    assert get_profile("low_fn") is NAB_PROFILES["reward_low_FN_rate"]
    with pytest.raises(PolicyError, match="unknown NAB profile"):
        get_profile("bogus")


# ----------------------------------------------------------------------------- hand-computed
# A 1000-row file (probation = 150 rows) with windows rows 200..209 (w=10) and 500..519 (w=20).
WINDOWS = [(200, 209), (500, 519)]


def _score(rows, profile="standard", windows=WINDOWS, n=1000):
    return NabFile.from_rows(n, windows).score_rows(np.asarray(rows, dtype=np.int64), profile)


@pytest.mark.parametrize(
    ("rows", "expected_raw", "tp", "fn", "fp"),
    [
        # Never alert: both windows missed.
        ([], -2.0, 0, 2, 0),
        # Left edges: y = -1 -> full reward 1 each.
        ([200, 500], 2.0, 2, 0, 0),
        # Right edge of window 1: y = -(209-209+1)/10 = -0.1; window 2 missed.
        ([209], S(-0.1) / S1 - 1.0, 1, 1, 0),
        # Two alerts in one window: only the earliest (row 205, y = -5/10) counts.
        ([205, 207], S(-0.5) / S1 - 1.0, 1, 1, 0),
        # An alert before any window is a full false positive: -0.11.
        ([160], -0.11 - 2.0, 0, 2, 1),
        # An alert in probation (row < 150) counts nothing.
        ([10, 149], -2.0, 0, 2, 0),
        # Just after window 1: y = (210-209)/(10-1) = 1/9.
        ([210], 0.11 * S(1 / 9) - 2.0, 0, 2, 1),
        # Far after window 1 (y > 3): -0.11; after window 2 measured from window 2.
        ([300, 525], -0.11 + 0.11 * S(6 / 19) - 2.0, 0, 2, 2),
    ],
)
def test_hand_computed_file_scores(rows, expected_raw, tp, fn, fp):
    s = _score(rows)
    assert s.raw == pytest.approx(expected_raw, abs=1e-12)
    assert (s.tp, s.fn, s.fp) == (tp, fn, fp)
    assert (s.raw_null, s.raw_perfect, s.windows) == (-2.0, 2.0, 2)


@pytest.mark.parametrize(
    ("profile", "expected"),
    [
        ("standard", 1.0 - 1.0 - 0.11),
        ("reward_low_FP_rate", 1.0 - 1.0 - 0.22),
        ("reward_low_FN_rate", 1.0 - 2.0 - 0.11),
    ],
)
def test_profiles_weigh_misses_and_false_alarms(profile, expected):
    assert _score([160, 200], profile).raw == pytest.approx(expected)


def test_window_inside_probation_is_not_scored_and_partial_window_keeps_its_width():
    # Probation = 150 rows: window 20..40 lies inside it, window 140..159 straddles its edge.
    windows = [(20, 40), (140, 159)]
    f = NabFile.from_rows(1000, windows)
    assert f.n_windows == 1  # the first lies entirely in probation
    # Detection at row 145 (in probation) is ignored -> the second window is missed.
    assert f.score_rows(np.array([145])).raw == pytest.approx(-1.0)
    # Detection at row 150: y = -(159 - 150 + 1)/20 = -0.5 (full width 20 is kept).
    assert f.score_rows(np.array([150])).raw == pytest.approx(S(-0.5) / S1)
    # A false positive after the straddling window is measured from its right edge.
    assert f.score_rows(np.array([170, 150])).raw == pytest.approx(
        S(-0.5) / S1 + 0.11 * S((170 - 159) / 19)
    )


def test_one_row_previous_window_does_not_divide_by_zero():
    f = NabFile.from_rows(1000, [(300, 300)])
    assert f.score_rows(np.array([300])).raw == pytest.approx(1.0)  # y = -1/1
    assert f.score_rows(np.array([301])).raw == pytest.approx(-1.0 + 0.11 * S(1.0))


def test_overlapping_windows_are_merged():
    f = NabFile.from_rows(1000, [(500, 520), (200, 209), (510, 530)])
    assert f.windows.tolist() == [[200, 209], [500, 530]]


def test_bad_windows_raise():
    with pytest.raises(ValueError, match="row pairs"):
        NabFile.from_rows(100, [(50, 40)])
    with pytest.raises(ValueError, match="row pairs"):
        NabFile.from_rows(100, [(50, 100)])


# ----------------------------------------------------------------------------- reference
def _reference_raw(n, windows, detections, tp=1.0, fp=0.11, fn=1.0):
    """Row-by-row scoring as NAB's sweeper does it (independent of the vectorised code)."""
    prob = min(math.floor(0.15 * n), 750)
    win_of = {}
    for k, (a, b) in enumerate(windows):
        for i in range(a, b + 1):
            win_of[i] = k
    best = {k: -fn for k, (a, b) in enumerate(windows) if b >= prob}
    fp_total = 0.0
    prev = None
    for i in range(n):
        k = win_of.get(i)
        if i >= prob and detections[i]:
            if k is not None:
                a, b = windows[k]
                best[k] = max(best[k], tp * S(-(b - i + 1) / (b - a + 1)) / S1)
            elif prev is None:
                fp_total -= fp
            else:
                a, b = windows[prev]
                fp_total += fp * S(abs(b - i) / max(b - a, 1))
        if k is not None and i == windows[k][1]:
            prev = k
    return sum(best.values()) + fp_total


@st.composite
def _file(draw):
    n = draw(st.integers(20, 300))
    cuts = sorted(draw(st.lists(st.integers(0, n - 1), min_size=0, max_size=8, unique=True)))
    windows = [(cuts[i], cuts[i + 1]) for i in range(0, len(cuts) - 1, 2)]
    detections = np.array(draw(st.lists(st.booleans(), min_size=n, max_size=n)))
    return n, windows, detections


@settings(max_examples=200, deadline=None)
@given(_file(), st.sampled_from(sorted(NAB_PROFILES)))
def test_vectorised_scorer_equals_row_by_row_reference(case, profile):
    n, windows, detections = case
    prof = NAB_PROFILES[profile]
    got = NabFile.from_rows(n, windows).score(detections, profile)
    want = _reference_raw(n, windows, detections, prof.tp, prof.fp, prof.fn)
    assert got.raw == pytest.approx(want, abs=1e-9)


# ----------------------------------------------------------------------------- timestamps API
def test_nab_score_file_maps_times_to_rows_and_normalises():
    ts = pd.date_range("2015-03-01", periods=1000, freq="5min")
    windows = [(ts[200], ts[209]), (ts[500], ts[519])]
    assert window_rows(ts, windows).tolist() == [[200, 209], [500, 519]]
    det = np.zeros(1000, dtype=bool)
    det[[200, 500]] = True
    perfect = nab_score_file(ts, det, windows)
    assert perfect.raw == pytest.approx(2.0)
    result = nab_score(
        {"x": det, "y": np.zeros(1000, bool)}, {"x": windows, "y": windows}, {"x": ts, "y": ts}
    )
    # x perfect (+2), y null (-2): normalised over both = 100 * (0 - -4) / (4 - -4) = 50.
    assert result.normalised == pytest.approx(50.0)
    assert result.per_topic.set_index("topic")["score"].to_dict() == pytest.approx(
        {"x": 100.0, "y": 0.0}
    )


def test_nab_from_escalations_counts_notification_windows():
    freq = pd.Timedelta("5min")
    ts = pd.date_range("2015-03-01", periods=1000, freq=freq, tz="UTC")
    windows = pd.DataFrame({"topic": "t", "window_start": ts, "tier": 0, "escalation": 0})
    # Tier-1 alert at row 205 (mid window 1), tier-2 alert at row 500 (left edge of window 2).
    notes = pd.DataFrame(
        {"topic": "t", "window_start": ts[[205, 500]], "tier": [1, 2], "episode_id": ["a", "b"]}
    )
    notes["alerted_at"] = notes["window_start"] + freq
    episodes = pd.DataFrame(
        {
            "episode_id": ["a", "b"],
            "topic": "t",
            "tier": [1, 2],
            "started_at": ts[[205, 500]],
            "ended_at": ts[[206, 501]],
        }
    )
    esc = Escalations(windows, episodes, notes, freq)
    incidents = pd.DataFrame(
        {"topic": "t", "started_at": ts[[200, 500]], "ended_at": ts[[209, 519]]}
    )
    all_tiers = nab_from_escalations(esc, incidents)
    assert all_tiers.raw == pytest.approx(S(-0.5) / S1 + 1.0)
    tier2 = nab_from_escalations(esc, incidents, min_tier=2)
    assert tier2.raw == pytest.approx(-1.0 + 1.0)
    assert tier2.normalised == pytest.approx(50.0)


# ----------------------------------------------------------------------------- real data
def _nab_files(nab_dir):
    labels = json.loads((nab_dir / "anomaly_windows.json").read_text())
    for name, wins in sorted(labels.items()):
        ts = pd.to_datetime(pd.read_csv(nab_dir / name, usecols=["timestamp"])["timestamp"])
        yield name, ts, [(pd.Timestamp(w["start"]), pd.Timestamp(w["end"])) for w in wins]


@pytest.mark.parametrize("profile", sorted(NAB_PROFILES))
def test_real_files_null_is_0_and_left_edge_detector_is_100(nab_dir, profile):
    dets_perfect, dets_null, wins, tss = {}, {}, {}, {}
    n_windows = 0
    for name, ts, windows in _nab_files(nab_dir):
        rows = window_rows(ts, windows)
        # Labels are row timestamps: every window maps onto exact rows.
        assert (ts.iloc[rows[:, 0]].tolist(), ts.iloc[rows[:, 1]].tolist()) == (
            [s for s, _ in windows],
            [e for _, e in windows],
        )
        det = np.zeros(len(ts), dtype=bool)
        det[rows[:, 0]] = True
        dets_perfect[name], dets_null[name] = det, np.zeros(len(ts), dtype=bool)
        wins[name], tss[name] = windows, ts
        n_windows += len(windows)
    assert n_windows == 17
    perfect = nab_score(dets_perfect, wins, tss, profile)
    null = nab_score(dets_null, wins, tss, profile)
    assert perfect.normalised == pytest.approx(100.0)
    assert null.normalised == pytest.approx(0.0)
    prof = NAB_PROFILES[profile]
    assert perfect.raw_perfect == pytest.approx(17 * prof.tp)
    assert null.raw_null == pytest.approx(-17 * prof.fn)
