"""Paths are paths: every engine reads exactly the file named, whatever its name holds.

Each case writes the named file and a neighbour that the name, read as a glob pattern, would
also (or instead) match; the neighbour's rows carry another topic, so reading it shows.
"""

from __future__ import annotations

from pathlib import Path

import pandas as pd
import pytest

from esc_analytics import (
    DataLoadError,
    aggregate_files,
    load_incidents,
    load_mentions,
    load_series,
)
from esc_analytics.cli import main

MENTIONS = (
    "mention_id,created_at,topic,author\n"
    "{p}1,2024-01-01T00:10:00Z,{t},a\n{p}2,2024-01-01T00:20:00Z,{t},b\n"
)

# (file named, neighbour a glob reading of that name would match)
NAMES = [
    pytest.param("mentions[1].csv", "mentions1.csv", id="brackets"),
    pytest.param("star*.csv", "starX.csv", id="star"),
    pytest.param("q?.csv", "qa.csv", id="question-mark"),
    pytest.param("[!a].csv", "b.csv", id="negated-class"),
    pytest.param("x]y[.csv", "x]y.csv", id="unbalanced"),
    pytest.param("**.csv", "deep.csv", id="double-star"),
    pytest.param("it's \"quoted\".csv", "its.csv", id="quotes"),
    pytest.param("my mentions  file.csv", "my.csv", id="spaces"),
    pytest.param("données 日本 ñ.csv", "donnees.csv", id="unicode"),
    pytest.param("$(touch PWNED).csv", "x.csv", id="command-substitution"),
    pytest.param("'; DROP TABLE x; --.csv", "y.csv", id="sql-quote"),
    pytest.param("d[1]/m.csv", "d1/m.csv", id="dir-brackets"),
    pytest.param("dir*/m.csv", "dirX/m.csv", id="dir-star"),
    pytest.param("dir?/m?.csv", "dirA/mB.csv", id="dir-question"),
    pytest.param("sp ace ' d/ü*.csv", "sp ace ' d/üb.csv", id="dir-quotes-unicode"),
]


def _pair(tmp_path: Path, name: str, neighbour: str, suffix: str = ".csv") -> tuple[Path, Path]:
    target = tmp_path / name
    other = tmp_path / neighbour
    if suffix != ".csv":
        target = target.with_name(target.name[: -len(".csv")] + suffix)
        other = other.with_name(other.name[: -len(".csv")] + suffix)
    for path, topic, prefix in ((target, "wanted", "w"), (other, "neighbour", "n")):
        path.parent.mkdir(parents=True, exist_ok=True)
        text = MENTIONS.format(t=topic, p=prefix)
        if suffix == ".parquet":
            pd.read_csv(pd.io.common.StringIO(text), dtype=str).to_parquet(path, index=False)
        else:
            path.write_text(text, encoding="utf-8")
    return target, other


@pytest.mark.parametrize(("name", "neighbour"), NAMES)
def test_pandas_engine_reads_exactly_the_named_file(tmp_path, name, neighbour) -> None:
    target, _ = _pair(tmp_path, name, neighbour)
    result = load_mentions(str(target))
    assert set(result.data["topic"]) == {"wanted"}
    assert result.summary.rows_read == 2
    assert not (tmp_path / "PWNED").exists()


@pytest.mark.parametrize("suffix", [".csv", ".parquet"])
@pytest.mark.parametrize(("name", "neighbour"), NAMES)
def test_duckdb_engine_reads_exactly_the_named_file(tmp_path, name, neighbour, suffix) -> None:
    target, _ = _pair(tmp_path, name, neighbour, suffix)
    result = aggregate_files([target])
    assert set(result.features["topic"]) == {"wanted"}
    assert result.summary.rows_read == 2
    assert int(result.features["volume"].sum()) == 2
    assert not (tmp_path / "PWNED").exists()


