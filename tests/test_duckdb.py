"""The DuckDB (out-of-core) path gives the same rows, reasons and numbers as load + features."""

from __future__ import annotations

import gzip
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from esc_analytics import DataLoadError
from esc_analytics._features import aggregate_files, build_features
from esc_analytics._schema import FEATURE_BASELINES, FEATURE_MEASURES, QUARANTINE_COLUMNS

_io = pytest.importorskip("esc_analytics._io", reason="the loader module is not in this tree yet")

MESSY_CSV = """\
tweet_id,tweet_created,airline,user,followers,retweets,airline_sentiment,text
1,2015-02-24 11:35:52 -0800,united,ann,120,1,negative,late again
2,2015-02-24 11:50:00 -0800,united,bob,"1,500",0,neutral,ok
3,2015-02-24 12:10:00 -0800,delta,cyd,1.2K,3,POSITIVE,love it
3,2015-02-24 12:11:00 -0800,delta,cyd,10,0,negative,duplicate id
4,not a time,delta,dan,5,0,negative,bad time
5,,delta,eve,5,0,negative,missing time
6,2015-02-24 13:00:00 -0800,united,fay,-3,0,negative,negative followers
7,2015-02-24 13:05:00 -0800,united,gus,12,lots,negative,bad engagement
8,2015-02-24 13:06:00 -0800,united,hal,12,0,furious,bad label
9,2015-02-24 13:07:00 -0800,united,ian,12,0,1.7,out of range
10,02/24/2015 23:40,,jon,20000,7,-0.5,other format and empty topic
11,2015-02-25T01:00:00Z,delta,,50,2,0.2,no author
12,2015-02-25 02:30:00+01:00,delta,kim,40,1,,terrible awful service
"""


def _write(frame_or_text: pd.DataFrame | str, path: Path) -> Path:
    if isinstance(frame_or_text, str):
        if path.name.endswith(".gz"):
            with gzip.open(path, "wt") as handle:
                handle.write(frame_or_text)
        elif path.suffix == ".parquet":
            frame = pd.read_csv(
                pd.io.common.StringIO(frame_or_text), dtype=str, keep_default_na=False
            )
            frame.to_parquet(path, index=False)
        else:
            path.write_text(frame_or_text)
        return path
    if path.suffix == ".parquet":
        frame_or_text.to_parquet(path, index=False)
    else:
        frame_or_text.to_csv(path, index=False)
    return path


def _assert_same_features(ours: pd.DataFrame, expected: pd.DataFrame) -> None:
    assert ours["topic"].tolist() == expected["topic"].tolist()
    assert ours["window_start"].tolist() == expected["window_start"].tolist()
    for column in (*FEATURE_MEASURES, *FEATURE_BASELINES):
        np.testing.assert_allclose(
            ours[column].to_numpy(float),
            expected[column].to_numpy(float),
            rtol=1e-12,
            err_msg=column,
        )


@pytest.mark.parametrize("suffix", [".csv", ".csv.gz", ".parquet"])
@pytest.mark.parametrize("freq", ["15min", "1D"])
def test_messy_file_same_as_in_memory(tmp_path: Path, suffix: str, freq: str) -> None:
    path = _write(MESSY_CSV, tmp_path / f"export{suffix}")
    mapping = {"created_at": "tweet_created", "engagement": "retweets"}
    loaded = _io.load_mentions(path, columns=mapping)
    expected = build_features(loaded.data, freq=freq)
    result = aggregate_files([path], columns=mapping, freq=freq)
    assert result.summary.rows_read == loaded.summary.rows_read == 13
    assert result.summary.accepted == loaded.summary.accepted
    assert result.summary.reasons == loaded.summary.reasons
    _assert_same_features(result.features, expected)
    assert list(result.quarantine.columns) == list(QUARANTINE_COLUMNS)
    assert len(result.quarantine) == result.summary.quarantined
    assert sorted(result.quarantine["reason"]) == sorted(loaded.quarantine["reason"])


