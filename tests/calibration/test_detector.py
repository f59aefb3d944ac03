"""The rank detector, calibrate's default for objective nab on a log of one severity: a
hand-checkable bursty series, the sweep's NAB score against evaluate + backtest for every
kind of candidate, when it applies, CLI/library agreement, and the five NAB tweet files."""

from __future__ import annotations

import dataclasses
import json
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

import esc_analytics as esc
from esc_analytics.backtesting._nab import scaled_sigmoid
from esc_analytics.calibration._detector import (
    RANK_MEASURE,
    rank_thresholds,
    refractory_windows,
)
from esc_analytics.cli import main

T0 = pd.Timestamp("2026-01-05", tz="UTC")
BURST_DAYS = (12, 22, 32)


def _bursty(days: int = 40, bursts=BURST_DAYS, phase: int = 0) -> tuple[np.ndarray, list]:
    """Hourly volume: an exactly repeating daily cycle (40-60 posts), and on each burst day
    a burst of 400 posts for 3 hours from 10:00, then an aftershock of 800 for 3 hours from
    17:00 — after the labelled window (07:00-14:00), where only a refractory keeps it
    quiet. Returns the volumes and the labelled (start, end) windows."""
    hours = np.arange(days * 24)
    volume = np.round(50 + 10 * np.sin(2 * np.pi * ((hours + phase) % 24) / 24))
    windows = []
    for day in bursts:
        start = day * 24 + 10
        volume[start : start + 3] = 400
        volume[start + 7 : start + 10] = 800
        windows.append((T0 + pd.Timedelta(hours=start - 3), T0 + pd.Timedelta(hours=start + 4)))
    return volume, windows


def _frame(topic: str, volume: np.ndarray) -> pd.DataFrame:
    times = pd.date_range(T0, periods=len(volume), freq="1h")
    return pd.DataFrame({"topic": topic, "window_start": times, "volume": volume})


def _incidents(topic: str, windows: list, severity: int = 1) -> pd.DataFrame:
    return pd.DataFrame(
        {
            "incident_id": [f"{topic}#{i + 1}" for i in range(len(windows))],
            "topic": topic,
            "started_at": [a for a, _ in windows],
            "ended_at": [b for _, b in windows],
            "severity": severity,
        }
    )


# --- the grid ------------------------------------------------------------------------------
def test_thresholds_are_numbers_a_person_types():
    grid = rank_thresholds()
    assert len(grid) == 49 and grid[-1] == 1.0 and grid[0] == 0.95
    assert np.all(np.diff(grid) > 0)
    for t in grid[:-1]:
        u = f"{1.0 - t:.2g}"  # 1 − θ has two significant digits
        assert float(u) == pytest.approx(1.0 - t, abs=1e-12)
        assert len(repr(float(t))) <= 7, t  # 0.9982, never 0.99820000001
    assert refractory_windows(pd.Timedelta("5min")) == (144, 288, 576)
    assert refractory_windows(pd.Timedelta("1h")) == (12, 24, 48)


