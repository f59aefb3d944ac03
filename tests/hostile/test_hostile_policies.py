"""Hostile policy files and texts: one PolicyError naming the file or key and what is allowed,
never another exception, a traceback from the CLI, or another number than the one written."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest

from esc_analytics import PolicyError, load_policy
from esc_analytics.policy import Policy

TIER = "tiers:\n- level: 1\n  all: ['{}']\n"

# (case id, YAML text, words the one-line error must hold)
REFUSED_TEXT = [
    ("nested-10000-flow", "tiers: " + "[" * 10_000 + "]" * 10_000, "nested deeper"),
    ("nested-2000-block", "".join(" " * i + f"k{i}:\n" for i in range(2000)) + " " * 2000 + "1",
     "nested deeper"),
    ("integer-400-digits-level", "tiers:\n- level: " + "9" * 400 + "\n  all: ['volume >= 1']\n",
     "400 digits"),
    ("integer-400-digits-for", "tiers:\n- level: 1\n  for: " + "9" * 400
     + "\n  all: ['volume >= 1']\n", "400 digits"),
    ("integer-5000-digits", "tiers:\n- level: 1\n  all: [{feature: volume, op: '>=', value: "
     + "9" * 5000 + "}]\n", "5000 digits"),
    ("threshold-400-digits-text", TIER.format("volume >= " + "9" * 400), "finite number"),
    ("threshold-underscore", TIER.format("volume_ratio >= 2_5"), "plain decimals"),
    ("threshold-underscore-mapping",
     "tiers:\n- level: 1\n  all: [{feature: volume_ratio, op: '>=', value: 2_5}]\n",
     "plain decimals"),
    ("threshold-hex", TIER.format("volume_ratio >= 0x10"), "plain decimals"),
    ("threshold-sexagesimal", "tiers:\n- level: 1\n  all: [{feature: volume, op: '>=', "
     "value: 1:30}]\n", "plain decimals"),
    ("threshold-inf", TIER.format("volume_ratio >= inf"), "finite number"),
    ("threshold-yaml-inf", "tiers:\n- level: 1\n  all: [{feature: volume, op: '>=', "
     "value: .inf}]\n", "finite number"),
    ("threshold-nan", TIER.format("volume_ratio >= nan"), "finite number"),
    ("tag-set", "tiers:\n- level: 1\n  all: !!set {'volume_ratio >= 2': null, 'volume >= 3': "
     "null}\n", "!!set"),
    ("tag-binary", "tiers: !!binary aGVsbG8=\n", "!!binary"),
    ("tag-python", "tiers: !!python/object/apply:os.system ['touch PWNED']\n", "tags are not"),
    ("tag-in-mapping", "tiers:\n- level: !!int 1\n  all: ['volume >= 1']\n", "!!int"),
    ("tag-local", "tiers: !custom x\n", "tags are not"),
    ("unknown-key-10MB", "tiers: []\n" + "k" * 10_000_000 + ": 1\n", "unknown key"),
    ("unknown-key-10MB-quoted", "'" + "k" * 10_000_000 + "': 1\ntiers: []\n", "unknown key"),
    ("unknown-tier-key-long", "tiers:\n- level: 1\n  " + "z" * 5000
     + ": 1\n  all: ['volume >= 1']\n", "unknown key"),
    ("duplicate-key", "tiers: []\ntiers: []\n", "duplicate key"),
    ("scalar", "just text", "a policy is a mapping"),
    ("list", "- 1\n- 2\n", "a policy is a mapping"),
    ("empty", "", "empty policy"),
    ("control-characters", "tiers: [\x07]\n", "invalid YAML"),
    ("looks-like-txt-path", "policy.txt", "policy file not found"),
    ("looks-like-yaml-path", "plans/policy.yaml", "policy file not found"),
    ("looks-like-dir-path", "plans/v2/plan", "policy file not found"),
]


@pytest.mark.parametrize(("text", "words"), [pytest.param(*c[1:], id=c[0]) for c in REFUSED_TEXT])
def test_hostile_policy_texts_raise_one_policy_error(tmp_path, monkeypatch, text, words) -> None:
    monkeypatch.chdir(tmp_path)
    with pytest.raises(PolicyError) as caught:
        Policy.from_yaml(text)
    message = str(caught.value)
    assert words in message, message[:300]
    assert "\n" not in message and len(message) < 1000
    assert not (tmp_path / "PWNED").exists()


LATIN = "name: café\ntiers:\n- level: 1\n  all: ['volume >= 3']\n"

# (case id, file bytes, words)
REFUSED_FILES = [
    ("latin-1", LATIN.encode("latin-1"), "not UTF-8"),
    ("cp1252", "name: “plan”\n".encode("cp1252") + LATIN.encode("utf-8")[12:], "not UTF-8"),
    ("utf-16", LATIN.encode("utf-16"), "UTF-16"),
    ("utf-16-be", b"\xfe\xff" + LATIN.encode("utf-16-be"), "UTF-16"),
    ("utf-32", LATIN.encode("utf-32"), "UTF-16/UTF-32"),
    ("binary", bytes(range(256)) * 8, "not a text file"),
    ("zip", b"PK\x03\x04" + bytes(200), "not a text file"),
]


@pytest.mark.parametrize(("data", "words"), [pytest.param(*c[1:], id=c[0]) for c in REFUSED_FILES])
def test_policy_files_that_are_not_utf8_say_so(tmp_path, data, words) -> None:
    path = tmp_path / "plan.yaml"
    path.write_bytes(data)
    for read in (load_policy, Policy.from_yaml, lambda p: Policy.from_yaml(str(p))):
        with pytest.raises(PolicyError) as caught:
            read(path)
        assert words in str(caught.value) and str(path) in str(caught.value)


def test_utf8_with_bom_and_a_one_line_existing_path_are_read(tmp_path, monkeypatch) -> None:
    path = tmp_path / "policy.txt"
    path.write_bytes(b"\xef\xbb\xbf" + LATIN.encode("utf-8"))
    assert Policy.from_yaml(str(path)).name == "café"
    monkeypatch.chdir(tmp_path)
    assert Policy.from_yaml("policy.txt").name == "café"  # the file, not the text
    assert load_policy("policy.txt").name == "café"


def test_plain_decimals_still_read() -> None:
    policy = Policy.from_yaml(
        "tiers:\n- level: 1\n  all: ['volume_ratio >= 2.5', 'reach >= 1e6', 'volume > -.5']\n"
        "  any: [{feature: volume, op: '>=', value: 010}]\n  min_volume: 1.0e-3\n"
    )
    assert [c.value for c in policy.tiers[0].conditions] == [2.5, 1e6, -0.5, 10.0]
    assert policy.tiers[0].min_volume == 0.001


@pytest.mark.parametrize("name", ["1e5", "010", "2_5", "1:30", ".5", "0x10", "yes", "null"])
def test_names_that_look_like_numbers_round_trip(name) -> None:
    policy = Policy.from_dict({"name": name, "tiers": [{"level": 1, "all": ["volume >= 2"]}]})
    assert Policy.from_yaml(policy.to_yaml()) == policy


_SET_SCRIPT = """
import sys
from esc_analytics.policy import Policy
conditions = [f"volume_ratio >= {i}.5" for i in range(12)]
text = "tiers:\\n- level: 1\\n  all: [" + ", ".join(repr(c) for c in conditions) + "]\\n"
sys.stdout.write(Policy.from_yaml(text).to_yaml())
"""


def test_to_yaml_is_byte_identical_across_hash_seeds() -> None:
    outputs = set()
    for seed in ("0", "1", "12345"):
        env = {**os.environ, "PYTHONHASHSEED": seed}
        done = subprocess.run([sys.executable, "-c", _SET_SCRIPT], env=env, check=True,
                              capture_output=True)
        outputs.add(done.stdout)
    assert len(outputs) == 1


CLI_CASES = [c for c in REFUSED_TEXT if c[0] in (
    "nested-10000-flow", "integer-400-digits-level", "threshold-underscore", "tag-set",
    "unknown-key-10MB")] + [("latin-1-file", LATIN.encode("latin-1"), "not UTF-8"),
                            ("utf-16-file", LATIN.encode("utf-16"), "UTF-16"),
                            ("binary-file", bytes(range(256)) * 8, "not a text file")]


@pytest.mark.parametrize(("content", "words"), [pytest.param(*c[1:], id=c[0]) for c in CLI_CASES])
def test_cli_refuses_hostile_policies_in_one_line(tmp_path, capsys, content, words) -> None:
    from esc_analytics.cli import main

    series = tmp_path / "series.csv"
    rows = [f"x,2024-01-0{d}T{h:02d}:00:00Z,{3 + h % 4}" for d in (1, 2) for h in range(24)]
    series.write_text("topic,window_start,volume\n" + "\n".join(rows) + "\n", encoding="utf-8")
    incidents = tmp_path / "incidents.csv"
    incidents.write_text("incident_id,topic,started_at\nA,x,2024-01-02T05:00:00Z\n",
                         encoding="utf-8")
    policy = tmp_path / "policy.yaml"
    if isinstance(content, bytes):
        policy.write_bytes(content)
    else:
        policy.write_text(content, encoding="utf-8")
    code = main(["backtest", "--series", str(series), "--incidents", str(incidents),
                 "--policy", str(policy)])
    err = capsys.readouterr().err
    assert code == 2, err[:500]
    assert err.count("\n") == 1 and "Traceback" not in err
    assert words in err and len(err) < 1000


def test_policy_path_object_that_does_not_exist() -> None:
    with pytest.raises(PolicyError, match="policy file not found"):
        Policy.from_yaml(Path("/nonexistent/plan.yaml"))
    with pytest.raises(PolicyError, match="expected YAML text or a path"):
        Policy.from_yaml(b"tiers: []")  # type: ignore[arg-type]
