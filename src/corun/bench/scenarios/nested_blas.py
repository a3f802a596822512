"""nested-blas: T outer pthreads each calling dgemm with B inner BLAS threads (paper Fig. 3)."""
from __future__ import annotations

from corun.bench import toolchain, workloads
from corun.bench.libraries import BlasLibrary, blas_libraries
from corun.bench.model import GFLOPS, Case, CaseResult, Target
from corun.bench.scenarios.base import Scenario, check_size, multiples, timeout_for

# size -> (matrix order N, dgemm calls in total per core, split over the outer threads)
SIZES = {"default": (384, 32), "quick": (256, 16), "tiny": (32, 4)}
OUTER_FACTORS = (1, 2, 4)      # T = 1 and cores x 1, 2, 4
INNER_FACTORS = (1, 2)         # B = 1 and cores x 1, 2
TARGET_NO_LOSS = 0.97          # issue 3: no cell more than 3% below plain
TARGET_BLIS = 3.0              # issue 3: BLIS pthread >= 3 x plain from 2 x cores outer threads


def outer_counts(cores: int) -> list[int]:
    return multiples(cores, OUTER_FACTORS)


def inner_counts(cores: int) -> list[int]:
    return multiples(cores, INNER_FACTORS)


def key(lib: str, outer: int, inner: int) -> str:
    return f"{lib} T={outer} B={inner}"


def thread_env(inner: int) -> dict[str, str]:
    n = str(inner)
    return {"OPENBLAS_NUM_THREADS": n, "OMP_NUM_THREADS": n, "BLIS_NUM_THREADS": n}


def build(cores: int, size: str, outer: list[int] | None = None, inner: list[int] | None = None,
          libraries: list[BlasLibrary] | None = None) -> list[Case]:
    check_size(size)
    n, calls_per_core = SIZES[size]
    ts = outer_counts(cores) if outer is None else sorted(set(outer))
    bs = inner_counts(cores) if inner is None else sorted(set(inner))
    calls = max(calls_per_core * cores, max(ts))
    skip_all, exe = None, "blas_nested"
    try:
        exe = str(toolchain.build(workloads.path("blas_nested.c"), "pthread"))
    except toolchain.ToolchainError as e:
        skip_all = str(e)
    cases = []
    for lib in blas_libraries() if libraries is None else libraries:
        skip = skip_all or (None if lib.path else f"not installed ({lib.provider})")
        for t in ts:
            for b in bs:
                cases.append(Case(
                    key=key(lib.name, t, b), group=lib.name, label=f"T={t} B={b}",
                    params={"library": lib.name, "path": str(lib.path) if lib.path else None,
                            "outer_threads": t, "inner_threads": b, "n": n, "calls": calls},
                    procs=1, cmd=[exe, str(lib.path), str(t), str(n), str(calls)],
                    env=thread_env(b), metric=GFLOPS, timeout_s=timeout_for(size), skip=skip))
    return cases


def targets(results: dict[str, CaseResult], cores: int) -> list[Target]:
    out = []
    for k, cr in results.items():
        if cr.case.skip:
            continue
        s = cr.speedup()
        out.append(Target(f"{k}: corun >= {TARGET_NO_LOSS} x plain", "corun", s, TARGET_NO_LOSS,
                          None if s is None else s >= TARGET_NO_LOSS))
        if cr.case.group == "blis-pthread" and cr.case.params["outer_threads"] >= 2 * cores:
            out.append(Target(f"{k}: corun >= {TARGET_BLIS:g} x plain", "corun", s, TARGET_BLIS,
                              None if s is None else s >= TARGET_BLIS))
    return out


SCENARIO = Scenario(
    name="nested-blas",
    summary="T outer threads x dgemm with B inner BLAS threads, 4 BLAS builds; Fig. 3 heatmap",
    description=(
        "One process; T outer pthreads share a fixed number of N x N cblas_dgemm calls "
        "(32 x cores calls, N=384) from a BLAS library loaded with dlopen; each call may use B "
        "inner threads (OPENBLAS_NUM_THREADS / OMP_NUM_THREADS / BLIS_NUM_THREADS). Libraries: "
        "numpy's bundled OpenBLAS, Debian's OpenBLAS pthread and openmp builds, BLIS pthread "
        "(a library that is not installed is skipped with a note). T = 1, cores, 2 x cores, "
        "4 x cores; B = 1, cores, 2 x cores. Metric: GFLOP/s; the plot is the paper's Fig. 3 "
        "heatmap of corun/plain over T x B per library."),
    build=build, targets=targets, plot_kind="heatmap",
    scaling=lambda cores: (f"T = {', '.join(map(str, outer_counts(cores)))}; "
                           f"B = {', '.join(map(str, inner_counts(cores)))}; 4 libraries"))
