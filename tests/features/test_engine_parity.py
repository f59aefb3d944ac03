"""The three engines (pandas, DuckDB, Spark) give the loader's rows, reasons and numbers on the
same hostile files: messy CSV, CSV.gz, Parquet, JSON lines, several files with duplicate ids,
number conventions, mixed zones, malformed rows and hypothesis-generated frames. Spark runs in
local mode on the test session's one SparkSession (the ``spark`` fixture)."""

from __future__ import annotations

from pathlib import Path

import pandas as pd
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from test_duckdb import (
    JSON_LINES,
    MALFORMED_CASES,
    MESSY_CSV,
    NUMBER_CASES,
    _assert_same_features,
    _write,
    rows,
)

from esc_analytics import DataLoadError, aggregate_files, build_features
from esc_analytics.io import _load as _io

ENGINES = ["pandas", "duckdb", "spark"]
MAPPING = {"created_at": "tweet_created", "engagement": "retweets"}


@pytest.fixture(params=ENGINES)
def engine(request: pytest.FixtureRequest) -> dict:
    """aggregate_files' engine arguments; Spark's with the session's SparkSession."""
    if request.param == "spark":
        return {"engine": "spark", "spark": request.getfixturevalue("spark")}
    return {"engine": request.param}


def _same_as_loader(paths: list[Path], engine: dict, freq: str = "1h", columns=None,
                    tz=None, lines: bool = True) -> None:
    loaded = _io.load_mentions(paths if len(paths) > 1 else paths[0], columns=columns, tz=tz)
    result = aggregate_files(paths, freq=freq, columns=columns, tz=tz, **engine)
    for field in ("rows_read", "accepted", "quarantined", "reasons", "sentiment_estimated"):
        assert getattr(result.summary, field) == getattr(loaded.summary, field), field
    key = ["source", "line", "reason", "column"] if lines else ["source", "reason", "column"]
    ours = result.quarantine[key].sort_values(key).reset_index(drop=True)
    theirs = loaded.quarantine[key].sort_values(key).reset_index(drop=True)
    pd.testing.assert_frame_equal(ours, theirs, check_dtype=False)
    _assert_same_features(result.features, build_features(loaded.data, freq=freq))


@pytest.mark.parametrize("suffix", [".csv", ".csv.gz", ".parquet"])
def test_messy_export(tmp_path: Path, engine: dict, suffix: str) -> None:
    path = _write(MESSY_CSV, tmp_path / f"export{suffix}")
    _same_as_loader([path], engine, freq="15min", columns=MAPPING)


def test_json_lines(tmp_path: Path, engine: dict) -> None:
    _same_as_loader([_write(JSON_LINES, tmp_path / "export.jsonl")], engine)


def test_several_files_duplicates_across_them_and_mixed_zones(
    tmp_path: Path, engine: dict
) -> None:
    first = _write(
        "id,created_at,topic,author\na,2024-03-30 23:30,t,x\nb,2024-03-31 02:30+02:00,t,y\n",
        tmp_path / "1.csv",
    )
    second = _write(
        "id,created_at,topic,author\na,2024-03-31 05:00Z,t,x\nc,2024-03-31 03:30,u,x\n",
        tmp_path / "2.csv",
    )
    _same_as_loader([first, second], engine, tz="Europe/Paris")


@pytest.mark.parametrize(
    "case", ["european", "not finite", "no value words", "decimal comma and duplicate ids"]
)
def test_number_conventions(tmp_path: Path, engine: dict, case: str) -> None:
    _same_as_loader([_write(NUMBER_CASES[case], tmp_path / "export.csv")], engine)


@pytest.mark.parametrize("case", ["too many and too short", "with other reasons after them"])
def test_malformed_rows(tmp_path: Path, engine: dict, case: str) -> None:
    _same_as_loader([_write(MALFORMED_CASES[case][0], tmp_path / "export.csv")], engine)


def test_distinct_authors_exact_on_many_authors(tmp_path: Path, engine: dict) -> None:
    n = 5_000
    frame = pd.DataFrame(
        {
            "mention_id": [str(i) for i in range(n)],
            "created_at": pd.date_range("2024-01-01", periods=n, freq="37s", tz="UTC"),
            "topic": ["a", "b"] * (n // 2),
            "author": [f"user {i % 1_777}" for i in range(n)],
        }
    )
    _same_as_loader([_write(frame, tmp_path / "m.parquet")], engine, freq="1D")


@settings(
    max_examples=6,
    deadline=None,
    suppress_health_check=[HealthCheck.too_slow, HealthCheck.function_scoped_fixture],
)
@given(data=rows, freq=st.sampled_from(["30min", "6h"]))
def test_random_messy_frames(tmp_path: Path, engine: dict, data: list, freq: str) -> None:
    frame = pd.DataFrame(
        data,
        columns=["mention_id", "created_at", "topic", "author", "author_followers", "sentiment"],
    )
    path = tmp_path / "random.csv"
    frame.to_csv(path, index=False)
    try:
        _io.load_mentions(path)
    except DataLoadError:
        with pytest.raises(DataLoadError):
            aggregate_files(path, freq=freq, **engine)
        return
    _same_as_loader([path], engine, freq=freq)


def test_a_file_rewritten_under_the_same_name_is_read_again(tmp_path: Path, spark) -> None:
    """Spark matches cached data by plan: nothing cached may outlive a call (one that failed
    included), or the next call on a rewritten file would count its old rows."""
    path = tmp_path / "m.csv"
    path.write_text("id,created_at,topic\n1,garbage,t\n2,nonsense,t\n")
    with pytest.raises(DataLoadError, match="no value of the time column"):
        aggregate_files(path, engine="spark", spark=spark)
    path.write_text("id,created_at,topic\n1,2024-01-01 00:10,t\n1,2024-01-01 00:20,t\n")
    result = aggregate_files(path, engine="spark", spark=spark)
    assert (result.summary.accepted, result.summary.reasons) == (1, {"duplicate_id": 1})
