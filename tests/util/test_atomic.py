"""Saves that never lose a version: permissions kept, links written through, the previous
version kept by a hard link, a failed write leaves the target as it was."""

from __future__ import annotations

import os
import stat
from pathlib import Path

import pandas as pd
import pytest

from esc_analytics._util.atomic import atomic_write_text, write_table


def _mode(path: Path) -> int:
    return stat.S_IMODE(path.stat().st_mode)


def test_a_private_file_stays_private(tmp_path: Path) -> None:
    notes = tmp_path / "notes.yaml"
    notes.write_text("old")
    notes.chmod(0o600)
    atomic_write_text(notes, "new")
    assert notes.read_text() == "new" and _mode(notes) == 0o600


def test_a_new_file_gets_the_usual_permissions(tmp_path: Path) -> None:
    umask = os.umask(0o022)
    try:
        atomic_write_text(tmp_path / "p.yaml", "x")
    finally:
        os.umask(umask)
    assert _mode(tmp_path / "p.yaml") == 0o644


def test_a_symlink_is_written_through(tmp_path: Path) -> None:
    shared = tmp_path / "shared" / "INC-1.yaml"
    shared.parent.mkdir()
    shared.write_text("v1")
    link = tmp_path / "INC-1.yaml"
    link.symlink_to(shared)
    atomic_write_text(link, "v2", backup=True)
    assert link.is_symlink() and shared.read_text() == "v2"
    assert (shared.parent / "INC-1.yaml.bak").read_text() == "v1"


def test_the_previous_version_is_a_hard_link_not_a_copy(tmp_path: Path) -> None:
    target = tmp_path / "policy.yaml"
    target.write_text("v1")
    inode = target.stat().st_ino
    atomic_write_text(target, "v2", backup=True)
    backup = tmp_path / "policy.yaml.bak"
    assert backup.read_text() == "v1" and backup.stat().st_ino == inode
    assert target.read_text() == "v2"
    assert sorted(p.name for p in tmp_path.iterdir()) == ["policy.yaml", "policy.yaml.bak"]


def test_a_failed_write_leaves_the_target_and_no_temporary_file(tmp_path: Path) -> None:
    target = tmp_path / "t.csv"
    target.write_text("good")

    class Broken(pd.DataFrame):
        def to_csv(self, *args, **kwargs):  # type: ignore[override]
            raise OSError("disk full")

    with pytest.raises(OSError, match="disk full"):
        write_table(Broken({"a": [1]}), target)
    assert target.read_text() == "good"
    assert [p.name for p in tmp_path.iterdir()] == ["t.csv"]


def test_tables_round_trip(tmp_path: Path) -> None:
    frame = pd.DataFrame({"a": [1, 2], "b": ["x", "y"]})
    for name in ("t.csv", "t.parquet"):
        path = write_table(frame, tmp_path / name)
        back = pd.read_csv(path) if name.endswith(".csv") else pd.read_parquet(path)
        pd.testing.assert_frame_equal(back, frame)
