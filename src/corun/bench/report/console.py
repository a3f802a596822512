"""Console output: a rich progress bar while running, then the result table and the targets."""
from __future__ import annotations

from contextlib import contextmanager
from typing import Iterator

from rich.console import Console
from rich.markup import escape
from rich.progress import (BarColumn, MofNCompleteColumn, Progress, SpinnerColumn, TextColumn,
                           TimeElapsedColumn)
from rich.table import Table

from corun.bench.model import BenchResult, Run, scaled
from corun.bench.report import fmt
from corun.bench.runner import Step

MAX_TARGET_LINES = 12
BUSY_LIMIT = 0.10  # foreign CPU share above which the numbers are flagged as disturbed


class ProgressReporter:
    """Callbacks for runner.run_plan that drive a rich progress bar and report first failures."""

    def __init__(self, progress: Progress, total: int, repeat: int) -> None:
        self.progress = progress
        self.repeat = repeat
        self.task = progress.add_task("starting", total=total)
        self._reported: set[tuple[str, str]] = set()

    def on_start(self, step: Step) -> None:
        self.progress.update(self.task, description=(
            f"{step.case.key} [bold]{step.mode}[/] {step.rep + 1}/{self.repeat}"))

    def on_done(self, step: Step, run: Run) -> None:
        self.progress.advance(self.task)
        if run.status in ("ok", "skipped") or (run.case, run.mode) in self._reported:
            return
        self._reported.add((run.case, run.mode))
        color = "yellow" if run.mode == "plain" else "red"
        self.progress.console.print(
            f"[{color}]{run.mode} {run.status}[/] {escape(run.case)} (rep {run.rep + 1}): "
            f"{escape(run.error or '')}",
            markup=True, highlight=False)


@contextmanager
def progress_bar(console: Console, total: int, repeat: int) -> Iterator[ProgressReporter]:
    columns = (SpinnerColumn(), TextColumn("{task.description}"), BarColumn(),
               MofNCompleteColumn(), TimeElapsedColumn())
    with Progress(*columns, console=console, transient=False) as progress:
        yield ProgressReporter(progress, total, repeat)


def _speedup_style(s: float | None) -> str:
    if s is None:
        return ""
    return "green" if s >= 1.02 else "red" if s < 0.98 else ""


def result_table(result: BenchResult) -> Table:
    has_scaling = any(cr.case.scaling and cr.case.baseline for cr in result.results.values())
    t = Table(title=escape(f"corun bench {result.scenario}: plain Linux vs corun, {result.cores} "
                           f"cores, median [min-max] of {result.repeat} runs each"),
              title_justify="left")
    t.add_column("case", no_wrap=True)
    t.add_column("metric")
    t.add_column("plain", justify="right")
    t.add_column("corun", justify="right")
    t.add_column("corun/plain", justify="right")
    if has_scaling:
        t.add_column("plain vs P=1", justify="right")
        t.add_column("corun vs P=1", justify="right")
    t.add_column("notes", overflow="fold")
    for key, cr in result.results.items():
        m = cr.case.metric
        style = _speedup_style(cr.speedup())
        ratio = fmt.factor(cr.ratio())
        row = [escape(key), fmt.unit(m.unit, m.higher_is_better),
               escape(fmt.summary(cr.summary("plain"))), escape(fmt.summary(cr.summary("corun"))),
               f"[{style}]{ratio}[/]" if style else ratio]
        if has_scaling:
            row += [fmt.factor(scaled(result.results, key, "plain")),
                    fmt.factor(scaled(result.results, key, "corun"))]
        row.append(escape(fmt.problems(cr)))
        t.add_row(*row)
    return t


def targets_text(result: BenchResult) -> list[str]:
    if not result.targets:
        return []
    met = [t for t in result.targets if t.ok]
    missed = [t for t in result.targets if t.ok is False]
    unknown = [t for t in result.targets if t.ok is None]
    caveat = " (not conclusive: the machine was busy)" if busy_warning(result) else ""
    lines = [f"targets{caveat}: {len(met)} met, {len(missed)} missed, "
             f"{len(unknown)} not measurable"]
    for t in (missed + unknown)[:MAX_TARGET_LINES]:
        state = "missed" if t.ok is False else "not measurable"
        lines.append(f"  {state}: {t.description} (measured {fmt.factor(t.observed)})")
    if len(missed) + len(unknown) > MAX_TARGET_LINES:
        lines.append(f"  ... {len(missed) + len(unknown) - MAX_TARGET_LINES} more in the JSON file")
    return lines


def busy_warning(result: BenchResult) -> str | None:
    share = result.machine.get("foreign_cpu_share")
    if share is None or share < BUSY_LIMIT:
        return None
    return (f"warning: other processes took {share:.0%} of the machine's CPU time during this "
            "benchmark; both sides are disturbed, re-run on an idle machine for clean numbers")


def print_result(console: Console, result: BenchResult) -> None:
    console.print(result_table(result))
    warning = busy_warning(result)
    if warning:
        console.print(f"[yellow]{escape(warning)}[/]", highlight=False)
    for line in targets_text(result):
        console.print(line, highlight=False, markup=False)
