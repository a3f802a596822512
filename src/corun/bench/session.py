"""One `corun bench` / `corun demo` invocation: build the cases, run them, report, write files."""
from __future__ import annotations

import dataclasses
import sys
from dataclasses import dataclass, field
from datetime import datetime, timezone
from pathlib import Path

from rich.console import Console

from corun.bench import machine, runner
from corun.bench.model import BenchResult, Case, CaseResult, Run
from corun.bench.report import console as console_report
from corun.bench.report import jsonfile, plot
from corun.bench.scenarios import Scenario


@dataclass
class Request:
    scenario: Scenario
    size: str
    repeat: int
    command: str                       # canonical command line, stored in the JSON
    instance: str
    cores: int
    only: list[str] = field(default_factory=list)
    timeout_s: float | None = None     # None: the size's default
    corun_args: list[str] = field(default_factory=list)
    json_path: Path | None = None
    plot_path: Path | None = None


def select(cases: list[Case], only: list[str]) -> list[Case]:
    """Cases whose key contains any of the substrings (all cases when none given)."""
    if not only:
        return cases
    return [c for c in cases if any(s in c.key for s in only)]


def _now() -> str:
    return datetime.now(timezone.utc).isoformat(timespec="seconds")


def _at_end(host: dict, foreign_share: float) -> dict:
    """Add what may have changed while the runs went on: the load, the scheduler library."""
    end = machine.describe()
    host["loadavg_end"] = end["loadavg"]
    host["foreign_cpu_share"] = round(foreign_share, 4)
    if (end["libcorun"] or {}).get("sha256") != (host["libcorun"] or {}).get("sha256"):
        host["libcorun_changed_during_run"] = end["libcorun"]
    return host


def run(req: Request, con: Console) -> BenchResult:
    cases = select(req.scenario.build(req.cores, req.size), req.only)
    if not cases:
        raise ValueError(f"no case of {req.scenario.name} matches --only {' '.join(req.only)}")
    if req.timeout_s is not None:
        cases = [dataclasses.replace(c, timeout_s=req.timeout_s) for c in cases]
    prefix = runner.corun_prefix(req.instance, req.corun_args)
    steps = runner.plan(cases, req.repeat)
    con.print(f"[bold]{req.scenario.name}[/]: {len(cases)} cases x {req.repeat} repetitions x "
              f"(plain, corun) on {req.cores} cores; corun runs as: "
              f"{' '.join([Path(prefix[0]).name, *prefix[1:]])} CMD",
              highlight=False)
    started = _now()
    host = machine.describe()
    foreign = machine.ForeignLoad()
    order: list[tuple[str, int, str]] = []  # as executed, not as planned
    so_far = {c.key: CaseResult(c, []) for c in cases}  # what an interruption still reports
    interrupted = False

    with console_report.progress_bar(con, len(steps), req.repeat) as bar:
        def done(step: runner.Step, run: Run) -> None:
            order.append((run.case, run.rep, run.mode))
            so_far[run.case].runs.append(run)
            bar.on_done(step, run)

        try:
            results = runner.run_plan(cases, req.repeat, prefix, bar.on_start, done,
                                      give_up_after=req.scenario.give_up_after)
        except KeyboardInterrupt:
            results, interrupted = so_far, True
    settings = {"instance": req.instance, "corun_prefix": prefix, "only": req.only,
                "timeout_s": req.timeout_s, "python": sys.executable}
    if interrupted:
        settings["interrupted_after_runs"] = len(order)
        con.print(f"[yellow]interrupted after {len(order)} of {len(steps)} runs; "
                  "reporting what was measured[/]", highlight=False)
    result = BenchResult(
        scenario=req.scenario.name, description=req.scenario.description, size=req.size,
        repeat=req.repeat, cores=req.cores, command=req.command, started=started,
        finished=_now(), machine=_at_end(host, foreign.share()),
        settings=settings,
        results=results, order=order, targets=req.scenario.targets(results, req.cores),
        plot_kind=req.scenario.plot_kind)
    console_report.print_result(con, result)
    if req.json_path is not None:
        con.print(f"JSON: {jsonfile.write(result, req.json_path)}", highlight=False)
    if req.plot_path is not None:
        con.print(f"plot: {plot.write(result, req.plot_path)}", highlight=False)
    if interrupted:
        raise KeyboardInterrupt
    return result
