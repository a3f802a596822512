"""PNG plots of a BenchResult (matplotlib, no display needed).

* ``bars``: per group, plain and corun medians side by side with min-max error bars;
* ``heatmap``: per library, T x B heatmaps of plain GFLOP/s, corun GFLOP/s and corun/plain
  (the paper's Fig. 3 layout);
* ``ratio``: corun relative to plain per case, with the +-2% band of the overhead target.
"""
from __future__ import annotations

import os
from pathlib import Path

import numpy as np
from matplotlib.colors import TwoSlopeNorm
from matplotlib.figure import Figure
from matplotlib.ticker import NullFormatter

from corun.bench.model import MODES, BenchResult, CaseResult
from corun.bench.report import fmt
from corun.bench.report.console import BUSY_LIMIT

COLORS = {"plain": "#8c8c8c", "corun": "#1f77b4"}
MISSING = "#eeeeee"
LOG_SPREAD = 30.0  # bar plots switch to a log axis when values span more than this factor


def _groups(result: BenchResult) -> dict[str, list[CaseResult]]:
    groups: dict[str, list[CaseResult]] = {}
    for cr in result.results.values():
        groups.setdefault(cr.case.group, []).append(cr)
    return groups


def _title(result: BenchResult) -> str:
    title = (f"corun bench {result.scenario}: plain Linux vs corun, {result.cores} cores, "
             f"median of {result.repeat} [min-max]")
    share = result.machine.get("foreign_cpu_share")
    if share is not None and share >= BUSY_LIMIT:
        title += f"\n(machine busy: other processes took {share:.0%} of the CPU time)"
    return title


def _bars(result: BenchResult) -> Figure:
    groups = _groups(result)
    fig = Figure(figsize=(max(5.0, 3.6 * len(groups)), 4.4), layout="constrained")
    axes = fig.subplots(1, len(groups), squeeze=False)[0]
    for ax, (group, crs) in zip(axes, groups.items()):
        x = np.arange(len(crs))
        width = 0.38
        for i, mode in enumerate(MODES):
            offs = x + (i - 0.5) * width
            for xi, cr in zip(offs, crs):
                s = cr.summary(mode)
                if s.median is None:
                    why = "skipped" if cr.case.skip else "failed"
                    ax.text(xi, ax.get_ylim()[0], why, rotation=90, ha="center", va="bottom", fontsize=7,
                            color="red")
                    continue
                err = [[s.median - s.min], [s.max - s.median]] if s.min is not None else None
                ax.bar(xi, s.median, width, color=COLORS[mode], yerr=err, capsize=3,
                       label=mode if xi == offs[0] else None)
        for xi, cr in zip(x, crs):
            r = cr.ratio()
            if r is not None:
                top = max(cr.summary(m).max or 0 for m in MODES)
                ax.annotate(f"{r:.2f}x", (xi, top), ha="center", va="bottom", fontsize=7,
                            xytext=(0, 3), textcoords="offset points")
        metric = crs[0].case.metric
        values = [v for cr in crs for m in MODES for v in (cr.summary(m).min, cr.summary(m).max)
                  if v is not None and v > 0]
        if values and max(values) / min(values) > LOG_SPREAD:
            ax.set_yscale("log")
        ax.set_xticks(x, [cr.case.label for cr in crs], fontsize=8)
        ax.set_ylabel(f"{metric.name} [{metric.unit}] ({'higher' if metric.higher_is_better else 'lower'} is better)",
                      fontsize=8)
        ax.set_title(group, fontsize=10)
        ax.margins(y=0.15)
        handles, labels = ax.get_legend_handles_labels()
        if handles:
            ax.legend(fontsize=8)
    fig.suptitle(_title(result), fontsize=10)
    return fig


def _grid(crs: list[CaseResult], value) -> tuple[list[int], list[int], np.ndarray]:
    ts = sorted({int(cr.case.params["outer_threads"]) for cr in crs})
    bs = sorted({int(cr.case.params["inner_threads"]) for cr in crs})
    grid = np.full((len(ts), len(bs)), np.nan)
    for cr in crs:
        v = value(cr)
        if v is not None:
            grid[ts.index(int(cr.case.params["outer_threads"])),
                 bs.index(int(cr.case.params["inner_threads"]))] = v
    return ts, bs, grid


