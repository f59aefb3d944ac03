"""fit-model → detect --model round trips on small synthetic files; exit status 2 on errors."""

from __future__ import annotations

import contextlib
import io

import numpy as np
import pandas as pd
import pytest

import esc_analytics as esc
from esc_analytics.cli import main

HOURS = 24 * 21
SPIKES = (150, 260, 370, 450)


@pytest.fixture(scope="module")
def files(tmp_path_factory):
    """Two hourly series (NAB format) with 4 volume bursts each, and their incident log."""
    root = tmp_path_factory.mktemp("models_cli")
    rng = np.random.default_rng(7)
    times = pd.date_range("2026-03-02", periods=HOURS, freq="1h")
    incidents = []
    for topic in ("alpha", "beta"):
        volume = rng.poisson(40, HOURS).astype(float)
        for k, h in enumerate(SPIKES):
            volume[h : h + 5] *= np.array([3, 5, 7, 6, 4])
            incidents.append(
                {
                    "incident_id": f"{topic}-{k}",
                    "topic": topic,
                    "started_at": times[h].isoformat() + "Z",
                    "ended_at": times[h + 4].isoformat() + "Z",
                    "severity": k % 2 + 1,
                }
            )
        frame = pd.DataFrame({"timestamp": times.strftime("%Y-%m-%d %H:%M:%S"), "value": volume})
        frame.to_csv(root / f"{topic}.csv", index=False)
    pd.DataFrame(incidents).to_csv(root / "incidents.csv", index=False)
    return root


@pytest.fixture(scope="module")
def fitted(files):
    """A 2-tier logistic model fitted by the CLI (with a 2-fold comparison)."""
    out = files / "model.skops"
    argv = [
        "fit-model", "--series", str(files / "alpha.csv"), str(files / "beta.csv"),
        "--incidents", str(files / "incidents.csv"), "--tiers", "2", "--folds", "2",
        "--max-false-per-week", "2", "--out", str(out),
    ]
    printed = io.StringIO()
    with contextlib.redirect_stdout(printed):
        rc = main(argv)
    return rc, out, printed.getvalue()


def test_fit_model_prints_thresholds_and_saves(fitted):
    rc, out, printed = fitted
    assert rc == 0 and out.is_file()
    assert "tier 1: score threshold" in printed and "tier 2: score threshold" in printed
    assert "in sample" in printed and "walk-forward (expanding), 2 folds" in printed
    assert f"model written to {out}" in printed
    model = esc.load_model(out)
    assert sorted(model.models_) == [1, 2]
    assert all(0.0 < m.threshold_ < 1.0 for m in model.models_.values())


def test_detect_with_model_matches_the_library_in_input_order(files, fitted, tmp_path):
    _, model_path, _ = fitted
    order = [files / "beta.csv", files / "alpha.csv"]  # not alphabetical
    out = tmp_path / "detected.csv"
    rc = main(["detect", "--series", *map(str, order), "--model", str(model_path),
               "--out", str(out)])
    assert rc == 0
    table = pd.read_csv(out)
    assert list(table.columns) == ["topic", "window_start", "tier", "escalation"]
    frame = pd.concat([pd.read_csv(f).assign(topic=f.stem) for f in order], ignore_index=True)
    assert table["topic"].tolist() == frame["topic"].tolist()
    got = pd.to_datetime(table["window_start"], utc=True).to_numpy()
    assert (got == pd.to_datetime(frame["timestamp"], utc=True).to_numpy()).all()
    # The same tiers as the library on the same features, row for row.
    series = esc.load_series([str(f) for f in order]).data
    features = esc.add_detection_features(
        pd.concat([esc.features_from_series(g) for _, g in series.groupby("topic", sort=True)],
                  ignore_index=True)
    )
    windows = esc.load_model(model_path).escalations(features).windows
    lib = windows.set_index(["topic", "window_start"])["tier"]
    keys = list(zip(table["topic"], pd.to_datetime(table["window_start"], utc=True), strict=True))
    assert lib.loc[keys].tolist() == table["tier"].tolist()
    # The bursts are found: every incident's first hours reach a tier in the detect output.
    for topic in ("alpha", "beta"):
        part = table[table["topic"] == topic].reset_index(drop=True)
        for h in SPIKES:
            assert part.loc[h : h + 4, "tier"].max() >= 1


def test_fit_model_dataset_and_event_options_reach_the_saved_model(files, tmp_path):
    """--burst-level, --scale-free, --tune-events and --nab-profile are the model's settings;
    detect --model then finds the burst feature it learned from on its own."""
    from esc_analytics.models._classifiers import _is_scale_free

    out = tmp_path / "burst.skops"
    argv = [
        "fit-model", "--series", str(files / "alpha.csv"), str(files / "beta.csv"),
        "--incidents", str(files / "incidents.csv"), "--tiers", "1", "--folds", "0",
        "--objective", "nab", "--nab-profile", "low_fp", "--burst-level", "2,3,0.9",
        "--scale-free", "--tune-events", "--out", str(out),
    ]
    printed = io.StringIO()
    with contextlib.redirect_stdout(printed):
        assert main(argv) == 0
    text = printed.getvalue()
    assert "objective nab (low_fp)" in text and "tuned on escalations" in text
    assert "NAB reward_low_FP_rate:" in text  # the in-sample backtest scores that profile
    model = esc.load_model(out)
    assert tuple(map(tuple, model.burst_levels)) == ((2, 3.0, 0.9),)
    assert model.scale_free and model.tune_events and model.nab_profile == "low_fp"
    assert "level_q90_3d_s2" in model.columns_
    assert all(_is_scale_free(c) for c in model.columns_)
    assert not any(c in model.columns_ for c in ("volume", "log_volume"))
    detected = tmp_path / "d.csv"
    rc = main(["detect", "--series", str(files / "alpha.csv"), "--model", str(out),
               "--out", str(detected)])
    assert rc == 0
    part = pd.read_csv(detected)
    assert all(part.loc[h : h + 4, "tier"].max() >= 1 for h in SPIKES)


