"""What a benchmark is made of (cases, metrics, runs) and what it produced (summaries, targets)."""
from __future__ import annotations

from dataclasses import asdict, dataclass, field
from typing import Any

from corun.bench.stats import Summary, ratio, speedup, summarize

MODES = ("plain", "corun")
SIZES = ("default", "quick", "tiny")


@dataclass(frozen=True)
class Metric:
    """How one run's value is read from the group driver's output."""
    name: str
    unit: str
    higher_is_better: bool
    source: str  # "gflops": total flops / window; "window": the window in seconds

    def value(self, output: dict[str, Any]) -> float:
        window = float(output["window_s"])
        if self.source == "window":
            return window
        if self.source == "gflops":
            if window <= 0:
                raise ValueError("empty timed window")
            return float(output["flops"]) / window / 1e9
        raise ValueError(f"unknown metric source {self.source!r}")


GFLOPS = Metric("aggregate throughput", "GFLOP/s", True, "gflops")
WALL = Metric("wall time", "s", False, "window")


@dataclass
class Case:
    """One configuration of a scenario, run under both modes."""
    key: str                   # unique within the scenario, e.g. "numpy P=4"
    group: str                 # rows that belong together in tables and plots, e.g. "libgomp"
    label: str                 # short label inside the group, e.g. "P=4"
    params: dict[str, Any]
    procs: int                 # copies of cmd started together
    cmd: list[str]             # the command of one copy
    env: dict[str, str]
    metric: Metric
    timeout_s: float
    skip: str | None = None    # why it cannot run on this machine (shown in the table)
    baseline: str | None = None  # key of the matching one-process case
    scaling: str | None = None   # "throughput": value/base; "serial": value/(procs*base)

    def to_dict(self) -> dict[str, Any]:
        d = asdict(self)
        d["metric"] = asdict(self.metric)
        return d


@dataclass
class Run:
    """One execution of one case under one mode."""
    case: str
    mode: str                  # "plain" | "corun"
    rep: int
    status: str                # "ok" | "failed" | "timeout" | "skipped" (after a timeout)
    value: float | None
    elapsed_s: float           # the whole command, start-up included
    returncode: int | None
    error: str | None = None
    detail: dict[str, Any] = field(default_factory=dict)

    def to_dict(self) -> dict[str, Any]:
        return asdict(self)


@dataclass
class CaseResult:
    case: Case
    runs: list[Run]

    def summary(self, mode: str) -> Summary:
        runs = [r for r in self.runs if r.mode == mode]
        return summarize([r.value for r in runs if r.status == "ok" and r.value is not None],
                         len(runs))

    def ratio(self) -> float | None:
        """corun median / plain median of the metric."""
        return ratio(self.summary("corun").median, self.summary("plain").median)

    def speedup(self) -> float | None:
        return speedup(self.summary("corun").median, self.summary("plain").median,
                       self.case.metric.higher_is_better)

    def failures(self, mode: str) -> list[Run]:
        return [r for r in self.runs if r.mode == mode and r.status != "ok"]


@dataclass(frozen=True)
class Target:
    """A goal from issue 3 checked against the measured medians."""
    description: str
    mode: str
    observed: float | None
    limit: float
    ok: bool | None            # None: not measurable (runs failed or skipped)

    def to_dict(self) -> dict[str, Any]:
        return asdict(self)


def scaled(results: dict[str, CaseResult], key: str, mode: str,
           base_mode: str | None = None) -> float | None:
    """A case's median under ``mode`` relative to its one-process baseline under ``base_mode``
    (default: the same mode), as Case.scaling says; None when either is missing."""
    cr = results[key]
    case = cr.case
    if not case.baseline or case.baseline not in results or not case.scaling:
        return None
    value = cr.summary(mode).median
    base = results[case.baseline].summary(base_mode or mode).median
    if case.scaling == "throughput":
        return ratio(value, base)
    if case.scaling == "serial":
        return ratio(value, None if base is None else base * case.procs)
    raise ValueError(f"unknown scaling {case.scaling!r}")


@dataclass
class BenchResult:
    """Everything one `corun bench` / `corun demo` invocation measured, plus how to reproduce it."""
    scenario: str
    description: str
    size: str
    repeat: int
    cores: int
    command: str               # canonical command line that reproduces this file
    started: str               # ISO 8601, UTC
    finished: str
    machine: dict[str, Any]
    settings: dict[str, Any]
    results: dict[str, CaseResult]
    order: list[tuple[str, int, str]]   # (case key, repetition, mode) in execution order
    targets: list[Target]
    plot_kind: str = "bars"
