"""User journeys with exports as real listening tools write them (not as the sample is written):
day-first dates, European decimal commas, Excel's UTF-16 text — through the loader and both
aggregation engines, which must agree."""

from __future__ import annotations

from pathlib import Path

import pandas as pd
import pytest

import esc_analytics as esc
from esc_analytics.cli import main

# 7-hourly posts over February 2015: the first days (01/02 … 12/02) read either way
TIMES = pd.date_range("2015-02-01", "2015-02-28 23:00", freq="7h", tz="UTC")


def _export(times: pd.DatetimeIndex, fmt: str, sentiment: list[str] | None = None) -> pd.DataFrame:
    n = len(times)
    return pd.DataFrame(
        {
            "Url": [f"https://x.com/{i}" for i in range(n)],
            "Date": times.strftime(fmt),
            "Brand": "Acme",
            "Full Text": "late again",
            "Sentiment": sentiment if sentiment is not None else ["negative"] * n,
        }
    )


@pytest.mark.parametrize(
    "fmt",
    [
        "%d/%m/%Y %H:%M",  # Brandwatch / European: day first, first rows ambiguous
        "%m/%d/%Y %H:%M",  # US: month first
        "%d.%m.%Y %H:%M",  # German
        "%d-%m-%Y %H:%M:%S",
        "%b %d, %Y %I:%M %p",  # "Feb 24, 2015 11:35 AM"
    ],
)
def test_numeric_dates_read_one_way_per_column(tmp_path: Path, fmt: str) -> None:
    path = tmp_path / "export.csv"
    _export(TIMES, fmt).to_csv(path, index=False)
    loaded = esc.load_mentions(path)
    assert loaded.summary.accepted == len(TIMES)
    assert loaded.data["created_at"].tolist() == TIMES.tolist()


@pytest.mark.parametrize("engine", ["duckdb", "pandas"])
def test_day_first_export_aggregates_over_its_real_span(tmp_path: Path, engine: str) -> None:
    path = tmp_path / "brandwatch.csv"
    _export(TIMES, "%d/%m/%Y %H:%M").to_csv(path, index=False)
    out = tmp_path / "features.csv"
    assert main(["aggregate", str(path), "--engine", engine, "--out", str(out)]) == 0
    frame = pd.read_csv(out)
    # 28 days of hourly windows, not Jan 2 … Dec 2 as a month-first misreading gives
    assert len(frame) == 28 * 24 - 1 - 6 + 1
    assert frame["volume"].sum() == len(TIMES)
    assert frame["window_start"].iloc[0] == "2015-02-01T00:00:00Z"


@pytest.mark.parametrize(
    ("cells", "expected"),
    [
        (["-0,25", "0,5", "-1", "0"], [-0.25, 0.5, -1.0, 0.0]),
        (["-,5", "NEGATIVE", "Positive", "0.1"], [-0.5, -1.0, 1.0, 0.1]),
    ],
)
def test_sentiment_with_decimal_comma(tmp_path: Path, cells: list[str], expected: list) -> None:
    path = tmp_path / "eu.csv"
    frame = _export(TIMES[:4], "%Y-%m-%d %H:%M", sentiment=cells)
    frame.to_csv(path, index=False, sep=";")
    loaded = esc.load_mentions(path)
    assert loaded.summary.quarantined == 0
    assert loaded.data["sentiment"].tolist() == pytest.approx(expected)
    negatives = sum(v < 0 for v in expected)
    for engine in ("duckdb", "pandas"):
        out = tmp_path / f"{engine}.csv"
        assert main(["aggregate", str(path), "--engine", engine, "--out", str(out)]) == 0
        assert pd.read_csv(out)["negative_volume"].sum() == negatives


