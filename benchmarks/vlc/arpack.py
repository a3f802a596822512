"""Fig. 10 of the VLC paper: two ARPACK eigensolves (not thread-safe: one instance cannot run two at
once) concurrently in two contexts that split the CPUs, against the same two solves serialized on
one plain instance, with the BLAS under ARPACK at its default thread count and at one thread.

    python3 benchmarks/vlc/arpack.py [--samples 5] [--n 2000]
"""
from __future__ import annotations

import argparse
import math
import subprocess

from common import REPO, blas_env, compile_c, median, run_json, write

PAPER = {"contexts_over_serial_cpp": 1.96, "contexts_over_serial_python": 1.51}


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--samples", type=int, default=5)
    ap.add_argument("--n", type=int, default=2000)
    ap.add_argument("--nev", type=int, default=8)
    ap.add_argument("--ncv", type=int, default=32)
    ap.add_argument("--timeout", type=float, default=180)
    args = ap.parse_args()
    driver = compile_c(str(REPO / "tests" / "vlc" / "c" / "arpack_driver.c"), "libarpack_driver.so", "-larpack",
                       shared=True)
    exe = compile_c("arpack_bench.c", "vlc-arpack")
    env = blas_env()
    env1 = {**env, "OPENBLAS_NUM_THREADS": "1"}
    modes = {"serial_default_blas_threads": ("serial", env), "serial_1_blas_thread": ("serial", env1),
             "contexts": ("contexts", env)}
    runs: dict[str, list[float | None]] = {m: [] for m in modes}
    tops = []
    failures: list[str] = []
    for _ in range(args.samples):
        for name, (mode, e) in modes.items():
            cmd = [exe, driver, mode, str(args.n), str(args.nev), str(args.ncv)]
            try:
                r = run_json(cmd, env=e, timeout=args.timeout)
            except subprocess.TimeoutExpired:
                runs[name].append(None)
                continue
            except RuntimeError as e:   # recorded, not hidden: a failed run counts as missing
                failures.append(str(e))
                runs[name].append(None)
                continue
            assert r["info"] == [0, 0], r
            runs[name].append(r["seconds"])
            tops.append(r["top"])
    expect = [2 - 2 * math.cos(n * math.pi / (n + 1)) for n in (args.n, args.n + 1)]
    correct = all(abs(t[i] - expect[i]) < 1e-8 for t in tops for i in range(2))
    med = {m: median([x for x in v if x is not None]) if any(x is not None for x in v) else None
           for m, v in runs.items()}
    result = {
        "n": args.n, "nev": args.nev, "ncv": args.ncv, "matrix": "1-D Laplacian (n and n+1), largest eigenvalues",
        "seconds": med, "eigenvalues_correct": correct,
        "contexts_over_serial_1_blas_thread": med["serial_1_blas_thread"] / med["contexts"],
        "contexts_over_serial_default_blas_threads":
            None if med["serial_default_blas_threads"] is None else med["serial_default_blas_threads"] / med["contexts"],
        "target": "contexts >= 1.8x the serialized run on 2 cores (against the faster serial baseline)",
        "paper": PAPER, "samples": runs, "failures": failures, "timeout_s": args.timeout, "openblas_coretype": env.get("OPENBLAS_CORETYPE"),
    }
    best = {m: min(x for x in v if x is not None) for m, v in runs.items() if any(x is not None for x in v)}
    result["best_seconds"] = best
    result["best_contexts_over_serial_1_blas_thread"] = best["serial_1_blas_thread"] / best["contexts"]
    result["meets_target"] = result["contexts_over_serial_1_blas_thread"] >= 1.8
    for m, v in med.items():
        print(f"{m:28s} {v if v is None else round(v, 3)} s")
    print(f"speedup of contexts: {result['contexts_over_serial_1_blas_thread']:.2f}x over serial with 1 BLAS thread,"
          f" {result['contexts_over_serial_default_blas_threads']}x over serial with default BLAS threads "
          f"(paper 1.96x C++); eigenvalues correct: {correct}")
    write("arpack", result)


if __name__ == "__main__":
    main()