# --- hand-checkable: three labelled bursts, each with a louder aftershock -------------------
def test_three_bursts_are_caught_once_each_and_the_refractory_silences_the_aftershocks():
    volume, windows = _bursty()
    features, incidents = _frame("acme", volume), _incidents("acme", windows)
    fit = esc.calibrate(features, incidents, objective="nab")

    (tier,) = fit.policy.tiers
    (cond,) = tier.all
    assert (cond.feature, cond.op) == (RANK_MEASURE, ">=")
    assert cond.value in rank_thresholds()
    assert tier.cooldown == 0 and tier.refractory in (12, 24, 48)
    assert len(fit.candidates) == 49 * 3 * 3 and fit.candidates["chosen"].sum() == 1
    p = tier.persistence
    # The rank is 1 (a new four-week high) on each of the burst's three hours, so the rule
    # pages p - 1 hours after each burst starts, once; the aftershock 7 h later is silenced.
    notes = esc.evaluate(fit.policy, features).notifications
    burst_starts = [T0 + pd.Timedelta(hours=d * 24 + 10) for d in BURST_DAYS]
    expected = [s + pd.Timedelta(hours=p - 1) for s in burst_starts]
    assert list(notes["window_start"]) == expected
    bt = fit.backtest
    assert int(bt.tiers["caught"].iloc[0]) == 3 and len(bt.false_alerts) == 0
    # NAB by hand: each window (8 rows, right edge at start + 4 h) is first detected at row
    # start + p - 1, y = -(4 - (p - 1) + 1) / 8; 3 windows of reward S(y)/S(-1)
    reward = scaled_sigmoid(-(5 - (p - 1)) / 8) / scaled_sigmoid(-1.0)
    assert bt.nab["score"] == pytest.approx(100 * (3 * reward + 3) / 6)
    assert fit.chosen["nab_score"].iloc[0] == pytest.approx(bt.nab["score"])
    # the same rule without its refractory pages each aftershock too: three false alerts
    loud = esc.Policy((dataclasses.replace(tier, refractory=0),))
    again = esc.evaluate(loud, features).notifications["window_start"]
    assert len(again) == 6
    assert set(again) - set(expected) == {s + pd.Timedelta(hours=8) for s in burst_starts}
    # summary, frontier plot and YAML work as for any calibration
    assert f"{RANK_MEASURE} >= " in fit.summary() and f"refractory {tier.refractory}" in (
        fit.summary()
    )
    assert fit.plot() is not None
    assert esc.Policy.from_yaml(fit.policy.to_yaml()) == fit.policy


def test_smoothed_score_is_the_mean_of_seven_neighbouring_thresholds():
    volume, windows = _bursty()
    fit = esc.calibrate(
        _frame("acme", volume), _incidents("acme", windows), objective="nab", run_backtest=False
    )
    for _, block in fit.candidates.groupby(["persistence", "refractory"]):
        raw = block["objective"].to_numpy()
        j = 10
        assert block["score"].iloc[j] == pytest.approx(raw[j - 3 : j + 4].mean())
        assert block["score"].iloc[0] == pytest.approx(raw[:4].mean())  # shorter at the edge
    best = fit.candidates["score"].max()
    assert fit.chosen["score"].iloc[0] == pytest.approx(best)


# --- the sweep's figures are evaluate + backtest's, exactly ---------------------------------
@pytest.mark.parametrize("max_delay", [None, "2h"])
def test_every_candidate_scores_as_evaluate_and_backtest(max_delay):
    a, wa = _bursty()
    b, wb = _bursty(days=35, bursts=(9, 20), phase=5)
    c, _ = _bursty(days=30, bursts=(15,), phase=11)  # a burst nobody labelled: false alerts
    frame_b = _frame("beta", b)
    frame_b["window_start"] += pd.Timedelta(days=2)  # another span
    frame_b = frame_b.drop(index=range(500, 530))  # and 30 missing windows (a break)
    features = pd.concat([_frame("alpha", a), frame_b, _frame("gamma", c)], ignore_index=True)
    features = features.sample(frac=1.0, random_state=3).reset_index(drop=True)  # any order
    wb = [(s + pd.Timedelta(days=2), e + pd.Timedelta(days=2)) for s, e in wb]
    incidents = pd.concat([_incidents("alpha", wa), _incidents("beta", wb)], ignore_index=True)
    incidents.loc[1, "ended_at"] = pd.NaT  # an open incident: 24 h by the matching rule
    fit = esc.calibrate(
        features,
        incidents,
        objective="nab",
        max_early="3h",
        max_delay=max_delay,
        run_backtest=False,
    )
    cands = fit.candidates
    for row in cands.iloc[::7].itertuples(index=False):
        tier = esc.Tier(
            1,
            "w",
            "o",
            all=(esc.Condition(RANK_MEASURE, ">=", row.threshold),),
            persistence=row.persistence,
            refractory=row.refractory,
        )
        bt = esc.backtest(
            esc.evaluate(esc.Policy((tier,)), features),
            incidents,
            max_early="3h",
            max_delay=max_delay,
            nab_profile="standard",
        )
        assert row.nab_score == pytest.approx(bt.nab["score"], abs=1e-9)
        assert row.notifications == int(bt.tiers["notifications"].iloc[0])
        assert row.caught == int(bt.tiers["caught"].iloc[0])
        assert row.false_alerts == int(bt.tiers["false_notifications"].iloc[0])
        assert row.false_per_week == pytest.approx(float(bt.tiers["false_per_week"].iloc[0]))


