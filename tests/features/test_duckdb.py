"""The DuckDB (out-of-core) path gives the same rows, reasons and numbers as load + features."""

from __future__ import annotations

import gzip
import re
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from esc_analytics import DataLoadError, aggregate_files, build_features
from esc_analytics._util.schema import FEATURE_BASELINES, FEATURE_MEASURES, QUARANTINE_COLUMNS
from esc_analytics.features import _duckdb
from esc_analytics.io import _load as _io

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


@pytest.mark.parametrize("in_numpy", [True, False], ids=["numpy-sort", "duckdb-aggregate"])
def test_duplicate_ids_found_alike_by_both_id_passes(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, in_numpy: bool
) -> None:
    """Small files sort the id hashes in numpy, large ones (here: every file) group them in
    DuckDB; both find the same duplicates, padded ids included, missing ids never."""
    if not in_numpy:
        monkeypatch.setattr(_duckdb, "_NUMPY_ID_BYTES", 0)
    rows = ["a", " a", "", "", "b", "b", "c"]
    lines = "".join(f"{r},2024-01-01 0{i}:00,t\n" for i, r in enumerate(rows))
    path = _write("id,created_at,topic\n" + lines, tmp_path / "ids.csv")
    result = aggregate_files(path)
    assert result.summary.reasons == {"duplicate_id": 2}
    assert sorted(result.quarantine["line"].tolist()) == [3, 7]
    _assert_same_as_loader([path])


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
    from esc_analytics import aggregate_files, load_mentions

    path = tmp_path / "m.csv"
    rows = "\n".join(f"m{i},{t},brand" for i, t in enumerate(times))
    path.write_text("mention_id,created_at,topic\n" + rows + "\n")
    assert load_mentions(path, tz=tz).summary.timezone_note == expected
    assert aggregate_files([path], tz=tz).summary.timezone_note == expected


# --- malformed CSV rows (too many / too few fields): quarantined like the loader does ------


def _good_rows(n: int) -> list[str]:
    words = ["terrible awful", "great", "late again"]
    return [
        f"{i},2024-03-04T{i % 24:02d}:{i % 60:02d}:00Z,Acme,u{i % 7},,\"hi, {words[i % 3]}\""
        for i in range(1, n + 1)
    ]


def _with_bad_lines(n: int, bad: list[tuple[int, str]]) -> str:
    """n good rows with the ``bad`` lines inserted at the given data positions (0 = first)."""
    rows = _good_rows(n)
    for position, line in sorted(bad, reverse=True):
        rows.insert(position, line)
    return "mention_id,created_at,topic,author,sentiment,text\n" + "\n".join(rows) + "\n"


PROBE_CSV = """\
mention_id,created_at,topic,text
1,2024-03-04T14:05:00Z,Acme,ok
2,2024-03-04T14:06:00Z,Acme,fine
3,2024-03-04T14:07:00Z,Acme,too,many,fields
4,2024-03-04T14:08:00Z
"""

MALFORMED_CASES = {
    "too many and too short": (PROBE_CSV, 2),
    "one bad among 200": (_with_bad_lines(200, [(120, "999,2024-03-04T14:07:00Z,Acme,u,,x,y")]), 1),
    "first and last rows": (_with_bad_lines(50, [(0, "1,a,b,c,d,e,f,g"), (50, "994,a")]), 2),
    "consecutive": (_with_bad_lines(60, [(5, "1,a"), (5, "2,b"), (5, "3,c"), (40, "x")]), 4),
    "with other reasons after them": (
        _with_bad_lines(
            40,
            [
                (3, "995,2024"),
                (9, "50,not a time,Acme,u,,x"),
                (10, "3,2024-03-04T14:08:00Z,Acme,u,,dup id"),
                (20, "51,02/24/2015 23:40,Acme,u,,format the loader reads"),
            ],
        ),
        1,
    ),
}


