"""overhead: the non-oversubscribed case of every scenario (one process, threads = cores)."""
from __future__ import annotations

import dataclasses

from corun.bench.model import Case, CaseResult, Target
from corun.bench.scenarios import gomp_procs, nested_blas, numpy_procs
from corun.bench.scenarios.base import Scenario, check_size

TARGET_WITHIN = 0.98           # issue 3: within 2% of plain


def build(cores: int, size: str) -> list[Case]:
    check_size(size)
    cases = [*numpy_procs.build(cores, size, procs=[1]),
             *gomp_procs.build(cores, size, procs=[1]),
             *nested_blas.build(cores, size, outer=[1], inner=[cores])]
    return [dataclasses.replace(c, baseline=None, scaling=None) for c in cases]


def targets(results: dict[str, CaseResult], cores: int) -> list[Target]:
    out = []
    for k, cr in results.items():
        if cr.case.skip is None:
            s = cr.speedup()
            out.append(Target(f"{k}: corun within 2% of plain", "corun", s, TARGET_WITHIN,
                              None if s is None else s >= TARGET_WITHIN))
    return out


SCENARIO = Scenario(
    name="overhead",
    summary="no oversubscription: 1 process, threads = cores, of each workload; corun cost",
    description=(
        "The non-oversubscribed case of each scenario: numpy-procs with P=1; gomp-procs with "
        "P=1 (libgomp and libomp, T = cores); nested-blas with T=1 outer thread and B = cores "
        "inner threads for each BLAS library. Metric: each workload's own; the plot shows "
        "corun relative to plain (target: within 2%)."),
    build=build, targets=targets, plot_kind="ratio",
    scaling=lambda cores: f"1 process, {cores} threads; 7 cases")
