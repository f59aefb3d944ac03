"""Benchmark: `esc-analytics aggregate` (DuckDB, the default; Spark local mode) vs a bare DuckDB
GROUP BY vs plain pandas, as processes.

Generates N raw mentions (default 10 M) as Parquet under benchmarks/_data/ (cached, git-ignored),
then runs each contender as a separate process and prints wall time, ratios and peak memory
(the peak resident memory of the process and its children, summed: Spark's driver is the
Python process and its JVM). Targets: ours
≤ 1.5 × bare DuckDB, ≥ 5 × faster than pandas, peak ≤ 1 GB at any size (DuckDB's memory is
capped and spills); Spark local[2] ≤ 3 × ours (its JVM start-up included), and its throughput
per core (rows / s / core) is what the README's cluster estimate is made from.

Fair comparison: every contender computes the same six measures (including exact distinct
authors) from the same file and writes them to Parquet; the file is read once before timing
(warm page cache); contenders run interleaved, --repeat rounds, and the median is reported.
Two bare DuckDB queries: the obvious one (COUNT(DISTINCT author)) and the same trick as ours
(distinct 64-bit hashes of the author, list_unique) — ours also validates every row, checks
duplicate ids and computes baselines, which the bare queries do not.

    python benchmarks/aggregate.py [--rows 10000000] [--freq 1h] [--repeat 3] [--no-spark]

(``--rows 1000000 --repeat 1`` for a quick run.)
"""

from __future__ import annotations

import argparse
import os
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import numpy as np

HERE = Path(__file__).resolve().parent
DATA = HERE / "_data"
BIN = Path(sys.executable).parent


def generate(rows: int, seed: int = 20261124) -> Path:
    """Write (once) a Parquet file of `rows` mentions shaped like a listening-tool export."""
    import pyarrow as pa
    import pyarrow.parquet as pq

    path = DATA / f"mentions_{rows}.parquet"
    if path.exists():
        return path
    DATA.mkdir(parents=True, exist_ok=True)
    rng = np.random.default_rng(seed)
    words = np.array(["great", "awful", "delay", "love", "refund", "app", "crash", "thanks"])
    start = np.datetime64("2024-01-01T00:00:00", "s").astype("int64")
    writer = None
    tmp = path.with_suffix(".tmp")
    chunk = 1_000_000
    for offset in range(0, rows, chunk):
        n = min(chunk, rows - offset)
        seconds = np.sort(rng.integers(0, 365 * 86_400, n)) + start
        text = np.char.add(
            np.char.add(words[rng.integers(0, 8, n)], " "), words[rng.integers(0, 8, n)]
        )
        table = pa.table(
            {
                "id": pa.array((np.arange(offset, offset + n)).astype(str)),
                "created_at": pa.array(seconds.astype("datetime64[s]"), pa.timestamp("s", "UTC")),
                "topic": pa.array(
                    np.array([f"brand{i}" for i in range(10)])[rng.integers(0, 10, n)]
                ),
                "author": pa.array(np.char.add("user", rng.integers(0, 200_000, n).astype(str))),
                "followers": pa.array(rng.pareto(1.2, n).astype("int64") * 100),
                "engagement": pa.array(rng.poisson(3, n).astype("int64")),
                "sentiment": pa.array(np.round(rng.uniform(-1, 1, n), 3)),
                "text": pa.array(text),
            }
        )
        if writer is None:
            writer = pq.ParquetWriter(tmp, table.schema)
        writer.write_table(table, row_group_size=256_000)
    writer.close()
    os.replace(tmp, path)
    return path


BARE_DUCKDB = """
import sys, duckdb
con = duckdb.connect()
con.execute("SET TimeZone='UTC'")
df = con.execute('''
  SELECT topic, time_bucket(INTERVAL '{freq}', created_at) AS w, count(*) AS volume,
         count(*) FILTER (WHERE sentiment <= -0.05) AS negative_volume,
         count(DISTINCT author) AS unique_authors, sum(followers) AS reach,
         sum(engagement) AS engagement,
         count(*) FILTER (WHERE followers >= 10000) AS influencer_mentions
  FROM read_parquet(?) GROUP BY ALL ORDER BY ALL''', [sys.argv[1]]).fetch_df()
df.to_parquet(sys.argv[2], index=False)
"""

BARE_DUCKDB_TUNED = BARE_DUCKDB.replace(
    "count(DISTINCT author)",
    "coalesce(list_unique(list(hash(author)) FILTER (WHERE author IS NOT NULL)), 0)",
)

PLAIN_PANDAS = """
import sys, pandas as pd
df = pd.read_parquet(sys.argv[1], columns=['created_at', 'topic', 'author', 'followers',
                                            'engagement', 'sentiment'])
df['w'] = df['created_at'].dt.floor('{freq}')
df['neg'] = df['sentiment'] <= -0.05
df['infl'] = df['followers'] >= 10000
out = df.groupby(['topic', 'w']).agg(volume=('neg', 'size'), negative_volume=('neg', 'sum'),
    unique_authors=('author', 'nunique'), reach=('followers', 'sum'),
    engagement=('engagement', 'sum'), influencer_mentions=('infl', 'sum')).reset_index()
out.to_parquet(sys.argv[2], index=False)
"""


def _tree(pid: int) -> list[int]:
    """``pid`` and its descendants (from /proc's children lists)."""
    found, todo = [], [pid]
    while todo:
        current = todo.pop()
        found.append(current)
        for task in Path(f"/proc/{current}/task").glob("*/children"):
            try:
                todo.extend(int(c) for c in task.read_text().split())
            except OSError:
                continue
    return found


