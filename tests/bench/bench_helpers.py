"""Helpers for the bench tests: synthetic results built through the real runner."""
from __future__ import annotations

import itertools

from corun.bench import runner
from corun.bench.model import GFLOPS, BenchResult, Case, Run
from corun.bench.scenarios import get


def make_case(key: str, group: str = "g", procs: int = 1, metric=GFLOPS, **kw) -> Case:
    return Case(key=key, group=group, label=key.split()[-1], params=kw.pop("params", {}),
                procs=procs, cmd=["true"], env={}, metric=metric, timeout_s=5.0, **kw)


def fake_runner(values: dict[tuple[str, str], list[float | None]]):
    """A step runner returning the given values in turn; None means a failed run."""
    its = {k: iter(v) for k, v in values.items()}
    counter = itertools.count()

    def step(s: runner.Step, prefix: list[str]) -> Run:
        v = next(its[(s.case.key, s.mode)])
        next(counter)
        if v is None:
            return Run(s.case.key, s.mode, s.rep, "failed", None, 0.1, 1, error="boom")
        return Run(s.case.key, s.mode, s.rep, "ok", v, 0.1, 0)
    return step


def result_for(scenario: str, cases: list[Case], values, repeat: int) -> BenchResult:
    sc = get(scenario)
    order: list[tuple[str, int, str]] = []
    results = runner.run_plan(cases, repeat, ["corun"], on_done=lambda s, r: order.append(
        (r.case, r.rep, r.mode)), step_runner=fake_runner(values))
    return BenchResult(scenario=sc.name, description=sc.description, size="tiny", repeat=repeat,
                       cores=2, command=f"corun bench {sc.name} --repeat {repeat}",
                       started="2026-01-01T00:00:00+00:00", finished="2026-01-01T00:01:00+00:00",
                       machine={"cores": 2}, settings={}, results=results, order=order,
                       targets=sc.targets(results, 2), plot_kind=sc.plot_kind)