@pytest.mark.parametrize("profile", ["standard", "low_fp", "low_fn"])
def test_the_chosen_policy_scores_what_the_sweep_reported(profile):
    volume, windows = _bursty()
    features = pd.concat([_frame("acme", volume), _frame("quiet", _bursty(bursts=())[0])])
    fit = esc.calibrate(features, _incidents("acme", windows), objective="nab", nab_profile=profile)
    assert fit.backtest.nab["score"] == pytest.approx(fit.chosen["nab_score"].iloc[0])


# --- when it applies ------------------------------------------------------------------------
def test_a_tiered_log_keeps_the_sweep_and_one_severity_gets_one_tier():
    volume, windows = _bursty()
    features = _frame("acme", volume)
    features["volume_z"] = (features["volume"] - 50) / 10
    one = _incidents("acme", windows, severity=3)
    fit = esc.calibrate(features, one, objective="nab", n_tiers=3)
    assert [c.feature for c in fit.policy.tiers[0].all] == [RANK_MEASURE]
    assert len(fit.policy.tiers) == 1 and "every incident has severity 3" in fit.policy.description
    tiered = one.assign(severity=[1, 2, 3])
    swept = esc.calibrate(features, tiered, objective="nab", n_tiers=3, run_backtest=False)
    assert RANK_MEASURE not in swept.policy.features_used  # the tiered sweep, as before
    single = esc.calibrate(features, tiered, objective="nab", n_tiers=1, run_backtest=False)
    assert list(single.policy.features_used) == [RANK_MEASURE]  # one tier asked: the detector
    # explicit measures or another objective: the sweep
    other = esc.calibrate(
        features,
        one,
        objective="nab",
        feature_candidates=["volume_z"],
        n_tiers=1,
        run_backtest=False,
    )
    assert list(other.policy.features_used) == ["volume_z"]
    recall = esc.calibrate(features, one, objective="recall", n_tiers=1, run_backtest=False)
    assert RANK_MEASURE not in recall.policy.features_used


def test_walk_forward_fits_the_detector_in_every_fold():
    a, wa = _bursty()
    b, wb = _bursty(phase=7)
    features = pd.concat([_frame("alpha", a), _frame("beta", b)], ignore_index=True)
    incidents = pd.concat([_incidents("alpha", wa), _incidents("beta", wb)], ignore_index=True)
    result = esc.walk_forward(features, incidents, scheme="topics", objective="nab")
    assert result.nab == pytest.approx(result.folds["nab_score"].mean(), rel=1e-9)
    assert all(f"{RANK_MEASURE} >= " in p and "refractory" in p for p in result.folds["params"])
    assert result.nab > 90


# --- the CLI's plain default is the library's plan -----------------------------------------
def _write_nab_folder(folder: Path) -> tuple[list[Path], Path]:
    files, labels = [], {}
    for topic, phase, bursts in (("acme", 0, BURST_DAYS), ("globex", 9, (14, 30))):
        volume, windows = _bursty(bursts=bursts, phase=phase)
        path = folder / f"{topic}.csv"
        times = pd.date_range(T0, periods=len(volume), freq="1h").tz_localize(None)
        pd.DataFrame({"timestamp": times.strftime("%Y-%m-%d %H:%M:%S"), "value": volume}).to_csv(
            path, index=False
        )
        files.append(path)
        labels[f"folder/{topic}.csv"] = [
            {"start": f"{s.tz_localize(None)}.000000", "end": f"{e.tz_localize(None)}.000000"}
            for s, e in windows
        ]
    windows_file = folder / "anomaly_windows.json"
    windows_file.write_text(json.dumps(labels))
    return files, windows_file