@pytest.mark.parametrize("sep", ["\t", ","])
def test_utf16_excel_export_aggregates_with_duckdb(tmp_path: Path, sep: str) -> None:
    path = tmp_path / "excel.csv"
    _export(TIMES, "%Y-%m-%d %H:%M").to_csv(path, index=False, sep=sep, encoding="utf-16")
    outs = []
    for engine in ("duckdb", "pandas"):
        out = tmp_path / f"{engine}.csv"
        assert main(["aggregate", str(path), "--engine", engine, "--out", str(out)]) == 0
        outs.append(pd.read_csv(out))
    pd.testing.assert_frame_equal(outs[0], outs[1])
    assert outs[0]["volume"].sum() == len(TIMES)


def test_cp1252_with_duckdb_says_what_to_do(
    tmp_path: Path, capsys: pytest.CaptureFixture
) -> None:
    """cp1252 bytes in a column the aggregation reads (authors) stop the DuckDB engine with
    what to do; in a column it never reads (the post text) they cannot change a number, and
    both engines agree."""
    path = tmp_path / "latin.csv"
    frame = _export(TIMES[:3], "%Y-%m-%d %H:%M")
    frame["Author"] = ["renée", "josé", "renée"]
    frame.to_csv(path, index=False, encoding="cp1252")
    assert main(["aggregate", str(path), "--out", str(tmp_path / "f.csv")]) == 2
    err = capsys.readouterr().err.strip()
    assert len(err.splitlines()) == 1
    assert "latin.csv" in err and "UTF-8" in err and "--engine pandas" in err

    text_only = tmp_path / "latin_text.csv"
    frame = _export(TIMES[:3], "%Y-%m-%d %H:%M")
    frame["Full Text"] = "café crème €"
    frame.to_csv(text_only, index=False, encoding="cp1252")
    outs = {}
    for engine in ("duckdb", "pandas"):
        outs[engine] = tmp_path / f"{engine}.csv"
        args = ["aggregate", str(text_only), "--engine", engine, "--out", str(outs[engine])]
        assert main(args) == 0
    duck, pandas_ = (pd.read_csv(outs[e]) for e in ("duckdb", "pandas"))
    assert duck["volume"].tolist() == pandas_["volume"].tolist()
    assert duck["volume"].sum() == 3
    assert duck["negative_volume"].tolist() == pandas_["negative_volume"].tolist()


# --- incident logs in other shapes, through the CLI --------------------------------------------

POLICY = Path(__file__).resolve().parents[2] / "data" / "sample" / "policy.yaml"


@pytest.fixture
def history(tmp_path: Path) -> Path:
    """Four days of hourly posts on one brand with a burst on day 3."""
    quiet = pd.date_range("2015-02-01", "2015-02-04 23:00", freq="1h", tz="UTC")
    burst = pd.date_range("2015-02-03 10:00", periods=120, freq="1min", tz="UTC")
    times = quiet.append(burst).sort_values()
    path = tmp_path / "mentions.csv"
    _export(times, "%Y-%m-%dT%H:%M:%SZ").to_csv(path, index=False)
    return path


def _incident_log(tmp_path: Path, severities: list[str]) -> Path:
    n = len(severities)
    path = tmp_path / "incidents.csv"
    pd.DataFrame(
        {
            "incident_id": [f"INC-{k}" for k in range(n)],
            "topic": "Acme",
            "started_at": [f"2015-02-0{2 + k % 3}T10:00:00Z" for k in range(n)],
            "ended_at": [f"2015-02-0{2 + k % 3}T14:00:00Z" for k in range(n)],
            "detected_at": [f"2015-02-0{2 + k % 3}T13:00:00Z" for k in range(n)],
            "severity": severities,
        }
    ).to_csv(path, index=False)
    return path


