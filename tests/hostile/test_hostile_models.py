"""Hostile model files: load_model raises ModelError naming the file, and the CLI exits 2 with
one line — for files without params, with unknown params, with a string as the model, damaged
archives and files that are not skops at all."""

from __future__ import annotations

import zipfile
from pathlib import Path

import pytest

from esc_analytics import ModelError
from esc_analytics.models import load_model

sio = pytest.importorskip("skops.io")

BASE = {
    "format": "esc-analytics-model/1",
    "params": {"n_tiers": 1},
    "freq": "1h",
    "columns": ["volume"],
    "use_text": False,
    "models": {},
}


def _payload(**changes: object) -> object:
    out = {**BASE, **changes}
    return {k: v for k, v in out.items() if v is not _DROP}


_DROP = object()

# (case id, payload dumped with skops, words of the error)
PAYLOADS = [
    ("no-params", _payload(params=_DROP), "no params"),
    ("no-models", _payload(models=_DROP), "no models"),
    ("params-a-string", _payload(params="n_tiers=1"), "params must be a mapping"),
    ("params-int-keys", _payload(params={1: 2}), "params must be a mapping"),
    ("unknown-param", _payload(params={"n_tiers": 1, "evil": "rm -rf"}), "unknown model param"),
    ("string-as-model", _payload(models={"1": "HistGradientBoostingClassifier"}),
     "fitted classifiers"),
    ("number-as-model", _payload(models={"1": 42}), "fitted classifiers"),
    ("models-a-string", _payload(models="hgb"), "fitted classifiers"),
    ("bad-freq", _payload(freq="every tuesday"), "not a valid"),
    ("bad-tier-key", _payload(thresholds={"one": 0.5}), "not a valid"),
    ("payload-a-string", "a model", "not an esc-analytics model"),
    ("payload-a-list", [1, 2, 3], "not an esc-analytics model"),
    ("wrong-format", _payload(format="other/1"), "not an esc-analytics model"),
]


@pytest.mark.parametrize(("payload", "words"), [pytest.param(*c[1:], id=c[0]) for c in PAYLOADS])
def test_malformed_model_payloads_raise_model_error(tmp_path, payload, words) -> None:
    path = tmp_path / "model.skops"
    sio.dump(payload, path)
    with pytest.raises(ModelError) as caught:
        load_model(path)
    assert words in str(caught.value) and str(path) in str(caught.value)
    assert "\n" not in str(caught.value)


def _damaged(path: Path) -> None:
    sio.dump(_payload(), path)
    data = path.read_bytes()
    path.write_bytes(data[: len(data) // 2])


def _zip_without_schema(path: Path) -> None:
    with zipfile.ZipFile(path, "w") as archive:
        archive.writestr("other.txt", "hello")


FILES = [
    ("truncated", _damaged, "skops"),
    ("zip-without-schema", _zip_without_schema, "skops"),
    ("text", lambda p: p.write_text("not a model", encoding="utf-8"), "skops"),
    ("empty", lambda p: p.write_bytes(b""), "skops"),
    ("missing", lambda p: None, "not found"),
]


@pytest.mark.parametrize(("make", "words"), [pytest.param(*c[1:], id=c[0]) for c in FILES])
def test_damaged_model_files_raise_model_error(tmp_path, make, words) -> None:
    path = tmp_path / "model.skops"
    make(path)
    with pytest.raises(ModelError, match=words):
        load_model(path)


@pytest.mark.parametrize(
    ("payload", "words"),
    [pytest.param(*c[1:], id=c[0]) for c in PAYLOADS
     if c[0] in ("no-params", "unknown-param", "string-as-model", "payload-a-string")],
)
def test_cli_detect_refuses_hostile_models_in_one_line(tmp_path, capsys, payload, words) -> None:
    from esc_analytics.cli import main

    series = tmp_path / "series.csv"
    rows = [f"x,2024-01-01T{h:02d}:00:00Z,{h}" for h in range(24)]
    series.write_text("topic,window_start,volume\n" + "\n".join(rows) + "\n", encoding="utf-8")
    model = tmp_path / "model.skops"
    sio.dump(payload, model)
    code = main(["detect", "--series", str(series), "--model", str(model),
                 "--out", str(tmp_path / "out.csv")])
    err = capsys.readouterr().err
    assert code == 2, err[:500]
    assert err.count("\n") == 1 and "Traceback" not in err and words in err
