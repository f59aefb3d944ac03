"""`esc-analytics aggregate`: files in, one row per topic × window out, summary printed."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import pandas as pd
import pytest

from esc_analytics.cli import main

CSV = """\
tweet_id,tweet_created,airline,airline_sentiment,text
1,2015-02-24 11:35:52 -0800,united,negative,late again
2,2015-02-24 11:50:00 -0800,united,neutral,ok
2,2015-02-24 11:55:00 -0800,united,negative,duplicate
3,2015-02-24 13:10:00 -0800,delta,positive,love it
4,whenever,delta,negative,bad time
"""
MAPPING = ["--column", "created_at=tweet_created", "--column", "topic=airline"]


@pytest.fixture
def export(tmp_path: Path) -> Path:
    path = tmp_path / "tweets.csv"
    path.write_text(CSV)
    return path


@pytest.mark.parametrize("engine", ["duckdb", "pandas"])
@pytest.mark.parametrize("suffix", [".csv", ".parquet"])
def test_aggregate_writes_hourly_counts(
    export: Path, tmp_path: Path, capsys: pytest.CaptureFixture, engine: str, suffix: str
) -> None:
    out = tmp_path / f"features{suffix}"
    quarantine = tmp_path / "rejected.csv"
    status = main(
        [
            "aggregate",
            str(export),
            *MAPPING,
            "--engine",
            engine,
            "--quarantine",
            str(quarantine),
            "--out",
            str(out),
        ]
    )
    assert status == 0
    printed = capsys.readouterr().out
    assert "read 5, accepted 3, quarantined 2" in printed
    assert "duplicate_id: 1" in printed and "unparseable_time: 1" in printed
    frame = pd.read_parquet(out) if suffix == ".parquet" else pd.read_csv(out)
    # 19:35Z and 19:50Z (united), 21:10Z (delta): hours 19, 20, 21 for both topics
    assert frame["topic"].tolist() == ["delta"] * 3 + ["united"] * 3
    assert frame["volume"].tolist() == [0, 0, 1, 2, 0, 0]
    assert frame["negative_volume"].tolist() == [0, 0, 0, 1, 0, 0]
    assert str(pd.to_datetime(frame["window_start"], utc=True).iloc[0]) == (
        "2015-02-24 19:00:00+00:00"
    )
    rejected = pd.read_csv(quarantine)
    assert sorted(rejected["reason"]) == ["duplicate_id", "unparseable_time"]


def test_freq_and_planned_events(export: Path, tmp_path: Path) -> None:
    events = tmp_path / "events.csv"
    events.write_text("topic,started_at,ended_at\nunited,2015-02-24T19:00:00Z,2015-02-24T19:59Z\n")
    out = tmp_path / "f.csv"
    assert (
        main(
            [
                "aggregate",
                str(export),
                *MAPPING,
                "--freq",
                "30min",
                "--planned-events",
                str(events),
                "--out",
                str(out),
            ]
        )
        == 0
    )
    frame = pd.read_csv(out)
    assert len(frame) == 2 * 4  # windows 19:30, 20:00, 20:30, 21:00 for each topic
    united = frame[frame["topic"] == "united"]
    assert united["volume"].tolist() == [2, 0, 0, 0]
    # the event (19:00-19:59) overlaps only the 19:30 window, and only for united
    assert united["planned_event"].tolist() == [True, False, False, False]
    assert not frame.loc[frame["topic"] == "delta", "planned_event"].any()


@pytest.mark.parametrize(
    ("extra", "message"),
    [
        (["--freq", "soon"], "freq"),
        (["--column", "created_at=nope"], "nope"),
        (["--column", "created_at"], "CANONICAL=SOURCE"),
        (["--tz", "Mars/Olympus"], "time zone"),
    ],
)
def test_bad_options_exit_2(
    export: Path, tmp_path: Path, capsys: pytest.CaptureFixture, extra: list, message: str
) -> None:
    status = main(["aggregate", str(export), *extra, "--out", str(tmp_path / "o.csv")])
    assert status == 2
    assert message in capsys.readouterr().err


def test_bad_output_suffix_exit_2(export: Path, tmp_path: Path) -> None:
    assert main(["aggregate", str(export), "--out", str(tmp_path / "o.xlsx")]) == 2


def test_missing_file_in_a_real_process(tmp_path: Path) -> None:
    missing = tmp_path / "nowhere.csv"
    proc = subprocess.run(
        [
            str(Path(sys.executable).parent / "esc-analytics"),
            "aggregate",
            str(missing),
            "--out",
            str(tmp_path / "o.csv"),
        ],
        capture_output=True,
        text=True,
        check=False,
    )
    assert proc.returncode == 2
    assert "Traceback" not in proc.stderr
    assert str(missing) in proc.stderr
    assert len(proc.stderr.strip().splitlines()) == 1


def test_a_command_builds_only_its_own_parser(capsys) -> None:
    """``esc-analytics aggregate`` registers its own parser alone (it starts without what the
    other commands import); the top-level help and an unknown command still list them all."""
    import subprocess
    import sys

    probe = (
        "import sys\nfrom esc_analytics.cli import main\ntry:\n"
        "    main(['--debug', 'aggregate', '--help'])\nexcept SystemExit as done:\n"
        "    print(done.code, [m for m in sys.modules if m.startswith('esc_analytics.cli._')])"
    )
    out = subprocess.run(
        [sys.executable, "-c", probe], capture_output=True, text=True, check=True
    ).stdout
    assert "--engine" in out
    code, loaded = out.strip().splitlines()[-1].split(" ", 1)
    assert code == "0"
    assert "_aggregate" in loaded and "_calibrate" not in loaded and "_render" not in loaded
    with pytest.raises(SystemExit) as done:
        main(["nonsense"])
    assert done.value.code == 2
    error = capsys.readouterr().err
    assert "invalid choice" in error and "calibrate" in error and "fit-model" in error
    with pytest.raises(SystemExit):
        main(["--help"])
    assert "backtest" in capsys.readouterr().out
