"""The features file is the hand-off: what aggregate writes (any engine) is what every command
and notebook starts from, with its window length and absent measures carried in the file."""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

import esc_analytics as esc
from esc_analytics import DataLoadError, read_features, write_features
from esc_analytics.cli import main

SAMPLE_POLICY = Path(__file__).resolve().parents[2] / "data" / "sample" / "policy.yaml"


def _mentions(folder: Path, days: int = 9) -> Path:
    """Hourly-ish mentions of two topics over ``days`` days, no follower column (reach,
    influencers absent), one bursty afternoon."""
    rng = np.random.default_rng(11)
    n = 3_000
    start = pd.Timestamp("2024-05-01", tz="UTC")
    seconds = rng.integers(0, days * 86_400, n)
    seconds[:300] = 6 * 86_400 + 14 * 3_600 + rng.integers(0, 7_200, 300)
    frame = pd.DataFrame(
        {
            "post_id": [f"p{i}" for i in range(n)],
            "posted": (start + pd.to_timedelta(seconds, unit="s")).strftime("%Y-%m-%d %H:%M:%S"),
            "brand": rng.choice(["north", "south"], n),
            "handle": [f"u{i}" for i in rng.integers(0, 400, n)],
            "tone": rng.choice(["negative", "neutral", "positive"], n),
        }
    )
    path = folder / "export.csv"
    frame.to_csv(path, index=False)
    return path


MAPPING = ["--column", "mention_id=post_id", "--column", "created_at=posted",
           "--column", "topic=brand", "--column", "author=handle", "--column", "sentiment=tone"]


@pytest.mark.parametrize("suffix", [".parquet", ".csv"])
@pytest.mark.parametrize("freq", ["1h", "30min"])
def test_round_trip_keeps_numbers_window_and_absent_measures(
    tmp_path: Path, suffix: str, freq: str
) -> None:
    path = _mentions(tmp_path)
    out = tmp_path / f"features{suffix}"
    assert main(["aggregate", str(path), *MAPPING, "--freq", freq, "--out", str(out)]) == 0
    loaded = esc.load_mentions(
        path, columns={"mention_id": "post_id", "created_at": "posted", "topic": "brand",
                       "author": "handle", "sentiment": "tone"}
    )
    expected = esc.build_features(loaded.data, freq=freq)
    features = read_features(out)
    assert features.attrs["freq"] == pd.Timedelta(freq)
    assert set(features.attrs["absent_features"]) == set(expected.attrs["absent_features"])
    assert "reach" in features.attrs["absent_features"]
    pd.testing.assert_frame_equal(
        features[list(expected.columns)].reset_index(drop=True),
        expected.reset_index(drop=True),
        check_dtype=False,
        check_index_type=False,
        check_column_type=False,
    )


def test_csv_without_its_sidecar_tells_the_window_from_the_rows(tmp_path: Path) -> None:
    path = _mentions(tmp_path)
    out = tmp_path / "features.csv"
    assert main(["aggregate", str(path), *MAPPING, "--freq", "2h", "--out", str(out)]) == 0
    meta = json.loads((tmp_path / "features.csv.meta.json").read_text())
    assert (meta["freq"], meta["freq_seconds"]) == ("2h", 7200)
    (tmp_path / "features.csv.meta.json").unlink()
    features = read_features(out)
    assert features.attrs["freq"] == pd.Timedelta("2h")
    assert features.attrs["absent_features"] == {}


@pytest.mark.parametrize(
    ("content", "message"),
    [(None, "not found"), ("a,b\n1,2\n", "not a features file"), ("\x00\x01", "")],
)
def test_what_is_not_a_features_file_is_refused(tmp_path: Path, content, message) -> None:
    path = tmp_path / "f.csv"
    if content is not None:
        path.write_text(content)
    with pytest.raises(DataLoadError, match=message):
        read_features(path)


