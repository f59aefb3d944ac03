"""export_figures: several figures, one browser, files written atomically with safe names."""

from __future__ import annotations

import struct
from pathlib import Path

import plotly.graph_objects as go
import pytest

from esc_analytics import EscAnalyticsError
from esc_analytics.plots import export_figures

CHROMIUM = Path("/usr/bin/chromium")


def _bars(n: int) -> go.Figure:
    return go.Figure(go.Bar(x=list("abc"), y=[n, 2 * n, 3 * n]), layout={"title": f"fig {n}"})


@pytest.mark.slow
@pytest.mark.skipif(not CHROMIUM.exists(), reason="needs Debian's chromium (/usr/bin/chromium)")
@pytest.mark.parametrize("fmt", ["png", "svg"])
def test_export_figures_writes_every_figure(tmp_path: Path, fmt: str) -> None:
    figs = {"Brewhaus": _bars(1), "../evil <b>": _bars(2), "brewhaus": _bars(3)}
    paths = export_figures(figs, tmp_path / "out", format=fmt, width=420, height=300)
    assert [p.name for p in paths] == [f"Brewhaus.{fmt}", f"evil_b.{fmt}", f"brewhaus-2.{fmt}"]
    assert all(p.parent == tmp_path / "out" for p in paths)
    for path in paths:
        data = path.read_bytes()
        if fmt == "png":
            assert data[:8] == b"\x89PNG\r\n\x1a\n"
            assert struct.unpack(">II", data[16:24]) == (420, 300)  # IHDR width, height
        else:
            assert data.lstrip().startswith(b"<svg") and b'width="420"' in data
    assert b"fig 3" in paths[2].read_bytes() or fmt == "png"
    listed = export_figures([_bars(4), _bars(5)], tmp_path / "seq", format=fmt)
    assert [p.name for p in listed] == [f"figure-01.{fmt}", f"figure-02.{fmt}"]


def test_export_figures_errors(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    with pytest.raises(EscAnalyticsError, match="unsupported image format 'gif'"):
        export_figures([_bars(1)], tmp_path, format="gif")
    with pytest.raises(EscAnalyticsError, match="figure-01: expected a plotly Figure"):
        export_figures([{"data": []}], tmp_path)
    (tmp_path / "file").write_text("x")
    with pytest.raises(EscAnalyticsError, match="not a folder"):
        export_figures([_bars(1)], tmp_path / "file")
    monkeypatch.setenv("BROWSER_PATH", str(tmp_path / "no-chromium"))
    with pytest.raises(EscAnalyticsError, match="apt-get install -y chromium"):
        export_figures([_bars(1)], tmp_path / "none")
    assert not (tmp_path / "none").exists()
    assert export_figures([], tmp_path / "empty") == []
