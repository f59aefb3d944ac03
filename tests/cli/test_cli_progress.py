"""Progress on the command line and in the library: tqdm on a terminal, nothing in a pipe or
with --quiet, and never a different result, printed report or output file."""

from __future__ import annotations

import contextlib
import io
import sys

import numpy as np
import pandas as pd
import pytest

import esc_analytics as esc
from esc_analytics._util.progress import PROGRESS_ENV
from esc_analytics.cli import main

HOURS = 24 * 21


class FakeTerminal(io.StringIO):
    def isatty(self) -> bool:
        return True


@pytest.fixture(autouse=True)
def _automatic(monkeypatch):
    monkeypatch.delenv(PROGRESS_ENV, raising=False)


@pytest.fixture(scope="module")
def files(tmp_path_factory):
    root = tmp_path_factory.mktemp("progress_cli")
    rng = np.random.default_rng(11)
    times = pd.date_range("2026-03-02", periods=HOURS, freq="1h")
    incidents = []
    for topic in ("alpha", "beta"):
        volume = rng.poisson(40, HOURS).astype(float)
        for k, h in enumerate((150, 260, 370, 450)):
            volume[h : h + 4] *= 6
            incidents.append({"incident_id": f"{topic}-{k}", "topic": topic,
                              "started_at": times[h].isoformat() + "Z",
                              "ended_at": times[h + 4].isoformat() + "Z",
                              "severity": k % 2 + 1})
        pd.DataFrame({"timestamp": times.strftime("%Y-%m-%d %H:%M:%S"), "value": volume}).to_csv(
            root / f"{topic}.csv", index=False
        )
    pd.DataFrame(incidents).to_csv(root / "incidents.csv", index=False)
    return root


def run(argv, stderr):
    out = io.StringIO()
    with contextlib.redirect_stdout(out), contextlib.redirect_stderr(stderr):
        rc = main(argv)
    return rc, out.getvalue()


def calibrate_argv(files, out, *extra):
    return ["calibrate", "--series", str(files / "alpha.csv"), str(files / "beta.csv"),
            "--incidents", str(files / "incidents.csv"), "--tiers", "2",
            "--out", str(out), *extra]


def test_calibrate_shows_a_bar_on_a_terminal_only_and_writes_the_same(files, tmp_path):
    pipe, terminal, quiet = io.StringIO(), FakeTerminal(), FakeTerminal()
    outs = [tmp_path / f"{name}.yaml" for name in ("pipe", "terminal", "quiet")]
    rc1, printed_pipe = run(calibrate_argv(files, outs[0]), pipe)
    rc2, printed_tty = run(calibrate_argv(files, outs[1]), terminal)
    rc3, printed_quiet = run(calibrate_argv(files, outs[2], "--quiet"), quiet)
    assert rc1 == rc2 == rc3 == 0
    assert pipe.getvalue() == "" and quiet.getvalue() == ""
    assert "calibrate (recall)" in terminal.getvalue() and "grid" in terminal.getvalue()
    # the bar changes nothing else: same report, byte-identical policy file
    strip = [p.replace(str(o), "OUT") for p, o in zip(
        (printed_pipe, printed_tty, printed_quiet), outs, strict=True)]
    assert strip[0] == strip[1] == strip[2]
    assert outs[0].read_bytes() == outs[1].read_bytes() == outs[2].read_bytes()


def test_fit_model_says_what_it_fits_and_shows_its_bars(files, tmp_path):
    terminal = FakeTerminal()
    rc, printed = run(["fit-model", "--series", str(files / "alpha.csv"), str(files / "beta.csv"),
                       "--incidents", str(files / "incidents.csv"), "--tiers", "2",
                       "--folds", "2", "--out", str(tmp_path / "m.skops")], terminal)
    assert rc == 0
    first = printed.index("fitting: one logistic classifier per tier for tiers 1-2")
    assert first < printed.index("tier 1: score threshold")
    assert "3 time-series splits" in printed
    assert "walk-forward over 2 folds" in printed and "persistence [1, 2, 3]" in printed
    bars = terminal.getvalue()
    assert "fit logistic" in bars and "compare (2 folds)" in bars
    assert "fit logistic" not in printed  # bars never reach stdout


def test_aggregate_bar_and_quiet(tmp_path):
    times = pd.date_range("2026-03-02", periods=200, freq="17min", tz="UTC")
    pd.DataFrame({"mention_id": [f"m{i}" for i in range(200)], "created_at": times,
                  "topic": "a", "text": "ok"}).to_csv(tmp_path / "m.csv", index=False)
    terminal, quiet = FakeTerminal(), FakeTerminal()
    rc1, _ = run(["aggregate", str(tmp_path / "m.csv"), "--out", str(tmp_path / "a.csv")],
                 terminal)
    rc2, _ = run(["aggregate", str(tmp_path / "m.csv"), "--out", str(tmp_path / "b.csv"),
                  "--quiet"], quiet)
    assert rc1 == rc2 == 0
    assert "aggregate" in terminal.getvalue() and quiet.getvalue() == ""
    assert (tmp_path / "a.csv").read_bytes() == (tmp_path / "b.csv").read_bytes()


def _series_features(files):
    inputs = esc.load_inputs(series=[files / "alpha.csv", files / "beta.csv"],
                             incidents=files / "incidents.csv", policy=False,
                             planned_events=False)
    return inputs.features, inputs.incidents.data


def test_walk_forward_progress_changes_nothing(files, monkeypatch, capsys):
    features, incidents = _series_features(files)
    monkeypatch.setattr(sys, "stderr", FakeTerminal())
    quiet = esc.walk_forward(features, incidents, n_folds=2, n_tiers=1, progress=False)
    shown = esc.walk_forward(features, incidents, n_folds=2, n_tiers=1, progress=True)
    assert "walk-forward (expanding)" in sys.stderr.getvalue()
    pd.testing.assert_frame_equal(quiet.folds, shown.folds)
    pd.testing.assert_frame_equal(quiet.pooled, shown.pooled)


def test_library_calls_are_quiet_when_stderr_is_not_a_terminal(files, capsys):
    features, incidents = _series_features(files)
    esc.calibrate(features, incidents, n_tiers=1)
    assert capsys.readouterr().err == ""
