"""The package's layering, read from the source (an AST walk, no extra dependency).

Imports point one way along the data flow: ``io, policy < features < escalations <
backtesting < calibration < models``, ``retro`` above ``backtesting``; ``plots``, ``report``,
``widgets`` and ``cli`` are leaves that no core module imports, except a result's ``.plot()``
importing ``plots`` lazily (inside a function).
"""

from __future__ import annotations

import ast
import json
import re
import subprocess
import sys
from dataclasses import dataclass
from pathlib import Path

import pytest

REPO_ROOT = Path(__file__).resolve().parents[1]
PACKAGE = REPO_ROOT / "src" / "esc_analytics"

# rank of each first-level package: a core module may import only lower ranks and its own package
CORE_RANK = {
    "_util": 0,
    "io": 1,
    "policy": 1,
    "sample": 1,
    "features": 2,
    "escalations": 3,
    "backtesting": 4,
    "calibration": 5,
    "retro": 5,
    "models": 6,
}
# leaves: what each may import besides the core (nothing imports widgets or cli)
LEAVES = {"plots": set(), "report": set(), "widgets": {"plots"}, "cli": {"report", "plots"}}
HEAVY = ("sklearn", "plotly", "ipywidgets", "skops")


@dataclass(frozen=True)
class Import:
    source: str  # importing module, dotted
    target: str  # imported module, dotted (resolved)
    names: tuple[str, ...]
    in_function: bool
    line: int


def _module_name(path: Path) -> str:
    parts = list(path.relative_to(PACKAGE.parent).with_suffix("").parts)
    return ".".join(parts[:-1] if parts[-1] == "__init__" else parts)


def _imports(path: Path) -> list[Import]:
    tree = ast.parse(path.read_text(encoding="utf-8"))
    module = _module_name(path)
    package = module if path.name == "__init__.py" else module.rsplit(".", 1)[0]
    parents: dict[ast.AST, ast.AST] = {}
    for node in ast.walk(tree):
        for child in ast.iter_child_nodes(node):
            parents[child] = node

    def in_function(node: ast.AST) -> bool:
        while node in parents:
            node = parents[node]
            if isinstance(node, ast.FunctionDef | ast.AsyncFunctionDef):
                return True
        return False

    found = []
    for node in ast.walk(tree):
        if isinstance(node, ast.ImportFrom):
            if node.level:
                base = package.split(".")[: len(package.split(".")) - (node.level - 1)]
                target = ".".join(base + ([node.module] if node.module else []))
            else:
                target = node.module or ""
            names = tuple(a.name for a in node.names)
        elif isinstance(node, ast.Import):
            for alias in node.names:
                found.append(Import(module, alias.name, (), in_function(node), node.lineno))
            continue
        else:
            continue
        found.append(Import(module, target, names, in_function(node), node.lineno))
    return found


def _all_imports() -> list[Import]:
    return [i for path in sorted(PACKAGE.rglob("*.py")) for i in _imports(path)]


def _stage(module: str) -> str | None:
    parts = module.split(".")
    return parts[1] if len(parts) > 1 and parts[0] == "esc_analytics" else None


def _internal(imports: list[Import]) -> list[Import]:
    out = []
    for imp in imports:
        if not imp.target.startswith("esc_analytics"):
            continue
        if imp.target == "esc_analytics":  # "from .. import x" → the module esc_analytics.x
            for name in imp.names:
                out.append(Import(imp.source, f"esc_analytics.{name}", (), imp.in_function,
                                  imp.line))
            continue
        out.append(imp)
    return out


INTERNAL = _internal(_all_imports())


def test_the_tree_has_one_package_per_stage():
    stages = {p.name for p in PACKAGE.iterdir() if (p / "__init__.py").exists()}
    assert stages == set(CORE_RANK) | set(LEAVES)
    loose = sorted(p.name for p in PACKAGE.glob("*.py") if p.name != "__init__.py")
    assert loose == [], f"modules outside a stage package: {loose}"


def test_core_imports_point_down_the_data_flow():
    wrong = []
    for imp in INTERNAL:
        src, dst = _stage(imp.source), _stage(imp.target)
        if src is None or src in LEAVES or dst is None or src == dst:
            continue
        if dst in LEAVES:
            if not (dst == "plots" and imp.in_function):
                wrong.append(f"{imp.source}:{imp.line} imports leaf {imp.target}")
            continue
        if CORE_RANK[dst] >= CORE_RANK[src]:
            wrong.append(f"{imp.source}:{imp.line} imports {imp.target} (same or higher stage)")
    assert wrong == []


