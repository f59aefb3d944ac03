"""Threshold tuner: sliders over a policy's flat parameters with live backtest and charts.

A thin controller: a slider change calls the pure ``evaluate`` and the prepared backtest and
sends the browser only what changed, inside one ``batch_update()`` per chart: the escalated
points of the tiers whose windows changed, the threshold line's y when it moved, the current
point of the trade-off chart, and the tables when their text changed. Long traces are
decimated for display (min-max per bucket, at most ``display_points`` per trace) and times go
as binary float arrays (milliseconds on a date axis). What does not change with the policy
(sorted features, per-topic row indices, incidents, display rows) is prepared once.

The layout is flexible (flex-wrap, ``min-width``): side by side when the notebook is wide
enough, controls above the charts when it is not; sliders are grouped per tier under the
tier's name and owner, each with the calibrated value marked on its track.
"""

from __future__ import annotations

import itertools
import json
import math
import re
import time
from pathlib import Path
from typing import Any

import ipywidgets as W
import numpy as np
import pandas as pd
import plotly.graph_objects as go

from .._util.atomic import atomic_write_text
from .._util.format import format_duration
from .._util.html import escape_text
from .._util.stats import wilson_bounds
from ..backtesting._backtest import backtest
from ..backtesting._live import PreparedBacktest
from ..backtesting._matching import DEFAULT_MAX_EARLY
from ..escalations._evaluate import evaluate, prepare_grid
from ..plots._style import tier_color
from ..plots._timeline import display_rows, epoch_ms, figure_from_timeline_data, window_times
from ..plots._tradeoff import current_point, tradeoff_figure
from ..policy._policy import Policy, load_policy, save_policy
from ..policy._thresholds import threshold_volume
from ..policy._versions import save_policy_version
from ._common import ChartFitter, DisplayMixin, html_table

_OP_TEXT = {">": ">", ">=": "≥", "<": "<", "<=": "≤"}
_OP_SUFFIX = {"gt": ">", "ge": ">=", "lt": "<", "le": "<="}
_SETTING_LABELS = {
    "persistence": ("for", "windows in a row the conditions must hold"),
    "cooldown": ("cooldown", "quiet windows during which a re-escalation continues the episode"),
    "refractory": ("refractory", "windows the tier stays silent after a page"),
    "min_volume": ("min volume", "fewest mentions in a window for the tier to fire"),
}
_TUNER_IDS = itertools.count(1)


def slider_spec(name: str, value: Any) -> dict[str, Any]:
    """Range and step of the slider for flat parameter ``name`` currently at ``value``."""
    if name.endswith("__persistence"):
        return {"kind": "int", "min": 1, "max": max(6, int(value) * 2), "step": 1}
    if name.endswith(("__cooldown", "__refractory")):
        return {"kind": "int", "min": 0, "max": max(24, int(value) * 2), "step": 1}
    v = float(value)
    hi = max(2 * abs(v), abs(v) + 1) if v >= 0 else 0.0
    lo = 0.0 if v >= 0 else 2 * v
    span = hi - lo
    step = 10.0 ** (math.floor(math.log10(span)) - 2) if span > 0 else 0.01
    return {"kind": "float", "min": lo, "max": hi, "step": step}


def param_label(policy: Policy, name: str) -> tuple[int | None, str, str]:
    """(tier level, short label, tooltip) of flat parameter ``name`` as people read it:
    ``tier2__volume_ratio`` → (2, "volume_ratio ≥", ...), ``tier1__persistence`` → (1, "for",
    ...). Names of another shape keep their text (level None)."""
    match = re.fullmatch(r"tier(\d+)__(.+)", name)
    if match is None:
        return None, name, name
    level, rest = int(match[1]), match[2]
    if rest in _SETTING_LABELS:
        label, tip = _SETTING_LABELS[rest]
        return level, label, tip
    feature, _, suffix = rest.partition("__")
    tier = next((t for t in policy.tiers if int(t.level) == level), None)
    for group in ("all", "any"):
        for cond in getattr(tier, group, ()) or ():
            op = getattr(cond, "op", None)
            if getattr(cond, "feature", None) != feature or op not in _OP_TEXT:
                continue
            if suffix and _OP_SUFFIX.get(suffix) != op:
                continue
            where = "any of" if group == "any" else "all of"
            return level, f"{feature} {_OP_TEXT[op]}", f"{where}: {feature} {op} threshold"
    return level, rest.replace("__", " "), rest


