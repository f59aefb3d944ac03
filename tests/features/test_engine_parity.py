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


#: Hypothesis settings of the generated-frame tests (three engines each: a few examples).
FEW_EXAMPLES = settings(
    max_examples=6,
    deadline=None,
    suppress_health_check=[HealthCheck.too_slow, HealthCheck.function_scoped_fixture],
)


def _same_as_loader_or_both_refuse(path: Path, engine: dict, freq: str) -> None:
    """A generated file: the loader's numbers, or refused by the engine as by the loader."""
    try:
        _io.load_mentions(path)
    except DataLoadError:
        with pytest.raises(DataLoadError):
            aggregate_files(path, freq=freq, **engine)
        return
    _same_as_loader([path], engine, freq=freq)


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


@FEW_EXAMPLES
@given(data=rows, freq=st.sampled_from(["30min", "6h"]))
def test_random_messy_frames(tmp_path: Path, engine: dict, data: list, freq: str) -> None:
    frame = pd.DataFrame(
        data,
        columns=["mention_id", "created_at", "topic", "author", "author_followers", "sentiment"],
    )
    path = tmp_path / "random.csv"
    frame.to_csv(path, index=False)
    _same_as_loader_or_both_refuse(path, engine, freq)


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


def _typed_frame(n: int = 24) -> pd.DataFrame:
    """A typed export (as a lake table holds it) with every hostile value the rules name:
    missing and out-of-range times, NaN / ±inf / negative numbers, sentiment outside -1..1,
    padded and empty texts, missing and repeated ids."""
    times = pd.Series(pd.date_range("2024-03-01 08:00", periods=n, freq="25min", tz="UTC"))
    times[3] = pd.NaT
    times[5] = pd.Timestamp("1800-01-01", tz="UTC")
    times[7] = pd.Timestamp("2250-06-01", tz="UTC")
    ids = pd.array([100 + i for i in range(n)], dtype="Int64")
    ids[9] = 101  # a repeat of row 1
    ids[11] = pd.NA
    ids[13] = 101  # and another
    followers = [float(10 * i) for i in range(n)]
    followers[2], followers[4], followers[6], followers[8] = (
        float("nan"), float("inf"), -5.0, float("-inf"))
    sentiment = [round(-0.9 + 0.08 * i, 2) for i in range(n)]
    sentiment[10], sentiment[12], sentiment[14], sentiment[15] = (
        float("nan"), 1.5, -2.0, None)
    topics = ["acme", " acme ", "beta", "", None, "beta  "] * (n // 6)
    authors = [f"user{i % 7}" for i in range(n)]
    authors[16], authors[17], authors[18] = " user1", "", None
    texts = ["awful, terrible service", "love it", None, "", "refund now", "ok"] * (n // 6)
    return pd.DataFrame(
        {
            "id": ids,
            "created_at": times,
            "topic": topics,
            "author": authors,
            "followers": followers,
            "engagement": pd.array([i % 5 - (i == 19) * 9 for i in range(n)], dtype="Int64"),
            "sentiment": sentiment,
            "is_verified": [i % 4 == 0 for i in range(n)],
            "text": texts,
        }
    )


def _variant(frame: pd.DataFrame, case: str) -> pd.DataFrame:
    frame = frame.copy()
    if case == "naive times":
        frame["created_at"] = frame["created_at"].dt.tz_localize(None)
    elif case == "dates":
        frame["created_at"] = frame["created_at"].dt.tz_localize(None).dt.date
    elif case == "no sentiment column":  # every row with text is scored
        frame = frame.drop(columns=["sentiment"])
    elif case == "verified as words and numbers":
        frame["is_verified"] = ["yes", "no", " TRUE ", "", None, "1"] * (len(frame) // 6)
        frame["engagement"] = frame["engagement"].astype("float32")
    elif case == "integer flags and topics":
        frame["is_verified"] = pd.array([i % 3 for i in range(len(frame))], dtype="int16")
        frame["topic"] = pd.array([i % 2 for i in range(len(frame))], dtype="Int64")
    return frame


TYPED_CASES = ["timestamps with zone", "naive times", "dates", "no sentiment column",
               "verified as words and numbers", "integer flags and topics"]


@pytest.mark.parametrize("case", TYPED_CASES)
def test_typed_parquet(tmp_path: Path, engine: dict, case: str, monkeypatch) -> None:
    """Typed files take the Spark engine's native path (Spark's own expressions, not the
    DuckDB rules on the executors) and give the loader's rows, reasons and numbers."""
    calls = _count_native(monkeypatch)
    path = _write(_variant(_typed_frame(), case), tmp_path / "typed.parquet")
    _same_as_loader([path], engine, freq="1h")
    if engine["engine"] == "spark":
        assert calls == [0]


def test_typed_parquet_files_with_ids_repeated_across_them(
    tmp_path: Path, engine: dict, monkeypatch
) -> None:
    calls = _count_native(monkeypatch)
    frame = _typed_frame()
    first = _write(frame.iloc[:12], tmp_path / "a.parquet")
    second = frame.iloc[12:].copy()
    second.loc[second.index[:3], "id"] = [100, 102, 103]  # ids of the first file
    _same_as_loader([first, _write(second, tmp_path / "b.parquet")], engine, freq="2h")
    if engine["engine"] == "spark":
        assert calls == [0, 1]


def test_a_typed_file_in_another_zone_is_left_to_the_rules(
    tmp_path: Path, spark, monkeypatch
) -> None:
    """Naive times in a named zone (DST gaps and folds): the DuckDB rules decide, not the
    native path, and the numbers are the loader's."""
    calls = _count_native(monkeypatch)
    frame = _variant(_typed_frame(), "naive times")
    frame["created_at"] = pd.date_range("2024-03-31 00:00", periods=len(frame), freq="10min")
    path = _write(frame, tmp_path / "paris.parquet")
    _same_as_loader([path], {"engine": "spark", "spark": spark}, tz="Europe/Paris")
    assert calls == []


def _count_native(monkeypatch) -> list[int]:
    """The files (by index) the Spark engine normalised natively, recorded as it runs."""
    from esc_analytics.features import _spark

    calls: list[int] = []
    real = _spark.native_rows

    def counted(frame, index, *args, **kwargs):
        calls.append(index)
        return real(frame, index, *args, **kwargs)

    monkeypatch.setattr(_spark, "native_rows", counted)
    return calls


typed_rows = st.lists(
    st.tuples(
        st.one_of(st.none(), st.integers(1, 6)),  # ids: repeats and missing ones
        st.one_of(
            st.none(),
            st.integers(0, 2 * 24 * 60).map(
                lambda m: pd.Timestamp("2024-05-01", tz="UTC") + pd.Timedelta(minutes=m)
            ),
            st.sampled_from([pd.Timestamp("1850-01-01", tz="UTC")]),
        ),
        st.sampled_from(["x", " y", "", None]),
        st.sampled_from(["u1", "u2 ", "", None]),
        st.one_of(st.none(), st.floats(allow_nan=True, allow_infinity=True, width=32)),
        st.one_of(st.none(), st.just(float("nan")), st.floats(-1.5, 1.5)),
        st.sampled_from(["terrible awful", "nice", "", None]),
    ),
    min_size=1,
    max_size=30,
)


@FEW_EXAMPLES
@given(data=typed_rows, freq=st.sampled_from(["30min", "6h"]))
def test_random_typed_frames(tmp_path: Path, engine: dict, data: list, freq: str) -> None:
    """Typed Parquet (the Spark engine's native path) with random NaN, ±inf, negatives,
    out-of-range sentiment and times, padded texts and repeated ids: the loader's numbers."""
    frame = pd.DataFrame(
        data,
        columns=["id", "created_at", "topic", "author", "followers", "sentiment", "text"],
    ).astype({"id": "Int64", "followers": "float64", "sentiment": "float64"})
    frame["created_at"] = pd.to_datetime(frame["created_at"], utc=True)
    path = tmp_path / "random.parquet"
    frame.to_parquet(path, index=False)
    _same_as_loader_or_both_refuse(path, engine, freq)


def test_very_many_repeated_ids_are_decided_by_one_window(
    tmp_path: Path, spark, monkeypatch
) -> None:
    """Beyond the repeats a broadcast can hold, one window over every row decides which
    row of an id is first: the same duplicates as the loader's, on typed and text files."""
    from esc_analytics.features import _spark

    monkeypatch.setattr(_spark, "_REPEATED_LIMIT", 1)
    frame = _typed_frame()
    frame["id"] = pd.array([i % 5 for i in range(len(frame))], dtype="Int64")
    typed = _write(frame, tmp_path / "typed.parquet")
    text = _write(
        "id,created_at,topic\n1,2024-01-01 00:10,t\n2,2024-01-01 00:20,t\n1,2024-01-01 00:30,t\n"
        "2,2024-01-01 00:40,u\n3,2024-01-01 00:50,u\n",
        tmp_path / "text.csv",
    )
    _same_as_loader([typed, text], {"engine": "spark", "spark": spark})
