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
    path = tmp_path / "latin.csv"
    frame = _export(TIMES[:3], "%Y-%m-%d %H:%M")
    frame["Full Text"] = "café crème €"
    frame.to_csv(path, index=False, encoding="cp1252")
    assert main(["aggregate", str(path), "--out", str(tmp_path / "f.csv")]) == 2
    err = capsys.readouterr().err.strip()
    assert len(err.splitlines()) == 1
    assert "latin.csv" in err and "UTF-8" in err and "--engine pandas" in err