def test_duckdb_engine_quarantine_names_the_file_as_given(tmp_path) -> None:
    target = tmp_path / "m[1].csv"
    target.write_text(MENTIONS.format(t="w", p="w") + "w3,not a time,w,c\n", encoding="utf-8")
    (tmp_path / "m1.csv").write_text(MENTIONS.format(t="n", p="n"), encoding="utf-8")
    result = aggregate_files(target)
    assert result.quarantine["source"].tolist() == [str(target)]
    assert result.summary.rows_read == 3


@pytest.mark.parametrize("loader", [load_series, load_incidents], ids=["series", "incidents"])
def test_other_loaders_read_the_named_file(tmp_path, loader) -> None:
    if loader is load_series:
        rows = "topic,window_start,volume\n{t},2024-01-01T00:00:00Z,3\n"
    else:
        rows = "incident_id,topic,started_at,severity\n{t}1,{t},2024-01-01T00:00:00Z,1\n"
    (tmp_path / "log[1].csv").write_text(rows.format(t="wanted"), encoding="utf-8")
    (tmp_path / "log1.csv").write_text(rows.format(t="neighbour"), encoding="utf-8")
    assert set(loader(tmp_path / "log[1].csv").data["topic"]) == {"wanted"}


def test_a_missing_name_that_looks_like_a_pattern_is_not_expanded(tmp_path) -> None:
    (tmp_path / "a1.csv").write_text(MENTIONS.format(t="n", p="n"), encoding="utf-8")
    for reader in (load_mentions, aggregate_files):
        with pytest.raises(DataLoadError, match="glob=True"):
            reader(str(tmp_path / "a*.csv"))


def test_glob_true_expands_patterns_in_sorted_order(tmp_path) -> None:
    for i, topic in enumerate(("first", "second")):
        (tmp_path / f"part{i}.csv").write_text(MENTIONS.format(t=topic, p=topic), encoding="utf-8")
    pattern = str(tmp_path / "part*.csv")
    pandas = load_mentions(pattern, glob=True)
    assert pandas.data["topic"].tolist() == ["first", "first", "second", "second"]
    duck = aggregate_files(pattern, glob=True)
    assert sorted(set(duck.features["topic"])) == ["first", "second"]
    with pytest.raises(DataLoadError, match="no file matches"):
        load_mentions(str(tmp_path / "none*.csv"), glob=True)


@pytest.mark.parametrize("engine", ["duckdb", "pandas"])
@pytest.mark.parametrize(
    ("name", "neighbour"),
    [p for p in NAMES if p.id in ("brackets", "star", "question-mark", "dir-brackets")],
)
def test_cli_aggregate_reads_exactly_the_named_file(tmp_path, capsys, engine, name,
                                                    neighbour) -> None:
    target, _ = _pair(tmp_path, name, neighbour)
    out = tmp_path / "features.csv"
    assert main(["aggregate", str(target), "--engine", engine, "--out", str(out)]) == 0
    assert set(pd.read_csv(out)["topic"]) == {"wanted"}
    capsys.readouterr()


@pytest.mark.parametrize(
    ("name", "neighbour"),
    [p for p in NAMES if p.id in ("brackets", "star", "question-mark", "dir-brackets",
                                  "dir-quotes-unicode", "sql-quote")],
)
def test_spark_engine_reads_exactly_the_named_file(tmp_path, spark, name, neighbour) -> None:
    """Hadoop's pattern characters (and braces) are escaped in a literal local name, as the
    DuckDB engine escapes its own; the quarantine names the file as given."""
    target, _ = _pair(tmp_path, name, neighbour)
    with target.open("a", encoding="utf-8") as handle:
        handle.write("w3,not a time,wanted,c\n")
    result = aggregate_files([target], engine="spark", spark=spark)
    assert set(result.features["topic"]) == {"wanted"}
    assert (result.summary.rows_read, result.summary.accepted) == (3, 2)
    assert result.quarantine["source"].tolist() == [str(target)]
