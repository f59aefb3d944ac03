"""Breadth: 10,000 topics through aggregate (both engines) and backtest, and every output byte-
identical across runs and hash seeds (the CLI run twice in subprocesses, PYTHONHASHSEED 0/1)."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from esc_analytics import (
    aggregate_files,
    backtest,
    build_features,
    evaluate,
    load_incidents,
    load_mentions,
)
from esc_analytics.policy import Policy

TOPICS = 10_000


def _history(folder: Path, topics: int, n: int) -> tuple[Path, Path, Path]:
    """``n`` mentions over ``topics`` topics and 3 days, 40 incidents, a 2-tier plan."""
    rng = np.random.default_rng(7)
    start = pd.Timestamp("2024-01-01", tz="UTC")
    times = start + pd.to_timedelta(rng.integers(0, 3 * 86_400, n), unit="s")
    mentions = pd.DataFrame({
        "mention_id": [f"m{i}" for i in range(n)],
        "created_at": times.strftime("%Y-%m-%dT%H:%M:%SZ"),
        "topic": [f"brand {t % topics:05d} ü" for t in rng.permutation(n)],
        "author": [f"a{a}" for a in rng.integers(0, 5_000, n)],
        "sentiment": rng.uniform(-1, 1, n).round(2),
    })
    mentions_path = folder / "mentions.csv"
    mentions.to_csv(mentions_path, index=False)
    incidents = pd.DataFrame({
        "incident_id": [f"I{i}" for i in range(40)],
        "topic": [f"brand {t * (topics // 40):05d} ü" for t in range(40)],
        "started_at": (start + pd.to_timedelta(rng.integers(86_400, 3 * 86_400, 40), unit="s"))
        .strftime("%Y-%m-%dT%H:%M:%SZ"),
        "severity": rng.integers(1, 3, 40),
    })
    incidents_path = folder / "incidents.csv"
    incidents.to_csv(incidents_path, index=False)
    policy_path = folder / "policy.yaml"
    policy_path.write_text(
        "tiers:\n- level: 1\n  all: ['volume >= 3']\n- level: 2\n  all: ['volume >= 5']\n",
        encoding="utf-8",
    )
    return mentions_path, incidents_path, policy_path


@pytest.fixture(scope="module")
def wide(tmp_path_factory) -> tuple[Path, Path, Path]:
    return _history(tmp_path_factory.mktemp("wide"), TOPICS, 30_000)


@pytest.fixture(scope="module")
def medium(tmp_path_factory) -> tuple[Path, Path, Path]:
    """Small enough for four CLI subprocesses (a wide one is the test above)."""
    return _history(tmp_path_factory.mktemp("medium"), 400, 6_000)


def test_ten_thousand_topics_aggregate_and_backtest(wide) -> None:
    mentions_path, incidents_path, policy_path = wide
    duck = aggregate_files(mentions_path).features
    assert duck["topic"].nunique() == TOPICS
    assert len(duck) == TOPICS * duck["window_start"].nunique()  # the grid, nothing more
    pandas = build_features(load_mentions(mentions_path, score_sentiment=False).data)
    assert pandas["topic"].tolist() == duck["topic"].tolist()
    assert np.array_equal(pandas["volume"].to_numpy(), duck["volume"].to_numpy())
    escalations = evaluate(Policy.from_yaml(policy_path), duck)
    result = backtest(escalations, load_incidents(incidents_path).data)
    assert len(result.incidents) == 40


def _run(args: list[str], seed: str, cwd: Path) -> subprocess.CompletedProcess:
    env = {**os.environ, "PYTHONHASHSEED": seed}
    command = Path(sys.executable).with_name("esc-analytics")
    return subprocess.run([str(command), *args], cwd=cwd, env=env, capture_output=True,
                          check=True, timeout=600)


@pytest.mark.parametrize("engine", ["duckdb", "pandas"])
def test_aggregate_output_is_byte_identical_across_hash_seeds(medium, tmp_path, engine) -> None:
    mentions_path = medium[0]
    outputs = []
    for seed in ("0", "1"):
        out = tmp_path / f"features-{seed}.csv"
        _run(["aggregate", str(mentions_path), "--engine", engine, "--out", str(out)], seed,
             tmp_path)
        outputs.append(out.read_bytes())
    assert outputs[0] == outputs[1]


def test_backtest_output_is_byte_identical_across_hash_seeds(medium, tmp_path) -> None:
    mentions_path, incidents_path, policy_path = medium
    args = ["backtest", "--mentions", str(mentions_path), "--incidents", str(incidents_path),
            "--policy", str(policy_path), "--json"]
    first, second = (_run(args, seed, tmp_path).stdout for seed in ("0", "1"))
    assert first == second and first
