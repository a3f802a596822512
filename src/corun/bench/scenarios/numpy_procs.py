"""numpy-procs: P processes, each doing a fixed number of numpy matmuls with default BLAS threads."""
from __future__ import annotations

from corun.bench import workloads
from corun.bench.model import GFLOPS, Case, CaseResult, Target, scaled
from corun.bench.scenarios.base import Scenario, check_size, multiples, python, timeout_for

# size -> (matrix order, matmuls per process)
SIZES = {"default": (384, 400), "quick": (384, 150), "tiny": (64, 3)}
PROC_FACTORS = (1, 2, 4)       # P = 1 and cores x 1, 2, 4
TARGET_SCALING = 0.9           # issue 3: aggregate at P > 1 at least 90% of P = 1


def proc_counts(cores: int) -> list[int]:
    return multiples(cores, PROC_FACTORS)


def key(procs: int) -> str:
    return f"numpy P={procs}"


def build(cores: int, size: str, procs: list[int] | None = None) -> list[Case]:
    check_size(size)
    n, iterations = SIZES[size]
    counts = proc_counts(cores) if procs is None else sorted(set(procs))
    script = str(workloads.path("numpy_matmul.py"))
    base = key(1) if 1 in counts else None
    return [Case(key=key(p), group="numpy", label=f"P={p}",
                 params={"procs": p, "n": n, "matmuls_per_proc": iterations,
                         "blas_threads": "default"},
                 procs=p, cmd=[python(), script, str(n), str(iterations)], env={},
                 metric=GFLOPS, timeout_s=timeout_for(size), baseline=base, scaling="throughput")
            for p in counts]


def targets(results: dict[str, CaseResult], cores: int) -> list[Target]:
    out = []
    for k, cr in results.items():
        if cr.case.procs > 1 and cr.case.baseline:
            v = scaled(results, k, "corun", base_mode="plain")
            out.append(Target(f"{k}: aggregate >= {TARGET_SCALING:.0%} of plain P=1", "corun", v,
                              TARGET_SCALING, None if v is None else v >= TARGET_SCALING))
    return out


SCENARIO = Scenario(
    name="numpy-procs",
    summary="P processes x numpy matmuls (default BLAS threads); aggregate GFLOP/s",
    description=(
        "P processes start together, each doing a fixed number of N x N float64 matmuls with "
        "numpy (its bundled OpenBLAS, default thread count = cores). P = 1, cores, 2 x cores, "
        "4 x cores. Metric: aggregate GFLOP/s over the common timed window; 'vs P=1' is that "
        "divided by the P=1 aggregate (target >= 0.9). Default N=384, 400 matmuls per process."),
    build=build, targets=targets, plot_kind="bars",
    scaling=lambda cores: f"P = {', '.join(map(str, proc_counts(cores)))}")