def test_messy_file_hand_counts(tmp_path: Path) -> None:
    """Accepted rows by hand: 1, 2, 3, 10, 11, 12 (the rest quarantined for a reason each)."""
    path = _write(MESSY_CSV, tmp_path / "export.csv")
    result = aggregate_files(
        path, columns={"created_at": "tweet_created", "engagement": "retweets"}, freq="1D"
    )
    assert result.summary.reasons == {
        "duplicate_id": 1,
        "unparseable_time": 1,
        "missing_time": 1,
        "negative_number": 1,
        "bad_number": 1,
        "bad_sentiment": 2,
    }
    features = result.features.set_index(["topic", "window_start"])
    day = pd.Timestamp("2015-02-24", tz="UTC")
    # 2015-02-24 UTC: united 1 (19:35Z), 2 (19:50Z); delta 3 (20:10Z); "all" 10 (23:40 naive)
    assert features.loc[("united", day), "volume"] == 2
    assert features.loc[("united", day), "reach"] == 120 + 1500
    assert features.loc[("delta", day), "reach"] == 1200
    assert features.loc[("all", day), "influencer_mentions"] == 1
    # 2015-02-25: delta 11 (no author) and 12 (01:30Z, sentiment scored from negative text)
    nxt = day + pd.Timedelta("1D")
    assert features.loc[("delta", nxt), "volume"] == 2
    assert features.loc[("delta", nxt), "unique_authors"] == 1
    assert features.loc[("delta", nxt), "negative_volume"] == 1
    assert result.summary.sentiment_estimated


def test_timezone_for_naive_times(tmp_path: Path) -> None:
    text = "id,created_at\n1,2024-07-01 00:30\n2,2024-07-01 02:10+00:00\n"
    path = _write(text, tmp_path / "m.csv")
    result = aggregate_files(path, tz="Europe/Paris", freq="1h")
    # 00:30 Paris (CEST) = 22:30Z on June 30; the aware one stays 02:10Z
    assert result.features["window_start"].iloc[0] == pd.Timestamp("2024-06-30 22:00", tz="UTC")
    assert result.features["volume"].tolist() == [1, 0, 0, 0, 1]
    assert "Europe/Paris" in result.summary.timezone_note


def test_several_files_keep_the_first_duplicate_in_file_order(tmp_path: Path) -> None:
    first = _write("id,created_at,topic\na,2024-01-01 00:00,t\n", tmp_path / "1.csv")
    second = _write("id,created_at,topic\na,2024-01-01 05:00,t\n", tmp_path / "2.csv")
    result = aggregate_files([first, second])
    assert result.summary.reasons == {"duplicate_id": 1}
    assert result.features["volume"].tolist() == [1]
    assert result.quarantine["source"].tolist() == [str(second)]


@pytest.mark.parametrize(
    ("content", "message"),
    [
        (None, "file not found"),
        ("", "empty"),
        ("id,topic\n1,a\n", "no timestamp column"),
    ],
)
def test_unusable_files_raise(tmp_path: Path, content: str | None, message: str) -> None:
    path = tmp_path / "bad.csv"
    if content is not None:
        path.write_text(content)
    with pytest.raises(DataLoadError, match=message) as info:
        aggregate_files(path)
    assert "bad.csv" in str(info.value)


def test_mapping_to_absent_column_raises(tmp_path: Path) -> None:
    path = _write("id,created_at\n1,2024-01-01\n", tmp_path / "m.csv")
    with pytest.raises(DataLoadError, match="nope"):
        aggregate_files(path, columns={"created_at": "nope"})


def test_directory_is_rejected(tmp_path: Path) -> None:
    with pytest.raises(DataLoadError, match="directory"):
        aggregate_files(tmp_path)


rows = st.lists(
    st.tuples(
        st.sampled_from(["a", "b", "c", "d", "e", "f"]),  # ids: duplicates happen
        st.one_of(
            st.integers(0, 2 * 24 * 60).map(
                lambda m: str(pd.Timestamp("2024-05-01") + pd.Timedelta(minutes=m))
            ),
            st.sampled_from(["", "garbage", "2024-05-02T10:00:00+02:00"]),
        ),
        st.sampled_from(["x", "y", ""]),
        st.sampled_from(["u1", "u2", ""]),
        st.sampled_from(["0", "10", "20000", "-1", "abc", "", "2.5K"]),
        st.sampled_from(["-0.9", "0.3", "negative", "Positive", "2", "meh", ""]),
    ),
    min_size=1,
    max_size=40,
)