def _high_water_mb(pid: int) -> float:
    """VmHWM (peak resident memory) of one process, MB; 0 when it is gone."""
    try:
        for line in Path(f"/proc/{pid}/status").read_text().splitlines():
            if line.startswith("VmHWM:"):
                return int(line.split()[1]) / 1024
    except OSError:
        pass
    return 0.0


def run(name: str, argv: list[str]) -> tuple[float, float]:
    """Run one process; return (seconds, peak memory in MB): the sum over the process and its
    children (Spark's JVM) of each one's peak resident memory (VmHWM, polled every 50 ms;
    the rusage of a child would report this benchmark's own size, inherited at fork)."""
    with tempfile.TemporaryFile() as errors:  # a pipe could fill up with Spark's logs
        t0 = time.perf_counter()
        proc = subprocess.Popen(argv, stdout=subprocess.DEVNULL, stderr=errors)
        peaks: dict[int, float] = {}
        while proc.poll() is None:
            for pid in _tree(proc.pid):
                peaks[pid] = max(peaks.get(pid, 0.0), _high_water_mb(pid))
            time.sleep(0.05)
        seconds = time.perf_counter() - t0
        if proc.returncode != 0:
            errors.seek(0)
            raise SystemExit(f"{name} failed: {errors.read().decode()[-2000:]}")
    return seconds, sum(peaks.values())


def _cores(master: str) -> int:
    """Cores of a local[N] master (local[*]: this machine's)."""
    inside = master[master.find("[") + 1 : master.find("]")] if "[" in master else "1"
    return (os.cpu_count() or 1) if inside == "*" else max(int(inside), 1)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rows", type=int, default=10_000_000)
    parser.add_argument("--freq", default="1h")
    parser.add_argument("--repeat", type=int, default=3, help="median of N interleaved runs")
    parser.add_argument("--no-spark", action="store_true", help="leave Spark local mode out")
    parser.add_argument("--spark-master", default="local[2]", help="Spark master (local[2])")
    args = parser.parse_args()
    t0 = time.perf_counter()
    path = generate(args.rows)
    with path.open("rb") as handle:  # warm the page cache for every contender alike
        while handle.read(1 << 24):
            pass
    print(
        f"data: {path} ({path.stat().st_size / 1e6:.0f} MB, {args.rows:,} rows; "
        f"ready in {time.perf_counter() - t0:.1f} s)"
    )
    interval = args.freq.replace("h", " hour").replace("min", " minute")
    with tempfile.TemporaryDirectory() as tmp:
        contenders = {
            "esc-analytics aggregate": [
                str(BIN / "esc-analytics"),
                "aggregate",
                str(path),
                "--freq",
                args.freq,
                "--out",
                f"{tmp}/ours.parquet",
            ],
            "bare DuckDB GROUP BY": [
                sys.executable,
                "-c",
                BARE_DUCKDB.format(freq=interval),
                str(path),
                f"{tmp}/duck.parquet",
            ],
            "bare DuckDB, hashed authors": [
                sys.executable,
                "-c",
                BARE_DUCKDB_TUNED.format(freq=interval),
                str(path),
                f"{tmp}/duck_tuned.parquet",
            ],
            "pandas read + groupby": [
                sys.executable,
                "-c",
                PLAIN_PANDAS.format(freq=args.freq),
                str(path),
                f"{tmp}/pandas.parquet",
            ],
        }
        if not args.no_spark:
            contenders["esc-analytics --engine spark"] = [
                str(BIN / "esc-analytics"),
                "aggregate",
                str(path),
                "--freq",
                args.freq,
                "--engine",
                "spark",
                "--spark-master",
                args.spark_master,
                "--out",
                f"{tmp}/spark.parquet",
            ]
        runs: dict[str, list[tuple[float, float]]] = {name: [] for name in contenders}
        for _ in range(args.repeat):  # interleaved: background load hits everyone alike
            for name, argv in contenders.items():
                runs[name].append(run(name, argv))
        results = {}
        for name, times in runs.items():
            results[name] = (
                statistics.median(r[0] for r in times),
                max(r[1] for r in times),
            )
            spread = ", ".join(f"{r[0]:.2f}" for r in times)
            print(
                f"{name:28s} {results[name][0]:7.2f} s   peak {results[name][1]:6.0f} MB"
                f"   (runs: {spread})"
            )
    ours = results["esc-analytics aggregate"][0]
    duck = results["bare DuckDB GROUP BY"][0]
    tuned = results["bare DuckDB, hashed authors"][0]
    pandas_time = results["pandas read + groupby"][0]
    print(f"ours / bare DuckDB          = {ours / duck:.2f} (target <= 1.5)")
    print(f"ours / bare DuckDB (hashed) = {ours / tuned:.2f}")
    print(f"pandas / ours               = {pandas_time / ours:.2f} (target >= 5)")
    peak = results["esc-analytics aggregate"][1]
    print(f"ours peak memory   = {peak:.0f} MB (target <= 1024)")
    if "esc-analytics --engine spark" in results:
        spark_time, spark_peak = results["esc-analytics --engine spark"]
        cores = _cores(args.spark_master)
        print(f"spark / ours                = {spark_time / ours:.2f} (target <= 3)")
        print(f"spark driver peak memory    = {spark_peak:.0f} MB")
        print(
            f"spark throughput            = {args.rows / spark_time / cores:,.0f} rows/s/core "
            f"on {cores} core(s), start-up included"
        )


if __name__ == "__main__":
    main()
