"""Parameters are data: whatever a ``render -p`` value or an API parameter holds, the injected
cell decodes it from a JSON text literal and can never run it (issue 15, item 1)."""

from __future__ import annotations

import ast
import datetime as dt
import json
import re
from pathlib import Path

import numpy as np
import pytest
from browser_utils import write_notebook

from esc_analytics import EscAnalyticsError
from esc_analytics.cli import main
from esc_analytics.report import _render as report

ECHO = "import json\nprint('PARAMS=' + json.dumps({'name': name}))"


def _marker_code(marker: Path) -> str:
    return f"__import__('pathlib').Path({str(marker)!r}).write_text('pwned')"


@pytest.fixture()
def notebook(tmp_path: Path) -> Path:
    return write_notebook(tmp_path / "p.ipynb", "name = 'default'", ECHO)


# --- the injected source: data only ----------------------------------------------------------
VALUES = [
    "plain",
    "'); import os; os.system('x') #",
    '"""\nimport os\n"""',
    "</script><script>alert(1)</script>",
    "\u2028\u2029 line separators and NUL \x00",
    12,
    -0.5,
    True,
    None,
    [1, "a", [None, {"k": "v"}]],
    {"nested": {"deeper": ["x", 2.5]}},
]


@pytest.mark.parametrize("value", VALUES, ids=range(len(VALUES)))
def test_injected_cell_holds_only_json_literals(value: object) -> None:
    source = report.parameters_source({"name": value})
    tree = ast.parse(source)
    calls = [n for n in ast.walk(tree) if isinstance(n, ast.Call)]
    # the only call is json.loads of one string constant
    assert len(calls) == 1
    (arg,) = calls[0].args
    assert isinstance(arg, ast.Constant) and isinstance(arg.value, str)
    assert json.loads(arg.value) == value


@pytest.mark.parametrize(
    ("value", "expected"),
    [
        (dt.date(2026, 3, 4), "2026-03-04"),
        (Path("data/x.csv"), "data/x.csv"),
        (np.int64(3), 3),
        (np.float64(0.25), 0.25),
        (("a", 1), ["a", 1]),
    ],
)
def test_plain_values_are_converted(value: object, expected: object) -> None:
    assert report.plain_parameter(value, "name") == expected


@pytest.mark.parametrize(
    ("value", "message"),
    [
        ({"a", "b"}, "set values are not allowed"),
        (b"bytes", "bytes values are not allowed"),
        (object(), "object values are not allowed"),
        ({1: "x"}, "mapping keys must be text"),
        (float("inf"), "not a finite number"),
        (float("nan"), "not a finite number"),
        ([[[[[[[[[[[[[[[[[[[[[["deep"]]]]]]]]]]]]]]]]]]]]]], "nested more than"),
    ],
)
def test_values_that_are_not_plain_data_are_refused(value: object, message: str) -> None:
    with pytest.raises(EscAnalyticsError, match=message):
        report.parameters_source({"name": value})


@pytest.mark.parametrize("name", ["import", "a b", "x;y", "__import__('os')"])
def test_parameter_names_must_be_python_names(name: str) -> None:
    with pytest.raises(EscAnalyticsError, match="not a Python name"):
        report.parameters_source({name: 1})


# --- end to end: the kernel never runs a payload ---------------------------------------------
@pytest.mark.slow
def test_payloads_reach_the_notebook_as_text_and_run_nothing(
    notebook: Path, tmp_path: Path
) -> None:
    marker = tmp_path / "marker.txt"
    payload = f"'); {_marker_code(marker)} #"
    nb = report.execute_notebook(notebook, {"name": payload}, timeout=120)
    printed = "".join(
        out.get("text", "") for cell in nb.cells for out in cell.get("outputs", ())
    )
    match = re.search(r"PARAMS=(\{.*\})", printed)
    assert match and json.loads(match.group(1)) == {"name": payload}
    assert not marker.exists()


YAML_TAG_PAYLOADS = [
    "!!set {{{code}: null}}",
    "{{a: !!set {{{code}: null}}}}",
    "!!binary aGVsbG8=",
    "!!python/object/apply:os.system ['{code}']",
    "[!!set {{{code}: null}}]",
]


@pytest.mark.parametrize("template", YAML_TAG_PAYLOADS, ids=range(len(YAML_TAG_PAYLOADS)))
def test_cli_yaml_tags_never_become_code(
    template: str, notebook: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    marker = tmp_path / "marker.txt"
    value = template.format(code=_marker_code(marker))
    out = tmp_path / "r.html"
    status = main(["render", str(notebook), "-p", f"name={value}", "--out", str(out)])
    err = capsys.readouterr().err
    assert not marker.exists()
    if status == 0:  # a tag that safe YAML cannot build stays the text given
        assert out.exists()
    else:
        assert status == 2
        lines = [line for line in err.strip().splitlines() if not line.startswith("executing")]
        assert len(lines) == 1 and "parameter name" in lines[0]
        assert "Traceback" not in err