@pytest.mark.parametrize(
    ("severities", "options", "status", "says"),
    [
        (["P1", "P2"], [], 2, ["incidents.csv", "bad_severity: 2", "--severity P1=3"]),
        (["Sev 1", "Sev 3"], [], 2, ["no usable incident", "--severity"]),
        (["P1", "P2"], ["--severity", "P1=3", "--severity", "p2=2"], 0, []),
        (["high", "P2"], [], 0, ["read 2, accepted 1, quarantined 1", "--severity"]),
        (["P1"], ["--severity", "P1=top"], 2, ["--severity P1=top", "whole number"]),
        (["P1"], ["--severity", "P1=0"], 2, ["whole number >= 1"]),
    ],
)
def test_backtest_incident_severity_labels(
    tmp_path: Path,
    history: Path,
    capsys: pytest.CaptureFixture,
    severities: list[str],
    options: list[str],
    status: int,
    says: list[str],
) -> None:
    """A failure is one stderr line; a run that quarantined labels says so (and how to map
    them) in its load summary on stdout."""
    log = _incident_log(tmp_path, severities)
    args = ["backtest", "--mentions", str(history), "--incidents", str(log)]
    assert main([*args, "--policy", str(POLICY), *options]) == status
    captured = capsys.readouterr()
    assert "Traceback" not in captured.err
    if status:
        assert len(captured.err.strip().splitlines()) == 1
    else:
        assert captured.err == ""
    for text in says:
        assert text in (captured.err if status else captured.out)
    if status == 0:
        assert f"{len(severities) - (1 if says else 0)} incidents evaluated" in captured.out


def test_backtest_prints_readable_durations(
    tmp_path: Path, history: Path, capsys: pytest.CaptureFixture
) -> None:
    log = _incident_log(tmp_path, ["1", "2", "3"])
    args = ["backtest", "--mentions", str(history), "--incidents", str(log)]
    assert main([*args, "--policy", str(POLICY)]) == 0
    table = capsys.readouterr().out.split("incident_id", 1)[1]
    assert "days" not in table and "NaT" not in table


# --- tiny histories through the Python API ------------------------------------------------------


@pytest.mark.parametrize(
    ("starts", "kwargs", "message"),
    [
        # one week with one incident (or none): nothing to fit on and test on in turn
        (["2015-02-06T10:00:00Z"], {"n_folds": 4}, ["at least 2 incidents", "(1 found)"]),
        ([], {"n_folds": 2}, ["at least 2 incidents", "(0 found)"]),
        (["2015-02-06T10:00:00Z"], {"scheme": "topics"}, ["at least two topics"]),
    ],
)
def test_walk_forward_on_a_short_history_names_the_fold(
    starts: list[str], kwargs: dict, message: list[str]
) -> None:
    times = pd.date_range("2015-02-01", "2015-02-07 23:00", freq="20min", tz="UTC")
    mentions = esc.load_mentions(_export(times, "%Y-%m-%dT%H:%M:%SZ")).data
    features = esc.build_features(mentions)
    incidents = pd.DataFrame(
        {
            "incident_id": [f"I{k}" for k in range(len(starts))],
            "topic": "Acme",
            "started_at": pd.to_datetime(starts, utc=True),
            "severity": 1,
        }
    )
    with pytest.raises(esc.EscAnalyticsError) as raised:
        esc.walk_forward(features, incidents, **kwargs)
    for text in message:
        assert text in str(raised.value)


@pytest.mark.parametrize(
    ("topics", "starts", "message"),
    [
        ([], [], ["no incident given"]),
        (["Globex"], ["2015-02-03T10:00:00Z"], ["incident topics: Globex", "feature topics: Acme"]),
        (["Acme"], ["2015-03-20T10:00:00Z"], ["time span", "2015-02-01 00:00", "2015-03-20 10:00"]),
    ],
)
def test_calibrate_says_why_nothing_can_be_fitted(
    topics: list[str], starts: list[str], message: list[str]
) -> None:
    times = pd.date_range("2015-02-01", "2015-02-07 23:00", freq="20min", tz="UTC")
    features = esc.build_features(esc.load_mentions(_export(times, "%Y-%m-%dT%H:%M:%SZ")).data)
    incidents = pd.DataFrame(
        {
            "incident_id": [f"I{k}" for k in range(len(starts))],
            "topic": pd.Series(topics, dtype="str"),
            "started_at": pd.to_datetime(starts, utc=True),
            "severity": 1,
        }
    )
    with pytest.raises(esc.EscAnalyticsError) as raised:
        esc.calibrate(features, incidents)
    for text in message:
        assert text in str(raised.value)