@pytest.mark.parametrize("suffix", [".csv", ".csv.gz"])
@pytest.mark.parametrize("case", list(MALFORMED_CASES))
def test_malformed_rows_quarantined_like_the_loader(tmp_path: Path, case: str, suffix: str):
    text, n_malformed = MALFORMED_CASES[case]
    path = _write(text, tmp_path / f"export{suffix}")
    loaded = _io.load_mentions(path)
    result = aggregate_files([path], freq="1h")
    assert result.summary.reasons.get("malformed_row") == n_malformed
    assert loaded.summary.reasons.get("malformed_row") == n_malformed
    for field in ("rows_read", "accepted", "quarantined", "reasons", "sentiment_estimated"):
        assert getattr(result.summary, field) == getattr(loaded.summary, field), field
    ours, theirs = result.quarantine, loaded.quarantine
    assert ours[["source", "line", "reason", "column"]].equals(
        theirs[["source", "line", "reason", "column"]]
    )
    malformed = ours["reason"] == "malformed_row"
    assert ours.loc[malformed, "raw"].tolist() == theirs.loc[malformed, "raw"].tolist()
    _assert_same_features(result.features, build_features(loaded.data, freq="1h"))


def test_malformed_rows_in_several_files(tmp_path: Path) -> None:
    first = _write(MALFORMED_CASES["consecutive"][0], tmp_path / "a.csv")
    second = _write(MALFORMED_CASES["with other reasons after them"][0], tmp_path / "b.csv.gz")
    parquet = _write(_with_bad_lines(30, []), tmp_path / "c.parquet")
    loaded = _io.load_mentions([first, second, parquet])
    result = aggregate_files([first, second, parquet], freq="1h")
    assert result.summary.reasons == loaded.summary.reasons
    assert result.summary.reasons["malformed_row"] == 5
    assert result.summary.rows_read == loaded.summary.rows_read
    key = ["source", "line", "reason", "column"]
    assert result.quarantine[key].equals(loaded.quarantine[key])
    _assert_same_features(result.features, build_features(loaded.data, freq="1h"))


def test_cli_quarantines_malformed_rows_like_the_pandas_engine(tmp_path: Path, capsys) -> None:
    from esc_analytics.cli import main

    path = _write(PROBE_CSV, tmp_path / "probe.csv")
    outputs = {}
    for engine in ("duckdb", "pandas"):
        out, quarantine = tmp_path / f"{engine}.csv", tmp_path / f"q_{engine}.csv"
        argv = ["aggregate", str(path), "--engine", engine, "--out", str(out)]
        assert main([*argv, "--quarantine", str(quarantine)]) == 0
        printed = capsys.readouterr()
        assert "read 4, accepted 2, quarantined 2 (malformed_row: 2)" in printed.out + printed.err
        outputs[engine] = (out.read_text(), quarantine.read_text())
    assert outputs["duckdb"] == outputs["pandas"]
    assert ",4,malformed_row,," in outputs["duckdb"][1]
    assert ",5,malformed_row,," in outputs["duckdb"][1]


def test_file_where_no_row_splits_into_the_header_raises(tmp_path: Path) -> None:
    rows = "".join(f"{i},2024-03-04T14:05:00Z,Acme,a,b\n" for i in range(20))
    path = _write("mention_id,created_at,topic,text\n" + rows, tmp_path / "bad.csv")
    with pytest.raises(DataLoadError, match="no row splits into the header's 4 fields") as info:
        aggregate_files(path)
    assert info.value.lines == tuple(range(2, 22))


def test_bytes_not_utf8_past_the_sniffed_sample_raise(tmp_path: Path) -> None:
    """DuckDB's sniffer reads ~20k rows; a cp1252 byte after them is an encoding problem of
    the file (the pandas engine decodes it), not a malformed row to quarantine."""
    rows = "".join(f"{i},2024-03-04T14:05:00Z,Acme,ok\n" for i in range(25_000))
    path = tmp_path / "late.csv"
    path.write_bytes(
        ("mention_id,created_at,topic,text\n" + rows).encode()
        + "25000,2024-03-04T14:05:00Z,Caf\xe9,ok\n".encode("cp1252")
    )
    with pytest.raises(DataLoadError, match="not UTF-8") as info:
        aggregate_files(path)
    assert info.value.lines == (25_002,)


