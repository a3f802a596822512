"""Table 4 of the VLC paper: end-to-end overhead of running an OpenBLAS application serially inside
one context (all CPUs) against running it plainly. Base and context runs alternate, each in a fresh
process; the overhead is the ratio of medians minus one.

    python3 benchmarks/vlc/overhead.py [--samples 9] [--reps 3]
"""
from __future__ import annotations

import argparse

from common import DEBIAN_OPENBLAS, blas_env, compile_c, median, run_json, write

WORKLOADS = {"gemm": (2000, 0.38), "cholesky": (4000, 0.54), "gesv": (3000, 0.31)}  # n, paper overhead %


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--samples", type=int, default=9)
    ap.add_argument("--reps", type=int, default=3)
    args = ap.parse_args()
    exe = compile_c("overhead.c", "vlc-overhead")
    env = blas_env()
    rows = []
    for work, (n, paper) in WORKLOADS.items():
        runs: dict[str, list[float]] = {"base": [], "vlc": []}
        cpu: dict[str, list[float]] = {"base": [], "vlc": []}
        for i in range(args.samples):
            order = ("base", "vlc") if i % 2 == 0 else ("vlc", "base")
            for mode in order:
                r = run_json([exe, mode, DEBIAN_OPENBLAS, work, str(n), str(args.reps)], env=env)
                runs[mode].append(median(r["seconds"]))
                cpu[mode].append(median(r["cpu_seconds"]))
        mb, mv = median(runs["base"]), median(runs["vlc"])
        over = (mv / mb - 1) * 100
        cb, cv = median(cpu["base"]), median(cpu["vlc"])
        cover = (cv / cb - 1) * 100
        rows.append({"workload": work, "n": n, "base_s": mb, "vlc_s": mv, "overhead_pct": over,
                     "base_cpu_s": cb, "vlc_cpu_s": cv, "cpu_time_overhead_pct": cover,
                     "paper_overhead_pct": paper, "target_pct": 0.5, "samples": runs, "cpu_samples": cpu})
        print(f"{work:9s} n={n}: base {mb:.4f} s  in context {mv:.4f} s  overhead {over:+.2f}% "
              f"(CPU time {cover:+.2f}%)  paper {paper}%")
    write("overhead", {"library": DEBIAN_OPENBLAS, "openblas_coretype": env.get("OPENBLAS_CORETYPE"),
                       "samples": args.samples, "reps_per_process": args.reps,
                       "statistic": "median over processes of the median over repetitions", "rows": rows})


if __name__ == "__main__":
    main()