def _as_number(value: Any) -> float | None:
    try:
        out = float(value)
    except (TypeError, ValueError):
        return None
    return out if math.isfinite(out) else None


def _evaluate_cached(policy: Policy, features: pd.DataFrame, cache: dict[str, Any]) -> Any:
    """``evaluate(policy, features)`` reusing the window grid of ``features`` across calls (it
    depends on the features only)."""
    if "grid" not in cache:
        cache["grid"] = prepare_grid(features)
    return evaluate(policy, features, grid=cache["grid"])


class ThresholdTuner(DisplayMixin):
    """Tune a policy's thresholds by trying them, with the backtest and charts updated live.

    ``features``: Features frame; ``incidents``: Incidents frame; ``policy``: the starting
    :class:`Policy` (the team's own plan); ``calibration``: an optional ``CalibrationResult``
    (e.g. from ``calibrate_policy``): its thresholds are marked on the sliders, "calibrated"
    restores them and its frontier is drawn on the trade-off chart. ``save_dir``: where "save
    policy" writes ``policy-vNNN.yaml`` and its backtest summary. ``display_points``: most
    points drawn per long trace (the timeline is decimated for display; escalated windows are
    all drawn).
    """

    def __init__(
        self,
        features: pd.DataFrame,
        incidents: pd.DataFrame,
        policy: Policy,
        calibration: Any = None,
        *,
        topic: str | None = None,
        save_dir: str | Path = "policies",
        max_early: str | pd.Timedelta = DEFAULT_MAX_EARLY,
        display_points: int = 1000,
    ) -> None:
        self.features = features.sort_values(["topic", "window_start"], kind="stable").reset_index(
            drop=True
        )
        self.incidents = incidents
        self.calibration = calibration
        self.start_policy: Policy = policy
        self.calibrated_policy: Policy = calibration.policy if calibration is not None else policy
        self.policy: Policy = policy
        self.save_dir = Path(save_dir)
        self.max_early = max_early
        self.display_points = int(display_points)
        self.levels = sorted(int(t.level) for t in policy.tiers)
        topics = sorted(self.features["topic"].astype(str).unique().tolist())
        codes = self.features["topic"].astype(str).to_numpy()
        self._rows = {t: np.flatnonzero(codes == t) for t in topics}
        self._topic_frames = {t: self.features.iloc[rows] for t, rows in self._rows.items()}
        self._shown: dict[str, dict[str, Any]] = {}  # per topic: what no policy changes
        self._sent: dict[str, Any] = {}  # what the browser has: per trace, its last arrays
        self._suspend = False
        self._grid_cache: dict[str, Any] = {}
        self._prepared: PreparedBacktest | None = None
        self.escalations = None
        self.result = None
        self.last_saved: Path | None = None
        #: Seconds spent by the last change: evaluate, backtest, redraw (what the benchmark reads).
        self.timings: dict[str, float] = {}
        self._uid = f"esc-tuner-{next(_TUNER_IDS)}"

        # Controls: one section per tier (its name and owner), one row per parameter.
        start = policy.get_params()
        calibrated = self.calibrated_policy.get_params()
        self.sliders: dict[str, W.Widget] = {}
        self._calibrated_labels: dict[str, W.HTML] = {}
        rows: dict[int | None, list[W.Widget]] = {}
        for name, value in start.items():
            if value is None:  # e.g. min_volume not set: nothing to slide
                continue
            cal = calibrated.get(name)
            wide = max((v for v in (value, cal) if _as_number(v) is not None), key=abs)
            spec = slider_spec(name, wide)
            cls = W.IntSlider if spec["kind"] == "int" else W.FloatSlider
            slider = cls(
                value=value,
                min=min(spec["min"], value),
                max=max(spec["max"], value),
                step=spec["step"],
                description="",
                continuous_update=False,
                layout=W.Layout(width="100%", min_width="150px", margin="0"),
            )
            if spec["kind"] == "float":
                slider.readout_format = ".3g"
            level, label, tip = param_label(policy, name)
            slider.tooltip = tip
            slider.add_class("esc-threshold-slider")
            slider.add_class(f"esc-param-{name}")
            slider.add_class(f"{self._uid}-s{len(self.sliders)}")
            slider.observe(self._on_slider, names="value")
            self.sliders[name] = slider
            text = W.HTML(layout=W.Layout(min_width="0", margin="0 4px 0 0"))
            text.add_class("esc-param-label")
            self._calibrated_labels[name] = text
            self._set_label(name, label, tip)
            rows.setdefault(level, []).extend([text, slider])
        self._marks = W.HTML(layout=W.Layout(display="none"))
        self._update_marks()
        sections = []
        for level, children in rows.items():
            tier = next((t for t in policy.tiers if int(t.level) == level), None)
            head = W.HTML(
                (
                    f'<div class="esc-tier-head" style="line-height:1.3;padding:4px 0 2px">'
                    f"<b>Tier {level} · {escape_text(tier.name)}</b><br>"
                    f'<span style="color:#666">{escape_text(tier.owner)}</span></div>'
                )
                if tier is not None
                else "<b>Other parameters</b>",
                layout=W.Layout(min_width="0"),
            )
            grid = W.GridBox(
                children,
                layout=W.Layout(
                    grid_template_columns="minmax(6.5em, max-content) minmax(150px, 1fr)",
                    grid_gap="0 6px",
                    align_items="center",
                    width="100%",
                ),
            )
            box = W.VBox(
                [head, grid],
                layout=W.Layout(
                    border_left=f"3px solid {_tier_border(level)}",
                    padding="0 0 4px 8px",
                    margin="0 0 6px 0",
                    width="100%",
                ),
            )
            box.add_class("esc-tier-section")
            sections.append(box)

        def picker_layout() -> W.Layout:
            return W.Layout(width="auto", flex="1 1 170px", min_width="150px", max_width="100%")

        self.topic_picker = W.Dropdown(
            options=topics,
            value=topic or topics[0],
            description="topic",
            style={"description_width": "initial"},
            layout=picker_layout(),
        )
        self.topic_picker.add_class("esc-topic")
        self.topic_picker.observe(self._on_topic, names="value")
        tier_names = {int(t.level): t.name for t in policy.tiers}
        self.tier_picker = W.Dropdown(
            options=[(f"{k} · {tier_names[k]}", k) for k in self.levels],
            value=self.levels[0],
            description="chart tier",
            style={"description_width": "initial"},
            layout=picker_layout(),
        )
        self.tier_picker.layout.flex = "1 1 250px"
        self.tier_picker.add_class("esc-tier-picker")
        self.tier_picker.observe(self._on_topic, names="value")

        # text only: icon fonts are not in a rendered report (empty boxes there)
        def button(text: str, css: str, tip: str, **kw: Any) -> W.Button:
            b = W.Button(
                description=text,
                tooltip=tip,
                layout=W.Layout(width="auto", min_width="max-content", flex="0 0 auto"),
                **kw,
            )
            b.add_class(css)
            return b

        self.plan_button = button(
            "team's plan", "esc-plan", "back to the plan the tuner started from"
        )
        self.plan_button.on_click(lambda _b: self.reset_to_plan())
        self.reset_button = button(
            "calibrated", "esc-reset", "set every slider to its calibrated value"
        )
        self.reset_button.on_click(lambda _b: self.reset())
        self.save_button = button(
            "save policy",
            "esc-save",
            "write policy-vNNN.yaml and its backtest summary",
            button_style="primary",
        )
        self.save_button.on_click(lambda _b: self.save())
        self.status = W.HTML(layout=W.Layout(min_width="0", max_width="100%"))
        self.status.add_class("esc-status")
        self.tier_table = W.HTML(layout=_table_layout())
        self.tier_table.add_class("esc-tier-table")
        self.incident_table = W.HTML(layout=_table_layout())
        self.incident_table.add_class("esc-incidents")

        # Compute once, then build the figures from the results.
        t0 = time.perf_counter()
        self._compute()
        topic_now = self.topic_picker.value
        data = self._timeline_data(topic_now)
        self.timeline = go.FigureWidget(
            figure_from_timeline_data(
                data,
                incidents=incidents,
                topic=topic_now,
                threshold_tier=self.tier_picker.value,
            )
        )
        self.timeline.add_class("esc-timeline")
        self._remember(data)
        frontier = calibration.frontier if calibration is not None else None
        self.tradeoff = go.FigureWidget(
            tradeoff_figure(
                frontier,
                current_point(self.result, self.tier_picker.value),
                calibrated=self._calibrated_point(),
                tier=self.tier_picker.value,
            )
        )
        self.tradeoff.add_class("esc-tradeoff")
        self._update_tables()
        self.timings = {"build": time.perf_counter() - t0}

        legend = W.HTML(
            '<div style="line-height:1.3;color:#555;font-size:12px">'
            '<span style="display:inline-block;width:3px;height:11px;background:#2ca02c;'
            'vertical-align:middle"></span> on a slider = its calibrated value</div>'
            if calibration is not None
            else "",
            layout=W.Layout(min_width="0"),
        )
        wrap = {"flex_flow": "row wrap", "align_items": "center", "width": "100%"}
        controls = W.VBox(
            [
                W.HBox([self.topic_picker, self.tier_picker], layout=W.Layout(**wrap)),
                W.HBox(
                    [self.plan_button, self.reset_button, self.save_button],
                    layout=W.Layout(**wrap, grid_gap="4px"),
                ),
                self.status,
                legend,
                *sections,
                self._marks,
            ],
            layout=W.Layout(flex="1 1 360px", min_width="300px", max_width="100%"),
        )
        controls.add_class("esc-controls")
        charts = W.VBox(
            [_boxed(self.tradeoff, "esc-tradeoff")],
            layout=W.Layout(flex="1 1 420px", min_width="300px", max_width="100%"),
        )
        charts.add_class("esc-charts")
        self.widget = W.VBox(
            [
                W.HBox([controls, charts], layout=W.Layout(**wrap, grid_gap="8px 12px")),
                _boxed(self.timeline, "esc-timeline"),
                W.HBox(
                    [self.tier_table, self.incident_table],
                    layout=W.Layout(flex_flow="row wrap", width="100%", grid_gap="8px 16px"),
                ),
                ChartFitter(target=self._uid),
            ],
            layout=W.Layout(width="100%", min_width="0"),
        )
        self.widget.add_class("esc-tuner")
        self.widget.add_class(self._uid)

    # -- labels and marks --------------------------------------------------------------------
    def _set_label(self, name: str, label: str, tip: str) -> None:
        cal = self.calibrated_policy.get_params().get(name)
        slider = self.sliders[name]
        shown = (
            ""
            if self.calibration is None or cal is None
            else f'<br><span style="color:#2ca02c;font-size:11px">calibrated '
            f"{format(cal, slider.readout_format) if isinstance(slider, W.FloatSlider) else cal}"
            "</span>"
        )
        self._calibrated_labels[name].value = (
            f'<div title="{escape_text(tip)}" style="line-height:1.2;white-space:nowrap">'
            f"{escape_text(label)}{shown}</div>"
        )

    def _update_marks(self) -> None:
        """One style sheet for this tuner: the calibrated value of each slider drawn as a green
        tick on its track (noUiSlider's base spans exactly the slider's range)."""
        if self.calibration is None:
            self._marks.value = ""
            return
        calibrated = self.calibrated_policy.get_params()
        rules = [
            f".{self._uid} .widget-readout{{min-width:4.5em;width:auto}}",
        ]
        for i, (name, slider) in enumerate(self.sliders.items()):
            value = _as_number(calibrated.get(name))
            span = float(slider.max) - float(slider.min)
            if value is None or span <= 0:
                continue
            where = min(max((value - float(slider.min)) / span, 0.0), 1.0) * 100
            rules.append(
                f".{self._uid}-s{i} .noUi-base::after{{content:'';position:absolute;"
                f"left:calc({where:.3f}% - 1.5px);top:-5px;width:3px;height:calc(100% + 10px);"
                "background:#2ca02c;pointer-events:none;z-index:0}"
            )
        self._marks.value = "<style>" + "\n".join(rules) + "</style>"

    def _calibrated_point(self) -> tuple[float, float] | None:
        cal = self.calibration
        if cal is None or getattr(cal, "backtest", None) is None:
            return None
        return current_point(cal.backtest, self.tier_picker.value)

    # -- pure computation --------------------------------------------------------------------
    def _compute(self) -> None:
        t0 = time.perf_counter()
        self.escalations = _evaluate_cached(self.policy, self.features, self._grid_cache)
        t1 = time.perf_counter()
        if self._prepared is None:  # incidents' match intervals, coverage, weeks: once
            self._prepared = PreparedBacktest(
                self.escalations, self.incidents, max_early=self.max_early
            )
        self.result = self._prepared.run(self.escalations)
        self.timings = {"evaluate": t1 - t0, "backtest": time.perf_counter() - t1}

    def full_backtest(self) -> Any:
        """The complete ``BacktestResult`` of the current policy (cost, matrix, NAB...)."""
        return backtest(self.escalations, self.incidents, max_early=self.max_early)

    def _topic_arrays(self, topic: str) -> dict[str, Any]:
        """What the timeline of ``topic`` draws that no policy changes, computed once: the
        display rows (decimated), their frame, times (ms) and volumes, baseline."""
        if topic not in self._shown:
            frame = self._topic_frames[topic]
            volume = frame["volume"].to_numpy(dtype=float)
            rows = display_rows(volume, self.display_points)
            shown = frame.iloc[rows]
            x_all = epoch_ms(window_times(frame))
            base = (
                shown["baseline_volume"].to_numpy(dtype=float)
                if "baseline_volume" in shown
                else np.full(len(rows), np.nan)
            )
            self._shown[topic] = {
                "rows": rows,
                "frame": shown,
                "x_all": x_all,
                "y_all": volume,
                "x": x_all[rows],
                "volume": volume[rows],
                "baseline": base,
            }
        return self._shown[topic]

    def _timeline_data(self, topic: str) -> dict[str, dict[str, Any]]:
        """The timeline's arrays for ``topic`` in ``FIXED_TRACES`` then ``tier{k}`` order: long
        traces on the display rows, escalated windows all; x as float milliseconds (binary on
        the wire, a date axis reads them)."""
        arrays = self._topic_arrays(topic)
        tiers = self.escalations.windows["tier"].to_numpy()[self._rows[topic]]
        bar = threshold_volume(self.policy, self.tier_picker.value, arrays["frame"])
        x = arrays["x"]
        data: dict[str, dict[str, Any]] = {
            "volume": {"x": x, "y": arrays["volume"]},
            "baseline": {"x": x, "y": arrays["baseline"]},
            "threshold": (
                {"x": x, "y": np.asarray(bar, dtype=float)}
                if bar is not None
                else {"x": x[:0], "y": np.empty(0)}
            ),
        }
        for k in self.levels:
            hit = tiers == k
            data[f"tier{k}"] = {"x": arrays["x_all"][hit], "y": arrays["y_all"][hit]}
        return data

    def _remember(self, data: dict[str, dict[str, Any]]) -> None:
        self._sent = {name: (xy["x"], xy["y"]) for name, xy in data.items()}

    # -- redraw ------------------------------------------------------------------------------
    def redraw(self, *, full: bool = False) -> None:
        """Send the charts and tables what changed since the last draw (everything for a new
        topic or chart tier with ``full=True``); one batched message per chart."""
        t0 = time.perf_counter()
        topic = self.topic_picker.value
        data = self._timeline_data(topic)
        with self.timeline.batch_update():
            for trace, (name, xy) in zip(self.timeline.data, data.items(), strict=True):
                old_x, old_y = self._sent.get(name, (None, None))
                same_x = old_x is not None and np.array_equal(old_x, xy["x"])
                same_y = old_y is not None and np.array_equal(old_y, xy["y"], equal_nan=True)
                if full or not same_x:
                    trace.x = xy["x"]
                if full or not same_x or not same_y:
                    trace.y = xy["y"]
            if full:
                fresh = figure_from_timeline_data(
                    data,
                    incidents=self.incidents,
                    topic=topic,
                    threshold_tier=self.tier_picker.value,
                )
                self.timeline.layout.shapes = fresh.layout.shapes
                self.timeline.layout.annotations = fresh.layout.annotations
                self.timeline.layout.title = fresh.layout.title
                self.timeline.data[2].name = fresh.data[2].name
                self.timeline.data[2].line.color = fresh.data[2].line.color
        self._remember(data)
        point = current_point(self.result, self.tier_picker.value)
        if (
            full
            or tuple(self.tradeoff.data[2].x or ()) != (point[0],)
            or tuple(self.tradeoff.data[2].y or ()) != (point[1],)
        ):
            with self.tradeoff.batch_update():
                self.tradeoff.data[2].x = [point[0]]
                self.tradeoff.data[2].y = [point[1]]
        self._update_tables()
        self.timings["redraw"] = time.perf_counter() - t0

    def _update_tables(self) -> None:
        tiers = self.result.tiers.assign(
            recall=lambda t: (t["recall"] * 100).round(0),
            interval=lambda t: [
                f"{lo:.0%}–{hi:.0%}" if n else "—"
                for lo, hi, n in zip(
                    *wilson_bounds(t["caught"].to_numpy(), t["incidents"].to_numpy()),
                    t["incidents"],
                    strict=True,
                )
            ],
        )
        self.tier_table.value = "<b>Per tier</b>" + html_table(
            tiers.rename(
                columns={
                    "recall": "recall %",
                    "interval": "95% interval",
                    "false_per_week": "false / week",
                    "notifications": "alerts",
                }
            ),
            [
                "tier",
                "incidents",
                "caught",
                "recall %",
                "95% interval",
                "false / week",
                "precision",
                "alerts",
            ],
            formats={"false / week": ".2f", "precision": ".0%", "recall %": ".0f"},
        )
        key = (
            tuple(self.result.incidents["tier_reached"]),
            tuple(self.result.incidents["first_alert_at"].array.asi8),
        )
        if key == getattr(self, "_incident_key", None):  # outcomes unchanged: keep the table
            return
        self._incident_key = key
        inc = self.result.incidents.assign(
            lead=lambda f: [format_duration(v) for v in f["lead_time"]]
        ).rename(
            columns={
                "incident_id": "incident",
                "severity": "sev",
                "tier_reached": "tier",
                "first_alert_at": "first alert (UTC)",
                "lead": "lead time",
            }
        )
        self.incident_table.value = "<b>Incidents</b>" + html_table(
            inc,
            ["incident", "topic", "sev", "outcome", "tier", "first alert (UTC)", "lead time"],
        )

    # -- callbacks ---------------------------------------------------------------------------
    def _on_slider(self, change: dict[str, Any]) -> None:
        if self._suspend:
            return
        name = next(n for n, s in self.sliders.items() if s is change["owner"])
        self.set_param(name, change["new"])

    def _on_topic(self, _change: dict[str, Any]) -> None:
        self.redraw(full=True)
        fresh = tradeoff_figure(
            self.calibration.frontier if self.calibration is not None else None,
            current_point(self.result, self.tier_picker.value),
            calibrated=self._calibrated_point(),
            tier=self.tier_picker.value,
        )
        with self.tradeoff.batch_update():
            for trace, new in zip(self.tradeoff.data, fresh.data, strict=True):
                trace.x, trace.y = new.x, new.y
            self.tradeoff.layout.title = fresh.layout.title

    # -- public actions ----------------------------------------------------------------------
    def set_param(self, name: str, value: Any) -> None:
        """Change one flat parameter, recompute the backtest and redraw what changed."""
        self.policy = self.policy.set_params(**{name: value})
        self._compute()
        self.redraw()

    def set_policy(self, policy: Policy) -> None:
        """Replace the whole policy (sliders follow), recompute once and redraw."""
        self.policy = policy
        self._suspend = True
        try:
            for name, value in policy.get_params().items():
                if name in self.sliders and value is not None:
                    slider = self.sliders[name]
                    slider.min = min(slider.min, value)
                    slider.max = max(slider.max, value)
                    slider.value = value
        finally:
            self._suspend = False
        self._update_marks()
        self._compute()
        self.redraw()

    def reset(self) -> None:
        """Back to the calibrated policy (or the starting one without calibration)."""
        self.set_policy(self.calibrated_policy)
        self.status.value = "reset to the calibrated thresholds"

    def reset_to_plan(self) -> None:
        """Back to the policy the tuner started from (the team's own plan)."""
        self.set_policy(self.start_policy)
        self.status.value = "back to the team's plan"

    def save(self, path: str | Path | None = None) -> Path:
        """Save the current policy as YAML (atomic, versioned ``policy-vNNN.yaml`` unless a path
        is given) and its backtest summary next to it (``policy-vNNN.backtest.json``)."""
        if path is None:  # the version's name is claimed atomically: concurrent saves differ
            target = save_policy_version(self.policy, self.save_dir)
        else:
            target = Path(path)
            save_policy(self.policy, target)
        full = self.full_backtest()
        summary = {"policy": target.name, "backtest": full.to_dict(), "summary": full.summary()}
        atomic_write_text(
            target.with_suffix(".backtest.json"),
            json.dumps(summary, indent=2, default=str),
            backup=False,
        )
        self.last_saved = target
        self.status.value = (
            '<div style="line-height:1.3;overflow-wrap:anywhere">'
            + escape_text(f"saved {target.name} (+ {target.with_suffix('.backtest.json').name})")
            + "</div>"
        )
        return target

    @staticmethod
    def load(path: str | Path) -> Policy:
        """Read a saved policy back (same as ``load_policy``)."""
        return load_policy(path)


def _tier_border(level: int | None) -> str:
    return tier_color(level) if level is not None else "#ccc"


def _boxed(figure: go.FigureWidget, css: str) -> W.VBox:
    """A chart in a full-width box carrying its CSS class (tests and styles find it there),
    responsive: plotly re-fits it to its box on a window resize (what ChartFitter fires)."""
    figure._config = {**(figure._config or {}), "responsive": True}
    box = W.VBox([figure], layout=W.Layout(width="100%", min_width="0"))
    box.add_class(css)
    box.add_class("esc-chart-box")
    return box


def _table_layout() -> W.Layout:
    """A table's box: as wide as the table (two side by side only when both fit, else
    stacked), never wider than the notebook (then it scrolls inside)."""
    return W.Layout(flex="0 1 auto", min_width="0", max_width="100%", margin="0", overflow="auto")