def test_cli_plain_default_writes_the_librarys_rank_detector(tmp_path: Path, capsys):
    files, windows_file = _write_nab_folder(tmp_path)
    out = tmp_path / "p.yaml"
    args = [
        "calibrate",
        "--series",
        *map(str, files),
        "--incidents",
        str(windows_file),
        "--objective",
        "nab",
        "--out",
        str(out),
    ]
    assert main(args) == 0
    printed = capsys.readouterr().out
    written = esc.load_policy(out)
    inputs = esc.load_inputs(series=files, incidents=False, policy=False, planned_events=False)
    incidents = esc.incidents_from_nab_windows(windows_file)
    library = esc.calibrate(inputs.features, incidents, objective="nab")
    assert written.tiers == library.policy.tiers
    assert list(written.features_used) == [RANK_MEASURE] and len(written.tiers) == 1
    assert f"{RANK_MEASURE} >= " in printed and "caught 5/5" in printed
    # the written plan scores what the summary says when the library backtests it
    bt = esc.backtest(
        esc.evaluate(written, inputs.features), incidents, max_early="0h", nab_profile="standard"
    )
    assert bt.nab["score"] == pytest.approx(library.chosen["nab_score"].iloc[0])
    assert f"NAB standard: {bt.nab['score']:.1f}" in printed

    # explicit options still work and win
    assert (
        main([*args, "--tiers", "1", "--max-early", "24h", "--out", str(tmp_path / "same.yaml")])
        == 0
    )
    assert esc.load_policy(tmp_path / "same.yaml").tiers == written.tiers  # NAB ignores it
    assert main([*args[:-2], "--persistence", "3", "--out", str(tmp_path / "p3.yaml")]) == 0
    assert esc.load_policy(tmp_path / "p3.yaml").tiers[0].persistence == 3
    assert main([*args[:-2], "--cooldown", "0,6", "--out", str(tmp_path / "cd.yaml")]) == 0
    swept = esc.load_policy(tmp_path / "cd.yaml")
    assert RANK_MEASURE not in swept.features_used  # cooldowns asked for: the sweep
    capsys.readouterr()


# --- real data: the five NAB tweet files in ../shared --------------------------------------
@pytest.mark.slow
def test_tweet_files_in_sample_and_leave_one_file_out(nab_dir: Path, tmp_path: Path, capsys):
    files = sorted(nab_dir.glob("Twitter_volume_*.csv"))
    out = tmp_path / "nab.yaml"
    assert (
        main(
            [
                "calibrate",
                "--series",
                *map(str, files),
                "--incidents",
                str(nab_dir / "anomaly_windows.json"),
                "--objective",
                "nab",
                "--out",
                str(out),
            ]
        )
        == 0
    )
    capsys.readouterr()
    policy = esc.load_policy(out)
    (tier,) = policy.tiers
    assert list(policy.features_used) == [RANK_MEASURE] and tier.refractory == 288
    assert len(repr(tier.all[0].value)) <= 7  # written as typed: 0.9979
    inputs = esc.load_inputs(series=files, incidents=False, policy=False, planned_events=False)
    features = esc.add_detection_measures(inputs.features, [RANK_MEASURE])  # computed once
    incidents = esc.incidents_from_nab_windows(nab_dir / "anomaly_windows.json")
    bt = esc.backtest(esc.evaluate(policy, features), incidents, nab_profile="standard")
    assert bt.nab["score"] > 85  # 88.7 in sample when written
    result = esc.walk_forward(features, incidents, scheme="topics", objective="nab")
    # 85.3 when written (78.2 for the previous default); every file caught
    assert result.nab > 80
    assert result.pooled.loc[0, "caught"] == 17