def test_metadata_lines_above_the_header_still_load_with_file_line_numbers(tmp_path: Path):
    """A strict read keeps line 1 as the header; an export with metadata lines above its header
    still loads (DuckDB's sniffer finds it), and quarantined rows keep the file's line numbers."""
    meta = "Report Name:,Acme\nBrand:,Acme\nExported:,2024-03-05\n\n"
    rows = _good_rows(30)
    rows[9] = "10,not a time,Acme,u,,x"
    path = _write(meta + "mention_id,created_at,topic,author,sentiment,text\n"
                  + "\n".join(rows) + "\n", tmp_path / "export.csv")
    result = aggregate_files(path, freq="1h")
    assert (result.summary.rows_read, result.summary.accepted) == (30, 29)
    assert result.quarantine["line"].tolist() == [4 + 1 + 10]
    assert result.summary.sentiment_estimated


# --- number conventions, non-finite numbers, "no value" words, series files: same as the loader

_HEAD = "mention_id,created_at,topic,author_followers,engagement,sentiment"
_EU_HEAD = _HEAD.replace(",", ";")


def _rows(head: str, cells: list[tuple[str, str, str]], sep: str = ",") -> str:
    """A mention file: one row per (followers, engagement, sentiment), hourly times."""
    lines = [head]
    for i, (followers, engagement, sentiment) in enumerate(cells, start=1):
        time = f"2024-03-04 {i % 24:02d}:05:00"
        lines.append(sep.join([str(i), time, "Acme", followers, engagement, sentiment]))
    return "\n".join(lines) + "\n"


def _quoted(value: str) -> str:
    return f'"{value}"' if "," in value else value


NUMBER_CASES = {
    # the ';' European export of the report: dots group thousands, commas are decimal marks
    "european": _EU_HEAD + "\n1;2024-03-04 14:05:00;Acme;1.234;12,5;-0,25\n"
    "2;2024-03-04 15:05:00;Acme;2,5;3;0,5\n",
    "european grouped both marks": _rows(
        _EU_HEAD,
        [("1.234.567,5", "1,5K", "0,1"), ("0,500", "2.5", "neutral"), ("7", "1.234", "")],
        ";",
    ),
    "european with a bad mix": _rows(
        _EU_HEAD, [("1,234.5", "1", "0"), ("12,5", "2", "0"), ("1,2,3", "3", "0")], ";"
    ),
    "thousands grouping": _rows(
        _HEAD,
        [(_quoted(f), e, s) for f, e, s in [("1,234", "12,345,678.5", "0.5"), ("5", "7", "-1")]],
    ),
    "single groups read as thousands": _rows(
        _HEAD, [(_quoted("1,234"), "1", "0"), (_quoted("2,500"), "1", "0"), ("3", "1", "0")]
    ),
    "one decimal comma decides the column": _rows(
        _HEAD, [(_quoted("1,234"), "1", "0"), (_quoted("2,5"), "1", "0"), ("1.234", "1", "0")]
    ),
    "comma not a number": _rows(_HEAD, [(_quoted("1,2,3"), "1", "0"), ("4", "1", "0")]),
    "suffixes": _rows(_HEAD, [("1.2K", "3m", "0"), ("2 500", "1_000", "0"), ("1e3", ".5k", "0")]),
    "not finite": _rows(
        _HEAD,
        [
            ("inf", "1", "0"),
            ("5", "-inf", "0"),
            ("Infinity", "1", "0"),
            ("1e999", "1", "0"),
            ("nan", "1", "0"),
            ("4", "2", "inf"),
            ("4", "2", "nan"),
            ("-inf", "-2", "0"),
            ("6", "3", "0.5"),
        ],
    ),
    "no value words": _rows(
        _HEAD,
        [
            ("N/A", "#N/A", "null"),
            ("na", "-", "none"),
            ("--", "(none)", "N/A"),
            ("NULL", "None", "-"),
            ("12", "n/a", "negative"),
            ("-", "5", "0.2"),
        ],
    ),
    "sentiment thousands out of range": _rows(
        _HEAD, [("1", "1", _quoted("1,000")), ("1", "1", "0.5"), ("1", "1", "positive")]
    ),
    "sentiment decimal comma": _rows(
        _HEAD, [("1", "1", _quoted("-0,25")), ("1", "1", _quoted("0,75")), ("1", "1", "neg")]
    ),
    # the comma convention must be final before duplicate ids are checked (valid rows only)
    "decimal comma and duplicate ids": _HEAD.replace(",", ";") + "\n"
    "1;2024-03-04 14:05:00;Acme;1,2,3;1;0\n1;2024-03-04 14:06:00;Acme;5;1;0\n"
    "2;2024-03-04 15:05:00;Acme;2,5;3;0,5\n",
    # the row deciding the convention has a bad time: it decides all the same
    "decimal comma on a row with a bad time": _EU_HEAD + "\n"
    "1;not a time;Acme;12,5;1;0\n2;2024-03-04 15:05:00;Acme;1.234;3;0\n",
}


