"""Fig. 9 of the VLC paper: nested parallelism, one large GEMM and many small ones (a quarter of its
size, as in the paper), run sequentially on all CPUs, with two plain threads sharing one OpenBLAS,
and in two contexts that split the CPUs. K, the number of small GEMMs, is calibrated so that both
halves of the machine get the same work time; the reference is total work / the machine's measured
GEMM rate (the large GEMM on all CPUs).

    python3 benchmarks/vlc/nested_gemm.py [--samples 5] [--large 2048]
"""
from __future__ import annotations

import argparse

from common import DEBIAN_OPENBLAS, blas_env, compile_c, median, run_json, write

PAPER = {"contexts_over_sequential": 1.58, "contexts_over_threads": 1.17}


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--samples", type=int, default=5)
    ap.add_argument("--large", type=int, default=2048)
    args = ap.parse_args()
    nl, ns = args.large, args.large // 4
    exe = compile_c("nested_gemm.c", "vlc-nested-gemm")
    env = blas_env()
    lib = DEBIAN_OPENBLAS
    cal = [run_json([exe, lib, "calibrate", str(nl), str(ns), "1"], env=env) for _ in range(3)]
    k = max(1, round(median([c["large_s"] for c in cal]) / median([c["small_s"] for c in cal])))
    modes = ["sequential", "threads", "contexts"]
    runs: dict[str, list[float]] = {m: [] for m in modes + ["peak_rate"]}
    flops = 0.0
    for _ in range(args.samples):
        runs["peak_rate"].append(run_json([exe, lib, "peak", str(nl), str(ns), str(k)], env=env)["rate"])
        for m in modes:
            r = run_json([exe, lib, m, str(nl), str(ns), str(k)], env=env)
            runs[m].append(r["seconds"])
            flops = r["flops"]
    peak = median(runs["peak_rate"])
    ideal = flops / peak
    med = {m: median(runs[m]) for m in modes}
    result = {
        "large": nl, "small": ns, "small_count": k, "total_flops": flops, "peak_gflops": peak / 1e9,
        "ideal_s": ideal, "makespan_s": med,
        "makespan_over_ideal": {m: med[m] / ideal for m in modes},
        "contexts_over_sequential": med["sequential"] / med["contexts"],
        "contexts_over_threads": med["threads"] / med["contexts"],
        "target": "contexts makespan within 5% of ideal", "paper": PAPER,
        "calibration": cal, "samples": runs, "openblas_coretype": env.get("OPENBLAS_CORETYPE"), "library": lib,
    }
    result["meets_target"] = result["makespan_over_ideal"]["contexts"] <= 1.05
    result["best_makespan_s"] = {m: min(runs[m]) for m in modes}
    result["best_over_ideal_at_best_peak"] = {m: min(runs[m]) / (flops / max(runs["peak_rate"])) for m in modes}
    for m in modes:
        print(f"{m:10s} {med[m]:.3f} s  = {med[m] / ideal:.3f} x ideal ({ideal:.3f} s at {peak / 1e9:.1f} GFLOP/s)")
    print(f"contexts speedup: {result['contexts_over_sequential']:.2f}x over sequential (paper 1.58x), "
          f"{result['contexts_over_threads']:.2f}x over threads (paper 1.17x)")
    write("nested-gemm", result)


if __name__ == "__main__":
    main()