@pytest.mark.parametrize("command", ["backtest", "calibrate", "detect", "check"])
def test_commands_give_the_same_answer_from_the_features_file(
    tmp_path: Path, capsys: pytest.CaptureFixture, command: str
) -> None:
    path = _mentions(tmp_path)
    incidents = tmp_path / "incidents.csv"
    incidents.write_text(
        "incident_id,topic,started_at,ended_at,severity\n"
        "I1,north,2024-05-07 14:10:00,2024-05-07 18:00:00,2\n"
        "I2,south,2024-05-07 14:20:00,2024-05-07 18:00:00,1\n"
    )
    features = tmp_path / "features.parquet"
    assert main(["aggregate", str(path), *MAPPING, "--out", str(features)]) == 0
    capsys.readouterr()
    extra = {
        "backtest": ["--incidents", str(incidents), "--policy", str(SAMPLE_POLICY), "--json"],
        "calibrate": ["--incidents", str(incidents), "--tiers", "1"],
        "detect": ["--policy", str(SAMPLE_POLICY)],
        "check": ["--incidents", str(incidents)],
    }[command]
    outputs = []
    sources = (["--mentions", str(path), *MAPPING], ["--features", str(features)])
    for i, source in enumerate(sources):
        out = (
            ["--out", str(tmp_path / f"o{i}.{'yaml' if command == 'calibrate' else 'csv'}")]
            if command in ("calibrate", "detect")
            else []
        )
        code = main([command, *source, *extra, *out])
        printed = capsys.readouterr().out
        assert code == 0, printed
        written = Path(out[1]).read_text() if out else ""
        printed = printed.replace(out[1], "OUT") if out else printed
        # what was read differs (a load summary or the features file); the answer must not
        read = ("mentions ", "  times:", "  columns:", "measures:", "features ", "incidents")
        body = [ln for ln in printed.splitlines() if not ln.startswith(read)]
        if command == "backtest":
            payload = json.loads(printed)
            payload.pop("load", None)
            body = [json.dumps(payload, sort_keys=True)]
        outputs.append((body, written))
    assert outputs[0] == outputs[1]


def test_a_different_freq_than_the_file_is_one_line(tmp_path: Path, capsys) -> None:
    path = _mentions(tmp_path)
    features = tmp_path / "features.parquet"
    assert main(["aggregate", str(path), *MAPPING, "--out", str(features)]) == 0
    code = main(["detect", "--features", str(features), "--freq", "15min",
                 "--policy", str(SAMPLE_POLICY), "--out", str(tmp_path / "d.csv")])
    assert code == 2
    err = capsys.readouterr().err.strip().splitlines()
    assert len(err) == 1 and "holds windows of" in err[0]


def test_load_inputs_starts_from_a_features_file(tmp_path: Path, sample_dir: Path) -> None:
    features = tmp_path / "features.csv"
    assert main(["aggregate", str(sample_dir / "mentions.csv.gz"), "--planned-events",
                 str(sample_dir / "planned_events.csv"), "--out", str(features)]) == 0
    inputs = esc.load_inputs(sample_dir, features_path=features)
    assert inputs.mentions is None and inputs.freq == pd.Timedelta("1h")
    assert inputs.policy is not None and len(inputs.incidents.data) == 25
    built = esc.load_inputs(sample_dir)
    np.testing.assert_allclose(
        inputs.features["volume_ratio"].to_numpy(float),
        built.features["volume_ratio"].to_numpy(float),
        rtol=1e-9,
    )
    assert f"read from {features}" in inputs.summary()


def test_write_features_refuses_other_suffixes(tmp_path: Path) -> None:
    frame = pd.DataFrame({"topic": ["a"], "window_start": [pd.Timestamp(0, tz="UTC")],
                          "volume": [1]})
    with pytest.raises(DataLoadError, match=r"\.csv or \.parquet"):
        write_features(frame, tmp_path / "f.json", freq="1h")