@settings(
    max_examples=25,
    deadline=None,
    suppress_health_check=[HealthCheck.too_slow, HealthCheck.function_scoped_fixture],
)
@given(data=rows, freq=st.sampled_from(["30min", "1h", "6h"]))
def test_random_messy_frames_same_in_both_engines(tmp_path: Path, data: list, freq: str) -> None:
    frame = pd.DataFrame(
        data,
        columns=["mention_id", "created_at", "topic", "author", "author_followers", "sentiment"],
    )
    path = tmp_path / "random.csv"
    frame.to_csv(path, index=False)
    try:
        loaded = _io.load_mentions(path)
    except DataLoadError:
        with pytest.raises(DataLoadError):
            aggregate_files(path, freq=freq)
        return
    result = aggregate_files(path, freq=freq)
    assert result.summary.rows_read == loaded.summary.rows_read == len(frame)
    assert result.summary.reasons == loaded.summary.reasons
    assert result.features["volume"].sum() == loaded.summary.accepted
    _assert_same_features(result.features, build_features(loaded.data, freq=freq))


@pytest.mark.parametrize("collide", [False, True])
def test_distinct_authors_exact_when_hash_check_runs(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, collide: bool
) -> None:
    """Force the collision check (and, with collide, the recount from the author text): the
    unique-author counts stay those of the in-memory path."""
    from esc_analytics import _duckdb

    monkeypatch.setattr(_duckdb, "_HASH_COLLISION_BOUND", -1.0)
    calls: list[bool] = []

    def fake_check(con: object) -> bool:
        calls.append(True)
        return collide

    if collide:
        monkeypatch.setattr(_duckdb, "_author_hashes_collide", fake_check)
    path = _write(MESSY_CSV, tmp_path / "export.csv")
    mapping = {"created_at": "tweet_created", "engagement": "retweets"}
    result = aggregate_files(path, columns=mapping, freq="1h")
    expected = build_features(_io.load_mentions(path, columns=mapping).data, freq="1h")
    _assert_same_features(result.features, expected)
    assert calls == ([True] if collide else [])


def test_padded_and_empty_text_cells_are_trimmed(tmp_path: Path) -> None:
    """' ann' and 'ann ' are one author, a blank author is none, a padded id repeats 'a'."""
    text = (
        "id,created_at,topic,author\n"
        "a,2024-01-01 00:10,t,ann\n"
        " a ,2024-01-01 00:20,t,bob\n"
        "b,2024-01-01 00:30, t ,' ann'\n"
        "c,2024-01-01 00:40,t,'ann '\n"
        "d,2024-01-01 00:50,t,'  '\n"
    ).replace("'", '"')
    for suffix in (".csv", ".parquet"):
        path = _write(text, tmp_path / f"pad{suffix}")
        result = aggregate_files(path, freq="1h")
        assert result.summary.reasons == {"duplicate_id": 1}
        assert result.features["topic"].tolist() == ["t"]
        assert result.features["volume"].tolist() == [4]
        assert result.features["unique_authors"].tolist() == [1]


@pytest.mark.parametrize(
    ("times", "tz", "expected"),
    [
        (["2015-02-24 11:35:52 -0800", "2015-02-24T12:00:00Z"], None, "offsets converted to UTC"),
        (["2015-02-24 11:35:52", "2015-02-24 12:00:00"], None, "naive times taken as UTC"),
        (
            ["2015-02-24 11:35:52 +0100", "2015-02-24 12:00:00"],
            "Europe/Paris",
            "offsets converted to UTC; naive times taken as Europe/Paris and converted to UTC",
        ),
    ],
)
def test_timezone_note_says_what_was_done_like_the_loader(tmp_path, times, tz, expected):
    from esc_analytics._features import aggregate_files
    from esc_analytics._io import load_mentions

    path = tmp_path / "m.csv"
    rows = "\n".join(f"m{i},{t},brand" for i, t in enumerate(times))
    path.write_text("mention_id,created_at,topic\n" + rows + "\n")
    assert load_mentions(path, tz=tz).summary.timezone_note == expected
    assert aggregate_files([path], tz=tz).summary.timezone_note == expected