def test_mentions_with_text_round_trip(tmp_path):
    rng = np.random.default_rng(3)
    start = pd.Timestamp("2026-03-02", tz="UTC")
    hours = 24 * 14
    rows, incidents = [], []
    bursts = (90, 170, 250)
    for hour in range(hours):
        angry = any(b <= hour < b + 4 for b in bursts)
        n = rng.poisson(20 if angry else 6)
        for i in range(n):
            text = "app outage again refund now" if angry and i % 2 == 0 else "nice new colours"
            rows.append({"id": f"m{hour}-{i}", "created_at": start + pd.Timedelta(hours=hour,
                         minutes=int(rng.integers(0, 60))), "text": text, "topic": "shop"})
    for k, b in enumerate(bursts):
        incidents.append({"incident_id": f"i{k}", "topic": "shop",
                          "started_at": (start + pd.Timedelta(hours=b)).isoformat(),
                          "ended_at": (start + pd.Timedelta(hours=b + 3)).isoformat(),
                          "severity": 1})
    pd.DataFrame(rows).to_csv(tmp_path / "mentions.csv", index=False)
    pd.DataFrame(incidents).to_csv(tmp_path / "incidents.csv", index=False)
    model = tmp_path / "text.skops"
    assert main(["fit-model", "--mentions", str(tmp_path / "mentions.csv"), "--incidents",
                 str(tmp_path / "incidents.csv"), "--tiers", "1", "--folds", "0",
                 "--out", str(model)]) == 0
    assert esc.load_model(model).use_text_
    out = tmp_path / "d.parquet"
    assert main(["detect", "--mentions", str(tmp_path / "mentions.csv"), "--model", str(model),
                 "--out", str(out)]) == 0
    table = pd.read_parquet(out)
    assert len(table) == hours
    assert all(table["tier"].iloc[b : b + 4].max() == 1 for b in bursts)


def _error_line(capsys) -> str:
    err = capsys.readouterr().err.strip()
    assert len(err.splitlines()) == 1, err
    return err


@pytest.mark.parametrize(
    ("content", "message"),
    [
        (b"not a zip file", "not a skops model"),
        (b"tiers:\n- level: 1\n", "not a skops model"),
        (None, "not found"),
    ],
)
def test_detect_with_a_bad_model_file_exits_2(files, tmp_path, capsys, content, message):
    path = tmp_path / "bad.skops"
    if content is not None:
        path.write_bytes(content)
    rc = main(["detect", "--series", str(files / "alpha.csv"), "--model", str(path),
               "--out", str(tmp_path / "d.csv")])
    assert rc == 2
    assert message in _error_line(capsys)


def test_a_skops_file_of_something_else_is_refused(files, tmp_path, capsys):
    import skops.io as sio

    path = tmp_path / "other.skops"
    sio.dump({"format": "someone-else/1"}, path)
    rc = main(["detect", "--series", str(files / "alpha.csv"), "--model", str(path),
               "--out", str(tmp_path / "d.csv")])
    assert rc == 2
    assert "not an esc-analytics model" in _error_line(capsys)


@pytest.mark.parametrize(
    ("extra", "message"),
    [
        (["--tiers", "0"], "--tiers"),
        (["--horizon", "soon"], "--horizon"),
        (["--out-suffix"], "--out must end in .skops"),
        (["--burst-level", "3,7"], "--burst-level expects SMOOTH,DAYS,QUANTILE"),
        (["--burst-level", "3,7,1.5"], "quantile strictly between 0 and 1"),
        (["--burst-level", "0,7,0.99"], "smoothing must be >= 1"),
        (["--nab-profile", "lowest"], "unknown NAB profile 'lowest'"),
    ],
)
def test_fit_model_option_errors_exit_2(files, tmp_path, capsys, extra, message):
    out = tmp_path / ("m.pkl" if extra == ["--out-suffix"] else "m.skops")
    extra = [] if extra == ["--out-suffix"] else extra
    rc = main(["fit-model", "--series", str(files / "alpha.csv"), "--incidents",
               str(files / "incidents.csv"), "--out", str(out), *extra])
    assert rc == 2
    assert message in _error_line(capsys)


def test_detect_needs_exactly_one_source(files, fitted, tmp_path, capsys):
    policy = tmp_path / "p.yaml"
    policy.write_text("tiers:\n- level: 1\n  name: watch\n  owner: desk\n  all: ['volume > 1']\n")
    rc = main(["detect", "--series", str(files / "alpha.csv"), "--model", str(fitted[1]),
               "--policy", str(policy), "--out", str(tmp_path / "d.csv")])
    assert rc == 2
    assert "exactly one of --policy or --model" in _error_line(capsys)
