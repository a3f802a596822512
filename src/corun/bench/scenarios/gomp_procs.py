"""gomp-procs: P processes x (cores) OpenMP threads x many short `parallel for` regions."""
from __future__ import annotations

from corun.bench import toolchain, workloads
from corun.bench.model import WALL, Case, CaseResult, Target, scaled
from corun.bench.scenarios.base import Scenario, check_size, multiples, timeout_for

RUNTIMES = ("libgomp", "libomp")
# size -> (parallel regions, loop elements per thread per region)
SIZES = {"default": (10000, 2048), "quick": (2000, 2048), "tiny": (50, 256)}
PROC_FACTORS = (1, 2)          # P = 1 and cores x 1, 2 (2 x 2 and 4 x 2 on two cores)
TARGET_SERIAL = 1.2            # issue 3: wall(P) <= 1.2 x P x wall(1)


def proc_counts(cores: int) -> list[int]:
    return multiples(cores, PROC_FACTORS)


def key(runtime: str, procs: int) -> str:
    return f"{runtime} P={procs}"


def build(cores: int, size: str, procs: list[int] | None = None,
          runtimes: tuple[str, ...] = RUNTIMES) -> list[Case]:
    check_size(size)
    regions, per_thread = SIZES[size]
    counts = proc_counts(cores) if procs is None else sorted(set(procs))
    cases = []
    for runtime in runtimes:
        skip, exe = None, "omp_for"
        try:
            exe = str(toolchain.build(workloads.path("omp_for.c"), runtime))
        except toolchain.ToolchainError as e:
            skip = str(e)
        base = key(runtime, 1) if 1 in counts else None
        for p in counts:
            cases.append(Case(
                key=key(runtime, p), group=runtime, label=f"P={p}",
                params={"runtime": runtime, "procs": p, "threads": cores, "regions": regions,
                        "elems_per_thread": per_thread},
                procs=p, cmd=[exe, str(regions), str(per_thread)],
                env={"OMP_NUM_THREADS": str(cores)}, metric=WALL, timeout_s=timeout_for(size),
                skip=skip, baseline=base, scaling="serial"))
    return cases


def targets(results: dict[str, CaseResult], cores: int) -> list[Target]:
    out = []
    for k, cr in results.items():
        if cr.case.procs > 1 and cr.case.baseline and cr.case.skip is None:
            v = scaled(results, k, "corun", base_mode="plain")
            out.append(Target(f"{k}: wall <= {TARGET_SERIAL} x P x plain P=1 wall", "corun", v,
                              TARGET_SERIAL, None if v is None else v <= TARGET_SERIAL))
    return out


SCENARIO = Scenario(
    name="gomp-procs",
    summary="P processes x OpenMP parallel-for regions, libgomp and LLVM libomp; wall time",
    description=(
        "P processes start together, each running R `parallel for` regions with T = cores "
        "OpenMP threads (OMP_NUM_THREADS) and default wait policy. One C source built twice: "
        "gcc -fopenmp against libgomp, and the same objects linked against LLVM libomp "
        "(libomp-dev; skipped when missing). P = 1, cores, 2 x cores. Metric: wall time of the "
        "common timed window; 'vs P=1' is wall(P) / (P x wall(1)) (target <= 1.2). "
        "Default R=10000, 2048 elements per thread per region."),
    build=build, targets=targets, plot_kind="bars",
    scaling=lambda cores: (f"P = {', '.join(map(str, proc_counts(cores)))} processes x "
                           f"T = {cores} threads; libgomp, libomp"))
