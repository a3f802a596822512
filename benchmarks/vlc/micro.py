"""Table 2 of the VLC paper: micro-costs of contexts (C API, measured in C), plus the Python API's.

    python3 benchmarks/vlc/micro.py [--rounds N]
"""
from __future__ import annotations

import argparse
import os
import time

from common import compile_c, median, run_json, write

PAPER_US = {  # VLC++ unless noted (Table 2, means of 120,000 samples, 24-core Xeon E5-2650 v4)
    "create_new": 40.2, "create": 40.2, "create_pyvlc": 3960, "enter": 7.8, "leave": 6.9, "enter_affinity": 40,
    "sched_getaffinity_inside": 20.44, "sched_getaffinity_outside": 0.64,
    "open_cpuinfo_inside": 266.59, "open_cpuinfo_outside": 5.81, "mmap_inside": 0.82, "mmap_outside": 0.78,
}
TARGET_US = {"create_new": 100, "create": 100, "enter": 2, "leave": 2, "sched_getaffinity_inside": 0.05, "open_cpuinfo_inside": 10}


def python_costs(rounds: int, lib: str) -> dict:
    import ctypes

    from corun import VLC

    create, enter_leave = [], []
    for _ in range(rounds):
        t0 = time.perf_counter()
        vs = [VLC() for _ in range(8)]
        create.append((time.perf_counter() - t0) / 8 * 1e6)
        for v in vs:
            v.close()
    v = VLC(cpus=sorted(os.sched_getaffinity(0))[-1:])
    for _ in range(rounds):
        t0 = time.perf_counter()
        for _ in range(2000):
            with v:
                pass
        enter_leave.append((time.perf_counter() - t0) / 2000 * 1e6)
    # A trivial library call (bench_mmap(0): two clock reads, nothing interposed) through ctypes:
    # plainly loaded, from a thread outside its context (the call enters and leaves, moving the
    # thread), and from inside a `with` block.
    plain = ctypes.CDLL(lib).bench_mmap
    fn = v.load(lib).bench_mmap
    for f in (plain, fn):
        f.restype, f.argtypes = ctypes.c_double, [ctypes.c_long]

    def per_call(f, n=20000) -> float:
        t0 = time.perf_counter()
        for _ in range(n):
            f(0)
        return (time.perf_counter() - t0) / n * 1e6

    raw = v.load(lib).unguarded("bench_mmap")
    raw.restype, raw.argtypes = ctypes.c_double, [ctypes.c_long]
    calls = {"plain": [], "outside_context": [], "inside_with": [], "unguarded_inside_with": []}
    for _ in range(rounds):
        calls["plain"].append(per_call(plain))
        calls["outside_context"].append(per_call(fn, 5000))
        with v:
            calls["inside_with"].append(per_call(fn))
            calls["unguarded_inside_with"].append(per_call(raw))
    v.close()
    return {"py_create_us": median(create), "py_with_enter_leave_affinity_us": median(enter_leave),
            **{f"py_call_{k}_us": median(x) for k, x in calls.items()}}


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--rounds", type=int, default=11)
    args = ap.parse_args()
    lib = compile_c("bench_lib.c", "libvlcbench.so", shared=True)
    exe = compile_c("micro.c", "vlc-micro")
    runs = [run_json([exe, lib, str(args.rounds)]) for _ in range(3)]
    c = {k: median([r[k] for r in runs]) / 1000 for k in runs[0]}   # us, median of 3 process medians
    us = {k[:-3]: round(v, 4) for k, v in c.items()}
    rows = []
    for key, paper in PAPER_US.items():
        if key == "create_pyvlc":
            continue
        ours = us.get(key)
        rows.append({"what": key, "corun_us": ours, "paper_us": paper,
                     "target_us": TARGET_US.get(key), "meets_target": None if key not in TARGET_US else ours <= TARGET_US[key]})
    ratios = {
        "sched_getaffinity_inside_over_outside": us["sched_getaffinity_inside"] / us["sched_getaffinity_outside"],
        "open_cpuinfo_inside_over_outside": us["open_cpuinfo_inside"] / us["open_cpuinfo_outside"],
        "read_cpuinfo_inside_over_outside": us["read_cpuinfo_inside"] / us["read_cpuinfo_outside"],
        "mmap_inside_over_outside": us["mmap_inside"] / us["mmap_outside"],
    }
    py = python_costs(args.rounds, lib)
    notes = {"create_new": "a new linker namespace: glibc maps and relocates a libc copy",
             "create": "a namespace from the pool (after close or corun_vlc_prewarm)",
             "enter": "C API enter without changing affinity", "enter_affinity": "enter that moves the thread"}
    write("micro", {"unit": "us", "notes": notes, "rounds_per_process": args.rounds, "processes": 3, "medians_us": us,
                    "python_api_us": py, "ratios": ratios, "table2": rows, "raw_ns": runs})
    for r in rows:
        print(f"{r['what']:28s} corun {r['corun_us']:10.3f} us   paper {r['paper_us']:8.2f} us"
              + (f"   target {r['target_us']} us {'ok' if r['meets_target'] else 'MISSED'}" if r["target_us"] else ""))
    print(py)


if __name__ == "__main__":
    main()