def _assert_same_as_loader(paths: list[Path], freq: str = "1h") -> None:
    loaded = _io.load_mentions(paths if len(paths) > 1 else paths[0])
    result = aggregate_files(paths, freq=freq)
    for field in ("rows_read", "accepted", "quarantined", "reasons"):
        assert getattr(result.summary, field) == getattr(loaded.summary, field), field
    key = ["source", "line", "reason", "column"]
    ours = result.quarantine[key].sort_values(key).reset_index(drop=True)
    theirs = loaded.quarantine[key].sort_values(key).reset_index(drop=True)
    pd.testing.assert_frame_equal(ours, theirs, check_dtype=False)
    _assert_same_features(result.features, build_features(loaded.data, freq=freq))


@pytest.mark.parametrize("case", list(NUMBER_CASES))
def test_number_conventions_same_as_the_loader(tmp_path: Path, case: str) -> None:
    path = _write(NUMBER_CASES[case], tmp_path / "export.csv")
    _assert_same_as_loader([path])


def test_european_export_values(tmp_path: Path) -> None:
    """The report's file: followers 1234 and 2.5, engagement 12.5 and 3 (not 25 and 125)."""
    path = _write(NUMBER_CASES["european"], tmp_path / "eu.csv")
    result = aggregate_files(path, freq="1D")
    assert result.summary.accepted == 2
    assert result.features["reach"].sum() == pytest.approx(1236.5)
    assert result.features["engagement"].sum() == pytest.approx(15.5)
    assert result.features["negative_volume"].sum() == 1


def test_comma_convention_is_decided_per_file(tmp_path: Path) -> None:
    eu = _write(NUMBER_CASES["european"], tmp_path / "eu.csv")
    us_text = re.sub(r"(?m)^(\d)", r"us\1", NUMBER_CASES["single groups read as thousands"])
    us = _write(us_text, tmp_path / "us.csv")  # ids us1, us2...: no duplicates across files
    _assert_same_as_loader([eu, us])
    _assert_same_as_loader([us, eu])
    result = aggregate_files([us, eu], freq="1D")
    assert result.features["reach"].sum() == pytest.approx(1234 + 2500 + 3 + 1234 + 2.5)


@pytest.mark.parametrize("dtype", ["float64", "Int64", "object"])
def test_typed_parquet_numbers_same_as_the_loader(tmp_path: Path, dtype: str) -> None:
    """Parquet numeric columns: ±inf is bad_number, NaN/null missing (the mention counts)."""
    followers = [1.0, np.inf, 3.0, -np.inf, np.nan, 5.0]
    if dtype == "Int64":
        followers = [1, 2, 3, 4, None, 5]
    elif dtype == "object":
        followers = ["1", "inf", "1,5", "N/A", None, "2.5K"]
    frame = pd.DataFrame(
        {
            "mention_id": [str(i) for i in range(6)],
            "created_at": pd.date_range("2024-03-04", periods=6, freq="20min", tz="UTC"),
            "author_followers": pd.array(followers, dtype=dtype),
            "engagement": [1.0, 2.0, np.nan, 4.0, np.inf, 6.0],
            "sentiment": [0.5, -0.5, np.nan, np.inf, 0.0, 1.0],
        }
    )
    path = tmp_path / "typed.parquet"
    import pyarrow as pa
    import pyarrow.parquet as pq

    # NaN kept as a float NaN, not turned into a null (pandas' to_parquet makes it null)
    table = pa.Table.from_pandas(frame, preserve_index=False)
    for name in ("author_followers", "engagement", "sentiment"):
        if frame[name].dtype == "float64":
            column = pa.array(frame[name].to_numpy(), from_pandas=False)
            table = table.set_column(table.schema.get_field_index(name), name, column)
    pq.write_table(table, path)
    _assert_same_as_loader([path])