def _heatmap(result: BenchResult) -> Figure:
    groups = _groups(result)
    rows = [("plain GFLOP/s", lambda cr: cr.summary("plain").median, "viridis"),
            ("corun GFLOP/s", lambda cr: cr.summary("corun").median, "viridis"),
            ("corun / plain", lambda cr: cr.ratio(), "RdYlGn")]
    fig = Figure(figsize=(3.4 * len(groups) + 0.6, 3.0 * len(rows) + 0.6), layout="constrained")
    axes = fig.subplots(len(rows), len(groups), squeeze=False)
    perf_max = max([cr.summary(m).median or 0 for crs in groups.values() for cr in crs
                    for m in MODES] + [1e-9])
    for col, (group, crs) in enumerate(groups.items()):
        for row, (name, value, cmap) in enumerate(rows):
            ax = axes[row][col]
            ts, bs, grid = _grid(crs, value)
            ax.set_facecolor(MISSING)
            if row == 2:
                finite = grid[np.isfinite(grid)]
                lo = min(0.5, float(finite.min()) if finite.size else 0.5)
                hi = max(2.0, float(finite.max()) if finite.size else 2.0)
                norm = TwoSlopeNorm(vcenter=1.0, vmin=min(lo, 0.99), vmax=max(hi, 1.01))
                im = ax.imshow(grid, cmap=cmap, norm=norm, origin="lower", aspect="auto")
            else:
                im = ax.imshow(grid, cmap=cmap, vmin=0, vmax=perf_max, origin="lower",
                               aspect="auto")
            for i in range(len(ts)):
                for j in range(len(bs)):
                    v = grid[i, j]
                    text = ("skipped" if crs[0].case.skip else "n/a") if np.isnan(v) else (
                        f"{v:.2f}x" if row == 2 else fmt.number(float(v)))
                    rgba = im.cmap(im.norm(v)) if np.isfinite(v) else (1.0, 1.0, 1.0, 1.0)
                    dark = 0.299 * rgba[0] + 0.587 * rgba[1] + 0.114 * rgba[2] < 0.5
                    ax.text(j, i, text, ha="center", va="center", fontsize=7,
                            color="white" if dark else "black")
            ax.set_xticks(range(len(bs)), [str(b) for b in bs], fontsize=8)
            ax.set_yticks(range(len(ts)), [str(t) for t in ts], fontsize=8)
            ax.set_xlabel("B inner BLAS threads", fontsize=8)
            ax.set_ylabel("T outer threads", fontsize=8)
            ax.set_title(f"{group}: {name}", fontsize=9)
            if col == len(groups) - 1:
                fig.colorbar(im, ax=ax, shrink=0.8)
    fig.suptitle(_title(result), fontsize=10)
    return fig


def _ratio(result: BenchResult) -> Figure:
    crs = list(result.results.values())
    fig = Figure(figsize=(7.5, 0.45 * len(crs) + 1.6), layout="constrained")
    ax = fig.subplots()
    y = np.arange(len(crs))
    for yi, cr in zip(y, crs):
        s = cr.speedup()
        if s is None or s <= 0:
            ax.text(1.0, yi, "skipped" if cr.case.skip else "failed", va="center", ha="center",
                    fontsize=8, color="red")
            continue
        ax.barh(yi, s - 1.0, left=1.0, color=COLORS["corun"] if s >= 0.98 else "#d62728")
        ax.text(s, yi, f" {s:.3f} " if s >= 1 else f" {s:.3f} ", va="center", fontsize=8,
                ha="left" if s >= 1 else "right")
    known = [s for s in (cr.speedup() for cr in crs) if s is not None and s > 0]
    ax.set_xscale("log")
    lo, hi = min([0.5, *(0.7 * s for s in known)]), max([2.0, *(1.4 * s for s in known)])
    ax.set_xlim(lo, hi)
    ticks = [t for t in (0.01, 0.02, 0.05, 0.1, 0.2, 0.5, 0.8, 1, 1.25, 2, 5, 10, 20, 50, 100,
                         200, 500, 1000) if lo <= t <= hi]
    ax.set_xticks(ticks, [f"{t:g}" for t in ticks])
    ax.xaxis.set_minor_formatter(NullFormatter())
    ax.axvspan(0.98, 1.02, color="#2ca02c", alpha=0.15, label="within 2% of plain")
    ax.axvline(1.0, color="black", lw=0.8)
    ax.set_yticks(y, [cr.case.key for cr in crs], fontsize=8)
    ax.invert_yaxis()
    ax.set_xlabel("corun relative to plain, log scale (>1: corun better)")
    ax.legend(fontsize=8, loc="best")
    fig.suptitle(_title(result), fontsize=10)
    return fig


KINDS = {"bars": _bars, "heatmap": _heatmap, "ratio": _ratio}


def write(result: BenchResult, path: str | os.PathLike[str]) -> Path:
    p = Path(path)
    p.parent.mkdir(parents=True, exist_ok=True)
    fig = KINDS[result.plot_kind](result)
    fig.savefig(p, dpi=110)
    return p