def test_leaves_import_only_the_core_and_the_leaves_below_them():
    wrong = []
    for imp in INTERNAL:
        src, dst = _stage(imp.source), _stage(imp.target)
        if src not in LEAVES or dst is None or dst == src or dst in CORE_RANK:
            continue
        if dst not in LEAVES[src]:
            wrong.append(f"{imp.source}:{imp.line} imports {imp.target}")
    assert wrong == []


def test_core_modules_import_each_other_at_the_top():
    """A function-level import between core modules hides the real graph (or a cycle)."""
    hidden = [
        f"{imp.source}:{imp.line} → {imp.target}"
        for imp in INTERNAL
        if imp.in_function
        and _stage(imp.source) in CORE_RANK
        and _stage(imp.target) in CORE_RANK
    ]
    assert hidden == []


def test_no_private_name_crosses_a_module():
    crossing = [
        f"{imp.source}:{imp.line} takes {name} from {imp.target}"
        for imp in INTERNAL
        for name in imp.names
        if name.startswith("_") and not name.startswith("__")
        and imp.target != "esc_analytics"
    ]
    assert crossing == []


def test_cli_commands_share_inputs_and_never_import_each_other():
    shared = {"esc_analytics.cli._common", "esc_analytics.cli._inputs"}
    wrong = [
        f"{imp.source}:{imp.line} imports {imp.target}"
        for imp in INTERNAL
        if imp.source.startswith("esc_analytics.cli._")
        and imp.target.startswith("esc_analytics.cli._")
        and imp.target not in shared
        and imp.source not in shared
    ]
    assert wrong == []


def test_each_package_reexports_its_public_names():
    import importlib

    import esc_analytics as esc

    for stage in CORE_RANK:
        if stage == "_util":
            continue
        module = importlib.import_module(f"esc_analytics.{stage}")
        assert module.__doc__, f"esc_analytics.{stage} has no docstring"
        for name in module.__all__:
            assert not name.startswith("_")
            assert getattr(module, name) is not None
    for name in esc.__all__:
        assert getattr(esc, name) is not None, name
    assert callable(esc.backtest) and esc.backtest.__module__.endswith("_backtest")


# ------------------------------------------------------------------ what users are taught
_PRIVATE = re.compile(r"\besc_analytics(?:\.[A-Za-z]\w*)*\._\w+")


def _notebook_code(path: Path) -> str:
    cells = json.loads(path.read_text(encoding="utf-8"))["cells"]
    return "\n".join("".join(c["source"]) for c in cells)


@pytest.mark.parametrize(
    "path",
    [*sorted((REPO_ROOT / "notebooks").glob("*.ipynb")), REPO_ROOT / "README.md",
     *sorted((REPO_ROOT / "benchmarks").glob("*.py"))],
    ids=lambda p: p.name,
)
def test_notebooks_readme_and_benchmarks_use_the_public_api(path: Path):
    text = _notebook_code(path) if path.suffix == ".ipynb" else path.read_text(encoding="utf-8")
    assert _PRIVATE.findall(text) == []


def test_aggregate_starts_without_scikit_learn_or_plotly(tmp_path: Path):
    csv = tmp_path / "mentions.csv"
    csv.write_text(
        "mention_id,created_at,topic,text\n"
        "1,2026-01-01T10:00:00Z,acme,hello\n2,2026-01-01T11:30:00Z,acme,bad service\n",
        encoding="utf-8",
    )
    code = (
        "import sys\n"
        "from esc_analytics.cli import main\n"
        f"status = main(['aggregate', {str(csv)!r}, '--out', {str(tmp_path / 'f.parquet')!r}])\n"
        f"heavy = sorted(m for m in sys.modules if m.split('.')[0] in {HEAVY!r})\n"
        "print('HEAVY', heavy)\n"
        "sys.exit(status)\n"
    )
    done = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True,
                          timeout=300)
    assert done.returncode == 0, done.stderr
    assert "HEAVY []" in done.stdout, done.stdout