@pytest.mark.parametrize(
    "text",
    [
        "timestamp,value\n2015-02-26 21:42:53,104\n2015-02-26 21:47:53,100\n",
        "date,volume\n2024-01-01,5\n2024-01-02,7\n",
    ],
)
@pytest.mark.parametrize("suffix", [".csv", ".parquet"])
def test_volume_series_refused_like_the_loader(tmp_path: Path, text: str, suffix: str) -> None:
    path = _write(text, tmp_path / f"series{suffix}")
    with pytest.raises(DataLoadError) as theirs:
        _io.load_mentions(path)
    with pytest.raises(DataLoadError) as ours:
        aggregate_files(path, freq="1h")
    assert "--series" in str(ours.value)
    assert str(ours.value) == str(theirs.value)


def test_series_like_file_with_a_mention_column_still_loads(tmp_path: Path) -> None:
    path = _write("mention_id,timestamp,value\n1,2024-01-01,5\n", tmp_path / "m.csv")
    assert aggregate_files(path, freq="1D").summary.accepted == 1


@pytest.mark.parametrize(
    "value",
    [
        "2024-03-01 10:30 UTC+05:30",  # India: DuckDB's own cast dropped the minutes
        "2024-03-01 10:30 UTC-05:30",
        "2024-03-01 10:30:00 UTC+5:45",  # Nepal
        "2024-03-01 10:30 GMT+1",
        "2024-03-01 10:30:00 -0800",
    ],
)
def test_named_and_half_hour_offsets_same_as_the_loader(tmp_path: Path, value: str) -> None:
    rows = "id,created_at,topic\n" + f"1,{value},acme\n2,2024-03-01 12:00:00Z,acme\n"
    path = _write(rows, tmp_path / "offsets.csv")
    _assert_same_as_loader([path], freq="1min")


# --- JSON lines: read by DuckDB with the loader's rules (malformed lines quarantined) --------

JSON_LINES = (
    '{"mention_id": "1", "created_at": "2024-03-04T10:05:00Z", "topic": "acme",'
    ' "user": {"screen_name": "ann", "followers_count": 120}, "sentiment": -0.5}\n'
    "\n"
    "{not json at all\n"
    '{"mention_id": "2", "created_at": "2024-03-04 11:00:00", "topic": "acme",'
    ' "user": {"screen_name": "bob", "followers_count": "1,500"}, "text": "awful, terrible"}\r\n'
    "[1, 2, 3]\n"
    '   \n'
    '{"mention_id": "1", "created_at": "2024-03-04T12:00:00Z", "topic": "acme"}\n'
    '{"mention_id": "3", "created_at": "yesterday", "topic": "acme"}\n'
    '{"mention_id": "4", "created_at": "2024-03-04T13:00:00+01:00", "topic": "beta",'
    ' "is_verified": true, "engagement": 3}\n'
    '"just a string"\n'
)


@pytest.mark.parametrize("name", ["export.jsonl", "export.jsonl.gz", "export.ndjson"])
def test_json_lines_same_as_the_loader(tmp_path: Path, name: str) -> None:
    path = _write(JSON_LINES, tmp_path / name)
    loaded = _io.load_mentions(path)
    result = aggregate_files([path], freq="1h")
    assert loaded.summary.reasons["malformed_row"] == 3
    for field in ("rows_read", "accepted", "quarantined", "reasons", "sentiment_estimated"):
        assert getattr(result.summary, field) == getattr(loaded.summary, field), field
    key = ["source", "line", "reason", "column"]
    assert result.quarantine[key].equals(loaded.quarantine[key])
    malformed = result.quarantine["reason"] == "malformed_row"
    assert result.quarantine.loc[malformed, "line"].tolist() == [3, 5, 10]
    assert result.quarantine.loc[malformed, "raw"].tolist() == (
        loaded.quarantine.loc[loaded.quarantine["reason"] == "malformed_row", "raw"].tolist()
    )
    _assert_same_features(result.features, build_features(loaded.data, freq="1h"))
    # user.followers_count (nested) is the reach: 120 + 1,500
    assert result.features["reach"].sum() == 1620


