"""The cases of ``corun demo``: short numpy-procs and gomp-procs (libgomp), side by side."""
from __future__ import annotations

from corun.bench.model import Case, CaseResult, Target
from corun.bench.scenarios import gomp_procs, numpy_procs
from corun.bench.scenarios.base import Scenario, check_size, multiples

PROC_FACTORS = (1, 2)          # P = 1, cores, 2 x cores


def build(cores: int, size: str = "quick") -> list[Case]:
    check_size(size)
    procs = multiples(cores, PROC_FACTORS)
    return [*numpy_procs.build(cores, size, procs=procs),
            *gomp_procs.build(cores, size, procs=procs, runtimes=("libgomp",))]


def targets(results: dict[str, CaseResult], cores: int) -> list[Target]:
    numpy = {k: r for k, r in results.items() if r.case.group == "numpy"}
    gomp = {k: r for k, r in results.items() if r.case.group != "numpy"}
    return [*numpy_procs.targets(numpy, cores), *gomp_procs.targets(gomp, cores)]


SCENARIO = Scenario(
    name="demo",
    summary="short numpy-procs and gomp-procs (libgomp) side by side with plain Linux",
    description=(
        "numpy-procs (150 matmuls of 384 x 384 per process) and gomp-procs with libgomp "
        "(2000 parallel-for regions per process, T = cores threads), P = 1, cores, 2 x cores, "
        "each under plain Linux and under corun, 2 repetitions alternated."),
    build=build, targets=targets, plot_kind="bars", default_repeat=2, give_up_after=2,
    scaling=lambda cores: f"P = {', '.join(map(str, multiples(cores, PROC_FACTORS)))}")
