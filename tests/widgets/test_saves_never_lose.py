"""Saves that never lose a version: versioned policy names claimed atomically by concurrent
processes, incident ids mapped injectively to notes files, and a save killed with SIGKILL at any
point leaves the target and its ``.bak`` each a complete version."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import textwrap
import time
from pathlib import Path

import pytest
import yaml
from small_topic import POLICY

from esc_analytics import load_notes, load_policy, next_policy_path, save_notes
from esc_analytics.policy import save_policy_version
from esc_analytics.retro import notes_file_stem

# --- policy-vNNN names -------------------------------------------------------------------------

CLAIMER = textwrap.dedent(
    """
    import sys
    from esc_analytics.policy import save_policy_version
    from small_topic import POLICY

    folder, tag, n = sys.argv[1], sys.argv[2], int(sys.argv[3])
    for i in range(n):
        path = save_policy_version(POLICY.set_params(tier1__persistence=1 + i % 3), folder)
        print(tag, i, path.name, flush=True)
    """
)


def test_concurrent_saves_from_two_processes_never_share_a_name(tmp_path: Path) -> None:
    folder = tmp_path / "policies"
    script = tmp_path / "claim.py"
    script.write_text(CLAIMER)
    env = {**os.environ, "PYTHONPATH": str(Path(__file__).resolve().parents[1])}
    procs = [
        subprocess.Popen([sys.executable, str(script), str(folder), tag, "10"],
                         stdout=subprocess.PIPE, text=True, env=env)
        for tag in ("a", "b")
    ]  # fmt: skip
    outputs = [p.communicate(timeout=120)[0] for p in procs]
    assert [p.returncode for p in procs] == [0, 0]
    names = [line.split()[2] for out in outputs for line in out.splitlines()]
    assert len(names) == 20 and len(set(names)) == 20
    files = sorted(p.name for p in folder.glob("policy-v*.yaml"))
    assert files == [f"policy-v{i:03d}.yaml" for i in range(1, 21)]
    for name in files:  # every version complete
        assert load_policy(folder / name).tiers
    assert not list(folder.glob(".*"))  # no temporary file left behind


def test_a_version_is_never_overwritten_and_next_path_follows(tmp_path: Path) -> None:
    (tmp_path / "policy-v007.yaml").write_text("kept: true\n")
    (tmp_path / "policy-v7.yaml").write_text("not a version name\n")
    assert next_policy_path(tmp_path).name == "policy-v008.yaml"
    first = save_policy_version(POLICY, tmp_path)
    second = save_policy_version(POLICY, tmp_path / "new" / "folder")
    assert first.name == "policy-v008.yaml" and second.name == "policy-v001.yaml"
    assert (tmp_path / "policy-v007.yaml").read_text() == "kept: true\n"
    assert load_policy(first) == POLICY
    with pytest.raises(TypeError, match="needs a Policy"):
        save_policy_version("tiers: []", tmp_path)


def test_without_hard_links_the_name_is_claimed_by_exclusive_create(tmp_path, monkeypatch):
    def no_links(*_a: object, **_k: object) -> None:
        raise PermissionError(1, "Operation not permitted")

    monkeypatch.setattr(os, "link", no_links)
    names = [save_policy_version(POLICY, tmp_path).name for _ in range(3)]
    assert names == ["policy-v001.yaml", "policy-v002.yaml", "policy-v003.yaml"]
    assert load_policy(tmp_path / "policy-v003.yaml") == POLICY


# --- notes file names --------------------------------------------------------------------------

IDS = ["INC/7", "INC_7", "INC 7", "INC\\7", "inc_7", "INC-7", "INC.7", "INC..7", "../INC_7",
       ".INC_7", "INC_7.yaml", "INC_7.bak", "INC_7.", "Ïnç_7", "INC_7~x", "", " ", "x" * 304,
       "x" * 305, "✓" * 300, "CON", "-rf", "INC\n7", "INC\x007"]  # fmt: skip


def test_notes_file_names_are_injective_safe_and_short() -> None:
    stems = [notes_file_stem(i) for i in IDS]
    assert len(set(stems)) == len(IDS)
    for stem in stems:
        assert "/" not in stem and "\\" not in stem and "\x00" not in stem
        assert not stem.startswith((".", "-")) and stem.isascii()
        assert len(f"{stem}.yaml.bak".encode()) < 100
    assert notes_file_stem("INC-007") == "INC-007"  # plain ids keep their old names
    assert notes_file_stem("INC_7") == "INC_7"


def test_distinct_ids_keep_distinct_notes_and_a_long_id_works(tmp_path: Path) -> None:
    for incident_id in IDS:
        path = tmp_path / f"{notes_file_stem(incident_id)}.yaml"
        save_notes({"incident_id": incident_id, "sections": {"scope": f"about {incident_id!r}"}},
                   path)  # fmt: skip
    for incident_id in IDS:
        notes = load_notes(tmp_path / f"{notes_file_stem(incident_id)}.yaml")
        assert notes["incident_id"] == incident_id
        assert notes["sections"]["scope"] == f"about {incident_id!r}"


# --- kill -9 during saves ----------------------------------------------------------------------

SAVER = textwrap.dedent(
    """
    import sys
    from esc_analytics import save_notes

    path = sys.argv[1]
    i = 0
    print("ready", flush=True)
    while True:
        i += 1
        # a big, distinct version each time: the kill lands inside the write, the fsync, the
        # backup link or the rename
        save_notes({"incident_id": "INC-1",
                    "sections": {"scope": f"version {i}\\n" + "x" * (200_000 + i % 7)}}, path)
    """
)


def _complete(path: Path) -> int | None:
    """The version number in a notes file, None when it is missing; fails when it is partial."""
    if not path.exists():
        return None
    doc = yaml.safe_load(path.read_text(encoding="utf-8"))
    scope = doc["sections"]["scope"]
    number, filler = scope.split("\n", 1)
    assert number.startswith("version ") and set(filler) == {"x"}
    assert len(filler) == 200_000 + int(number.split()[1]) % 7
    return int(number.split()[1])


@pytest.mark.slow
def test_sigkill_at_any_point_of_a_save_keeps_target_and_backup_complete(tmp_path: Path) -> None:
    script = tmp_path / "saver.py"
    script.write_text(SAVER)
    target = tmp_path / "notes" / "INC-1.yaml"
    save_notes({"incident_id": "INC-1", "sections": {"scope": "version 0\n" + "x" * 200_000}},
               target)  # fmt: skip
    seen = set()
    for delay_ms in (3, 11, 29, 53, 97, 181, 307):  # lands at different steps of a save
        proc = subprocess.Popen([sys.executable, str(script), str(target)],
                                stdout=subprocess.PIPE, text=True)  # fmt: skip
        assert proc.stdout is not None and proc.stdout.readline().strip() == "ready"
        time.sleep(delay_ms / 1000)
        os.kill(proc.pid, signal.SIGKILL)
        proc.wait(timeout=30)
        current = _complete(target)
        backup = _complete(target.with_name(target.name + ".bak"))
        assert current is not None
        assert backup is None or backup <= current
        seen.add(current)
    assert max(seen) > 0  # saves did complete between the kills
    leftovers = [p.name for p in target.parent.iterdir() if p.name.endswith(".tmp")]
    # a killed save may leave its temporary file (never the target); it is not a version
    assert all(name.startswith(".") for name in leftovers)