@pytest.mark.parametrize(
    ("text", "message"),
    [
        ("{oops\n[1]\n", "no line is a JSON object"),
        ('[{"created_at": "2024-01-01"}]\n', "one JSON array"),
    ],
)
def test_json_files_without_objects_raise(tmp_path: Path, text: str, message: str) -> None:
    path = _write(text, tmp_path / "bad.jsonl")
    with pytest.raises(DataLoadError, match=message):
        aggregate_files(path)


def test_json_lines_through_the_default_cli(tmp_path: Path, capsys) -> None:
    from esc_analytics.cli import main

    path = _write(JSON_LINES, tmp_path / "export.jsonl")
    out, quarantine = tmp_path / "f.csv", tmp_path / "q.csv"
    assert main(["aggregate", str(path), "--out", str(out), "--quarantine", str(quarantine)]) == 0
    printed = capsys.readouterr().out
    assert "malformed_row: 3" in printed
    assert pd.read_csv(quarantine)["line"].tolist() == [3, 5, 7, 8, 10]


@pytest.mark.parametrize(
    ("engine", "source", "options", "env", "expected"),
    [
        ("auto", "m.csv", {}, None, "duckdb"),
        ("auto", ["a.parquet", "b.jsonl"], {}, None, "duckdb"),
        ("auto", pd.DataFrame({"created_at": []}), {}, None, "pandas"),
        ("auto", "m.csv", {"spark_master": "local[2]"}, None, "spark"),
        ("auto", "m.csv", {"spark_remote": "sc://localhost:15002"}, None, "spark"),
        ("auto", "m.csv", {}, "sc://localhost:15002", "spark"),
        ("pandas", "m.csv", {}, "sc://localhost:15002", "pandas"),
        ("duckdb", "m.csv", {}, None, "duckdb"),
    ],
)
def test_auto_engine_choice(monkeypatch, engine, source, options, env, expected) -> None:
    from esc_analytics import choose_engine

    if env is None:
        monkeypatch.delenv("SPARK_REMOTE", raising=False)
    else:
        monkeypatch.setenv("SPARK_REMOTE", env)
    assert choose_engine(engine, source, **options) == expected


def test_unknown_engine_and_memory_limit_are_one_line_errors(tmp_path: Path) -> None:
    path = _write("id,created_at\n1,2024-01-01\n", tmp_path / "m.csv")
    with pytest.raises(DataLoadError, match="unknown engine 'polars'"):
        aggregate_files(path, engine="polars")
    with pytest.raises(DataLoadError, match="memory limit 'lots'"):
        aggregate_files(path, memory_limit="lots")


def test_a_tight_memory_limit_spills_and_gives_the_same_numbers(tmp_path: Path) -> None:
    """DuckDB spills to its temporary directory under a small memory limit: same features."""
    rng = np.random.default_rng(3)
    n = 60_000
    frame = pd.DataFrame(
        {
            "mention_id": [f"m{i}" for i in rng.integers(0, n, n)],  # many duplicates
            "created_at": pd.Timestamp("2024-01-01", tz="UTC")
            + pd.to_timedelta(rng.integers(0, 30 * 86_400, n), unit="s"),
            "topic": rng.choice(["a", "b", "c"], n),
            "author": [f"u{i}" for i in rng.integers(0, 20_000, n)],
            "sentiment": rng.uniform(-1, 1, n).round(2),
        }
    )
    path = _write(frame, tmp_path / "m.parquet")
    tight = aggregate_files(path, freq="1h", memory_limit="20MB")
    roomy = aggregate_files(path, freq="1h")
    assert tight.summary.reasons == roomy.summary.reasons
    assert tight.summary.reasons["duplicate_id"] > 0
    _assert_same_features(tight.features, roomy.features)
