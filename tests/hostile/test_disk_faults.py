"""Writing onto a full disk or a read-only file system: one line (exit 2), no traceback, and the
previous output left whole (saves go through a temporary file renamed into place).

Uses a tiny tmpfs, so it needs root and a kernel that lets this process mount one; skipped
otherwise."""

from __future__ import annotations

import os
import subprocess
import uuid
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from esc_analytics.cli import main


@pytest.fixture()
def tiny_fs(tmp_path: Path):
    if os.geteuid() != 0:
        pytest.skip("mounting a small tmpfs needs root")
    mount = tmp_path / f"fs-{uuid.uuid4().hex[:6]}"
    mount.mkdir()
    done = subprocess.run(
        ["mount", "-t", "tmpfs", "-o", "size=96k", "tmpfs", str(mount)], capture_output=True
    )
    if done.returncode != 0:
        pytest.skip(f"cannot mount a tmpfs here: {done.stderr.decode().strip()}")
    try:
        yield mount
    finally:
        subprocess.run(["umount", "-l", str(mount)], capture_output=True)


def _series(path: Path, n: int) -> Path:
    times = pd.date_range("2026-01-01", periods=n, freq="5min")
    volume = np.random.default_rng(0).poisson(9, n)
    pd.DataFrame({"timestamp": times.strftime("%Y-%m-%d %H:%M:%S"), "value": volume}).to_csv(
        path, index=False
    )
    return path


def _plan(path: Path) -> Path:
    path.write_text("tiers:\n  - {level: 1, name: W, owner: C, all: ['volume > 30']}\n")
    return path


def test_a_full_disk_is_one_line_and_keeps_the_previous_output(tiny_fs, tmp_path, capsys):
    series, plan = _series(tmp_path / "s.csv", 20_000), _plan(tmp_path / "p.yaml")
    out = tiny_fs / "tiers.csv"
    out.write_text("previous output\n")
    argv = ["detect", "--series", str(series), "--policy", str(plan), "--out", str(out)]
    assert main(argv) == 2
    err = capsys.readouterr().err.strip().splitlines()
    assert len(err) == 1 and "No space left on device" in err[0] and str(out) in err[0]
    assert out.read_text() == "previous output\n"
    assert sorted(p.name for p in tiny_fs.iterdir()) == ["tiers.csv"]  # no temporary file left


def test_a_read_only_file_system_is_one_line(tiny_fs, tmp_path, capsys):
    series, plan = _series(tmp_path / "s.csv", 200), _plan(tmp_path / "p.yaml")
    done = subprocess.run(["mount", "-o", "remount,ro", str(tiny_fs)], capture_output=True)
    if done.returncode != 0:
        pytest.skip("cannot remount read-only here")
    out = tiny_fs / "tiers.csv"
    argv = ["detect", "--series", str(series), "--policy", str(plan), "--out", str(out)]
    assert main(argv) == 2
    err = capsys.readouterr().err.strip().splitlines()
    assert len(err) == 1 and "Read-only file system" in err[0] and "Traceback" not in err[0]


def test_an_output_under_a_file_is_one_line(tmp_path, capsys):
    series, plan = _series(tmp_path / "s.csv", 200), _plan(tmp_path / "p.yaml")
    blocker = tmp_path / "not-a-folder"
    blocker.write_text("x")
    argv = ["detect", "--series", str(series), "--policy", str(plan), "--out",
            str(blocker / "tiers.csv")]
    assert main(argv) == 2
    err = capsys.readouterr().err.strip().splitlines()
    assert len(err) == 1 and "not-a-folder" in err[0]
