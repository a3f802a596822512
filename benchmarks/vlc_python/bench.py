"""Benchmarks of Python VLCs (routed and isolated), next to the VLC paper's Python figures.

    python3 benchmarks/vlc_python/bench.py table  [--runs 7]    # Tables 2/3 Python rows
    python3 benchmarks/vlc_python/bench.py fig9   [--runs 5]    # one large + many small matmuls
    python3 benchmarks/vlc_python/bench.py fig10  [--runs 5]    # two eigsh solves, 2 contexts
    python3 benchmarks/vlc_python/bench.py gomp   [--runs 3]    # OpenMP region of an extension, routed
    python3 benchmarks/vlc_python/bench.py all

Each writes benchmarks/results/vlc-python-<name>.json with the command, every sample, medians,
ratios against baselines measured in the same run, the machine's load average and the paper's
figure. Timings that include interpreter start-up state are taken in fresh interpreters.
"""
from __future__ import annotations

import argparse
import json
import os
import platform
import statistics
import subprocess
import sys
import textwrap
import time
from pathlib import Path

RESULTS = Path(__file__).resolve().parents[2] / "benchmarks" / "results"


def _busy_share(seconds: float = 2.0) -> float:
    """Share of the machine's CPU time that was busy over the next `seconds` (from /proc/stat)."""
    def stat():
        with open("/proc/stat") as f:
            v = [int(x) for x in f.readline().split()[1:]]
        return sum(v) - v[3] - v[4], sum(v)
    b0, t0 = stat()
    time.sleep(seconds)
    b1, t1 = stat()
    return (b1 - b0) / max(1, t1 - t0)


QUIET = {"max_busy": 1.0, "max_wait_s": 0.0}     # set by --quiet: wait for others to go idle


def _wait_quiet() -> float:
    """With --quiet, wait (up to max_wait_s) until the machine is idle enough; returns the busy share
    seen last (this benchmark's own parent is idle while it waits)."""
    t = time.time()
    busy = _busy_share(1.0) if QUIET["max_wait_s"] else -1.0
    while busy > QUIET["max_busy"] and time.time() - t < QUIET["max_wait_s"]:
        busy = _busy_share(2.0)
    return busy


def _py(code: str, timeout: float = 600) -> dict:
    busy_before = _wait_quiet()
    proc = subprocess.run([sys.executable, "-c", textwrap.dedent(code)], capture_output=True, text=True,
                          timeout=timeout)
    lines = [ln for ln in proc.stdout.splitlines() if ln.startswith("RESULT ")]
    if proc.returncode != 0 or not lines:
        raise RuntimeError(f"benchmark child failed rc={proc.returncode}\n{proc.stdout[-2000:]}\n{proc.stderr[-3000:]}")
    res = json.loads(lines[-1][7:])
    if isinstance(res, dict) and busy_before >= 0:
        res["busy_share_before"] = busy_before
    return res


def _env() -> dict:
    return {"python": sys.version.split()[0], "machine": platform.machine(), "cpus": os.cpu_count(),
            "loadavg_before": os.getloadavg()}


def _write(name: str, data: dict) -> None:
    RESULTS.mkdir(parents=True, exist_ok=True)
    data = {"command": " ".join([os.path.relpath(sys.argv[0])] + sys.argv[1:]), **data,
            "loadavg_after": os.getloadavg()}
    path = RESULTS / f"vlc-python-{name}.json"
    path.write_text(json.dumps(data, indent=1) + "\n")
    print(f"wrote {path}")
    print(json.dumps({k: v for k, v in data.items() if k not in ("samples",)}, indent=1))


def _med(xs: list[float]) -> float:
    return statistics.median(xs)


# --------------------------------------------------------------------------- Tables 2 and 3
INIT = """
import time, json
t = time.perf_counter()
from corun import VLC
from corun.vlc import isolated
isolated.enable()
t_iso = time.perf_counter() - t
import numpy
t = time.perf_counter()
from corun.vlc import routed
routed.enable()
t_routed = time.perf_counter() - t
print("RESULT " + json.dumps({"isolated_init_s": t_iso, "routed_init_s": t_routed}))
"""

CREATE = """
import time, json
from corun import VLC
from corun.vlc import isolated
isolated.enable()
xs = []
for i in range(40):
    t = time.perf_counter()
    v = VLC(cpus="0")
    isolated.space_of(v)
    xs.append(time.perf_counter() - t)
    v.close()
print("RESULT " + json.dumps({"create_s": xs}))
"""

PLAIN_IMPORT = """
import time, json
t = time.perf_counter()
import {mods}
print("RESULT " + json.dumps({{"s": time.perf_counter() - t}}))
"""

CTX_IMPORT = """
import time, json
from corun import VLC
from corun.vlc import isolated
isolated.enable()
{base}
a = VLC(cpus="0-1")
t = time.perf_counter()
with a:
    import {mods}
print("RESULT " + json.dumps({{"s": time.perf_counter() - t}}))
"""


def table(runs: int) -> None:
    out: dict = {"environment": _env(), "samples": {}}
    s = out["samples"]
    s["init"] = [_py(INIT) for _ in range(runs)]
    s["create_s"] = _py(CREATE)["create_s"]
    specs = {"numpy": "numpy", "scipy": "scipy, scipy.linalg, scipy.sparse.linalg"}
    for key, mods in specs.items():
        plain, ctx, ctx_warm = [], [], []
        for _ in range(runs):     # interleaved, so drifting machine load hits all three alike
            plain.append(_py(PLAIN_IMPORT.format(mods=mods))["s"])
            ctx.append(_py(CTX_IMPORT.format(mods=mods, base=""))["s"])
            ctx_warm.append(_py(CTX_IMPORT.format(mods=mods, base=f"import {mods}"))["s"])
        s[key] = {"plain_s": plain, "context_s": ctx, "context_with_base_loaded_s": ctx_warm}
    med = {
        "isolated_init_ms": 1e3 * _med([x["isolated_init_s"] for x in s["init"]]),
        "routed_init_ms": 1e3 * _med([x["routed_init_s"] for x in s["init"]]),
        "create_ms": 1e3 * _med(s["create_s"]),
    }
    for key in specs:
        p, c, w = (_med(s[key][k]) for k in ("plain_s", "context_s", "context_with_base_loaded_s"))
        med[f"import_{key}_plain_ms"] = 1e3 * p
        med[f"import_{key}_context_ms"] = 1e3 * c
        med[f"import_{key}_context_ratio"] = c / p
        med[f"import_{key}_context_with_base_loaded_ms"] = 1e3 * w
        med[f"import_{key}_context_with_base_loaded_ratio"] = w / p
    out["medians"] = med
    out["paper"] = {"init_ms": 198, "create_ms": 3.96, "import_numpy_ms": [240, 181],
                    "import_scipy_ms": [333, 192]}
    out["targets"] = {"create_ms": "<= 1", "import_numpy_context_ratio": "<= 1.3"}
    _write("table", out)


# The machine is shared: every child reports, next to its timings, how much of the machine's CPU
# time (from /proc/stat) went to other processes while it measured.
CPU_SHARE = """
def _stat():
    with open("/proc/stat") as f:
        v = [int(x) for x in f.readline().split()[1:]]
    return sum(v) - v[3] - v[4], sum(v)            # busy, total (jiffies; idle and iowait excluded)
def _own():
    t = os.times(); return t.user + t.system
def share_start():
    return (_stat(), _own())
def share_end(s0):
    (b0, t0), o0 = s0; b1, t1 = _stat(); o1 = _own()
    hz = os.sysconf("SC_CLK_TCK"); total = (t1 - t0) / hz; busy = (b1 - b0) / hz
    return {{"others_cpu_share": max(0.0, busy - (o1 - o0)) / total if total else 0.0,
            "own_cpu_share": (o1 - o0) / total if total else 0.0, "loadavg": os.getloadavg()}}
"""

# --------------------------------------------------------------------------- Fig. 9
FIG9 = """
import itertools, json, os, threading, time
import numpy as np
from threadpoolctl import threadpool_limits
from corun import VLC
from corun.vlc import routed
""" + CPU_SHARE + """
LARGE, SMALL, NSMALL = {large}, {small}, {nsmall}
s0 = share_start()       # the whole measurement, peaks and baselines included
rng = np.random.default_rng(0)
A = rng.random((LARGE, LARGE)); S = [rng.random((SMALL, SMALL)) for _ in range(4)]
flops = 2.0 * LARGE**3 + NSMALL * 2.0 * SMALL**3
def large():
    A @ A
def smalls(n=NSMALL):
    for i in range(n):
        S[i % 4] @ S[i % 4]
def timed(fn):
    t = time.perf_counter(); fn(); return time.perf_counter() - t
A @ A; smalls(4)
# the machine's matmul peak: best rate of the large GEMM with all cores, and of the small ones
peak_large = max(2.0 * LARGE**3 / timed(large) for _ in range(3))
peak_small = max(NSMALL * 2.0 * SMALL**3 / timed(smalls) for _ in range(2))
peak = max(peak_large, peak_small)
res = {{"flops": flops, "peak_large_gflops": peak_large / 1e9, "peak_small_gflops": peak_small / 1e9,
       "ideal_s": flops / peak,                       # total work / measured matmul peak
       "ideal_per_size_s": 2.0 * LARGE**3 / peak_large + NSMALL * 2.0 * SMALL**3 / peak_small}}
res["sequential_s"] = timed(lambda: (large(), smalls()))
def two_threads(enter_large=None, enter_small=None):
    def run(fn, ctx):
        if ctx is None:
            fn()
        else:
            with ctx:
                fn()
    ts = [threading.Thread(target=run, args=(large, enter_large)), threading.Thread(target=run, args=(smalls, enter_small))]
    t = time.perf_counter()
    for x in ts: x.start()
    for x in ts: x.join()
    return time.perf_counter() - t
res["threads_s"] = two_threads()
def shared_queue(ctx_large=None, ctx_other=None):
    # The large matmul on one thread; small ones taken from one shared counter by the other thread
    # and, once the large one is done, by the first thread too (both cores busy to the end).
    counter = itertools.count()
    def worker(ctx, first):
        if ctx is not None:
            ctx.enter()
        try:
            if first:
                large()
            for i in iter(counter.__next__, None):
                if i >= NSMALL:
                    break
                S[i % 4] @ S[i % 4]
        finally:
            if ctx is not None:
                ctx.leave()
    ts = [threading.Thread(target=worker, args=(ctx_large, True)), threading.Thread(target=worker, args=(ctx_other, False))]
    t = time.perf_counter()
    for x in ts: x.start()
    for x in ts: x.join()
    return time.perf_counter() - t
with threadpool_limits(1):             # without contexts: OpenBLAS limited to 1 thread process-wide
    res["threads_queue_blas1_s"] = shared_queue()
    # per-core rates (1 BLAS thread): what a 1-CPU context can reach at each size
    res["rate1_large_gflops"] = max(2.0 * LARGE**3 / timed(large) for _ in range(2)) / 1e9
    res["rate1_small_gflops"] = max(32 * 2.0 * SMALL**3 / timed(lambda: smalls(32)) for _ in range(2)) / 1e9
routed.enable()
L = VLC(cpus="0", name="large"); Sx = VLC(cpus="1", name="small")
with L: A[:8, :8] @ A[:8, :8]
with Sx: S[0][:8, :8] @ S[0][:8, :8]
res["contexts_s"] = two_threads(L, Sx)
res["contexts_queue_s"] = shared_queue(L, Sx)
res["sequential2_s"] = timed(lambda: (large(), smalls()))     # A/B/A: sequential again after
res["machine"] = share_end(s0)
print("RESULT " + json.dumps(res))
"""


CLEAN = 0.10     # a sample is "clean" when other processes took at most this share of the CPUs


def _fig9_clean(samples: list[dict]) -> dict:
    """Medians over the samples measured while others took <= CLEAN of the machine (all samples
    stay in the file; on the shared 2-core machine a busy neighbour changes GEMM rates 3-10 x)."""
    ok = [x for x in samples if x["machine"]["others_cpu_share"] <= CLEAN]
    if not ok:
        return {"samples": 0}
    m = lambda k: _med([x[k] for x in ok])  # noqa: E731
    return {"samples": len(ok), "max_others_cpu_share": CLEAN,
            "contexts_s": m("contexts_s"), "contexts_queue_s": m("contexts_queue_s"),
            "sequential_s": _med([v for x in ok for v in (x["sequential_s"], x["sequential2_s"])]),
            "threads_queue_blas1_s": m("threads_queue_blas1_s"), "ideal_s": m("ideal_s"),
            "ideal_1thread_rates_s": m("ideal_1thread_rates_s"),
            "contexts_over_ideal": _med([x["contexts_s"] / x["ideal_s"] for x in ok]),
            "contexts_queue_over_ideal": _med([x["contexts_queue_s"] / x["ideal_s"] for x in ok]),
            "contexts_queue_over_ideal_1thread_rates": _med([x["contexts_queue_s"] / x["ideal_1thread_rates_s"] for x in ok]),
            "contexts_queue_speedup_vs_sequential": _med([(x["sequential_s"] + x["sequential2_s"]) / 2 / x["contexts_queue_s"] for x in ok]),
            "rate1_small_over_rate1_large": _med([x["rate1_small_gflops"] / x["rate1_large_gflops"] for x in ok])}


def fig9(runs: int, large: int, small: int, nsmall: int) -> None:
    samples = [_py(FIG9.format(large=large, small=small, nsmall=nsmall)) for _ in range(runs)]
    med = {k: _med([x[k] for x in samples]) for k in samples[0] if k != "machine"}
    seq = _med([v for x in samples for v in (x["sequential_s"], x["sequential2_s"])])
    med["sequential_both_s"] = seq
    # the best any schedule can do with one BLAS thread per core: every core busy to the end, each
    # matmul at the 1-thread rate of its size (what a 1-CPU context runs at)
    for x in samples:
        x["ideal_1thread_rates_s"] = (2.0 * large**3 / (x["rate1_large_gflops"] * 1e9)
                                      + nsmall * 2.0 * small**3 / (x["rate1_small_gflops"] * 1e9)) / (os.cpu_count() or 2)
    med["ideal_1thread_rates_s"] = _med([x["ideal_1thread_rates_s"] for x in samples])
    out = {"environment": _env(), "params": {"large": large, "small": small, "nsmall": nsmall},
           "samples": samples, "medians": med,
           "machine": {"others_cpu_share_median": _med([x["machine"]["others_cpu_share"] for x in samples]),
                       "loadavg_1min_median": _med([x["machine"]["loadavg"][0] for x in samples])},
           "ratios": {"speedup_contexts_vs_sequential": seq / med["contexts_s"],
                      "speedup_contexts_queue_vs_sequential": seq / med["contexts_queue_s"],
                      "speedup_threads_vs_sequential": seq / med["threads_s"],
                      "speedup_threads_queue_blas1_vs_sequential": seq / med["threads_queue_blas1_s"],
                      "contexts_makespan_over_ideal": med["contexts_s"] / med["ideal_s"],
                      "contexts_queue_makespan_over_ideal": med["contexts_queue_s"] / med["ideal_s"],
                      "contexts_makespan_over_ideal_per_size": med["contexts_s"] / med["ideal_per_size_s"],
                      "contexts_queue_over_ideal_1thread_rates": med["contexts_queue_s"] / med["ideal_1thread_rates_s"],
                      "contexts_queue_over_ideal_per_pair": _med([x["contexts_queue_s"] / x["ideal_s"] for x in samples]),
                      "sequential_over_ideal": seq / med["ideal_s"]},
           "clean": _fig9_clean(samples),
           "paper": {"python_speedup_contexts_vs_sequential": 1.2},
           "target": "contexts makespan within 5% of total work / measured matmul peak (ideal_s)"}
    _write("fig9", out)


# --------------------------------------------------------------------------- Fig. 10
FIG10 = """
import json, os, threading, time
import numpy as np
import scipy.sparse as sp
from corun import VLC
from corun.vlc import {mode}
""" + CPU_SHARE + """
{mode}.enable()
N = {n}
def matrix(seed):
    rng = np.random.default_rng(seed)
    m = sp.random(N, N, density={density}, random_state=seed, format="csr")
    return (m + m.T + sp.diags(rng.random(N) * 10)).tocsr()
def solve(m):
    import numpy as np_, scipy.sparse.linalg     # the context's instances in the isolated form
    # a fixed start vector: every run of a solve does the same iterations (eigsh's default v0 is
    # random, so the two solves' iteration counts, hence their balance, changed from run to run)
    return scipy.sparse.linalg.eigsh(m, k=10, which="LA", return_eigenvectors=False, tol=1e-8, maxiter=100000,
                                     v0=np_.ones(m.shape[0]))
Ms = [matrix(1), matrix(2)]
ref = []
# where one solve's time goes: operator applications (scipy's sparse matvec, GIL released) vs the
# rest (ARPACK's C code, which keeps the GIL, and the Python reverse-communication loop)
import scipy.sparse.linalg as sla
mv = [0, 0.0]
def counted(x, m=Ms[0]):
    t = time.perf_counter(); y = m @ x; mv[1] += time.perf_counter() - t; mv[0] += 1; return y
t = time.perf_counter()
sla.eigsh(sla.LinearOperator(Ms[0].shape, matvec=counted, dtype=float), k=10, which="LA",
          return_eigenvectors=False, tol=1e-8, maxiter=100000, v0=np.ones(N))
one = time.perf_counter() - t
breakdown = {{"solve_s": one, "matvecs": mv[0], "matvec_s": mv[1], "matvec_share": mv[1] / one}}
# each solve alone (its share of the serial time bounds the speedup two concurrent solves can reach)
alone = []
for m in Ms:
    t = time.perf_counter(); solve(m); alone.append(time.perf_counter() - t)
breakdown["alone_s"] = alone
breakdown["balance_bound"] = sum(alone) / max(alone)
# the hardware's ceiling for the GIL-free part: the same number of matvecs as one solve, for both
# matrices, one after the other vs on two threads (no ARPACK, no Python loop in between)
xv = np.ones(N)
def mvs(m):
    for _ in range(mv[0]): m @ xv
t = time.perf_counter(); mvs(Ms[0]); mvs(Ms[1]); mv_serial = time.perf_counter() - t
ts = [threading.Thread(target=mvs, args=(m,)) for m in Ms]
t = time.perf_counter()
for x in ts: x.start()
for x in ts: x.join()
breakdown["matvec_pair_speedup"] = mv_serial / (time.perf_counter() - t)
def serial():
    t = time.perf_counter()
    got = [np.sort(solve(m)) for m in Ms]
    dt = time.perf_counter() - t
    if not ref:
        ref.extend(got)           # the reference: plain scipy, same process
    return dt
ctxs = [VLC(cpus="0", name="c0"), VLC(cpus="1", name="c1")]
Mc = {{}}
for i, c in enumerate(ctxs):   # first use (imports, instances) and the context's own operands, untimed
    with c:
        import scipy.sparse as sp_c
        Mc[i] = sp_c.csr_matrix((Ms[i].data, Ms[i].indices, Ms[i].indptr), shape=Ms[i].shape) \
            if "{mode}" == "isolated" else Ms[i]
        solve(Mc[i][:50, :50].tocsr())
out = {{}}
def work(i):
    with ctxs[i]:
        out[i] = np.sort(np.asarray(solve(Mc[i])))
def contexts():
    ts = [threading.Thread(target=work, args=(i,)) for i in range(2)]
    t = time.perf_counter()
    for x in ts: x.start()
    for x in ts: x.join()
    return time.perf_counter() - t
res = {{"serial_s": [], "contexts_s": [], "correct": True, "breakdown": breakdown}}
s0 = share_start()
for rep in range({reps}):      # A/B alternated in one process: serial, contexts, serial, contexts, ...
    res["serial_s"].append(serial())
    res["contexts_s"].append(contexts())
    res["correct"] &= bool(all(np.allclose(out[i], ref[i], rtol=1e-6) for i in range(2)))
res["machine"] = share_end(s0)
print("RESULT " + json.dumps(res))
"""


def fig10(runs: int, n: int, density: float, reps: int = 2, modes: tuple[str, ...] = ("routed", "isolated")) -> None:
    out = {"environment": _env(), "params": {"n": n, "density": density, "k": 10, "reps_per_process": reps},
           "samples": {}, "medians": {}, "ratios": {}, "machine": {}}
    for mode in modes:
        samples = [_py(FIG10.format(mode=mode, n=n, density=density, reps=reps)) for _ in range(runs)]
        out["samples"][mode] = samples
        med = {k: _med([v for x in samples for v in x[k]]) for k in ("serial_s", "contexts_s")}
        med["ratio_per_pair"] = _med([a / b for x in samples for a, b in zip(x["serial_s"], x["contexts_s"])])
        med["matvec_share"] = _med([x["breakdown"]["matvec_share"] for x in samples])
        med["balance_bound"] = _med([x["breakdown"]["balance_bound"] for x in samples])
        med["matvec_pair_speedup"] = _med([x["breakdown"]["matvec_pair_speedup"] for x in samples])
        out["medians"][mode] = med
        out["ratios"][f"{mode}_speedup"] = med["serial_s"] / med["contexts_s"]
        out["ratios"][f"{mode}_all_correct"] = all(x["correct"] for x in samples)
        out["machine"][mode] = {"others_cpu_share_median": _med([x["machine"]["others_cpu_share"] for x in samples]),
                                "loadavg_1min_median": _med([x["machine"]["loadavg"][0] for x in samples])}
        ok = [x for x in samples if x["machine"]["others_cpu_share"] <= CLEAN]
        out.setdefault("clean", {})[mode] = {"samples": len(ok), "max_others_cpu_share": CLEAN} if not ok else {
            "samples": len(ok), "max_others_cpu_share": CLEAN,
            "serial_s": _med([v for x in ok for v in x["serial_s"]]),
            "contexts_s": _med([v for x in ok for v in x["contexts_s"]]),
            "speedup": _med([v for x in ok for v in x["serial_s"]]) / _med([v for x in ok for v in x["contexts_s"]]),
            "ratio_per_pair": _med([a / b for x in ok for a, b in zip(x["serial_s"], x["contexts_s"])]),
            "balance_bound": _med([x["breakdown"]["balance_bound"] for x in ok]),
            "matvec_share": _med([x["breakdown"]["matvec_share"] for x in ok]),
            "matvec_pair_speedup": _med([x["breakdown"]["matvec_pair_speedup"] for x in ok])}
    out["paper"] = {"python_speedup": 1.51, "cxx_speedup": 1.96, "matrices": "two 10000 x 10000"}
    out["target"] = ">= 1.8 x on 2 cores"
    name = f"fig10-n{n}-d{density:g}" if (n, density) != (8000, 0.002) else "fig10"
    _write(name if tuple(modes) == ("routed", "isolated") else f"{name}-{'-'.join(modes)}", out)


# --------------------------------------------------------------------------- libgomp (routed)
GOMP = """
import json, os, sys, threading, time
sys.path.insert(0, {build!r})
import omp_ext
from corun import VLC
from corun.vlc import routed
""" + CPU_SHARE + """
def per_call(fn, n):
    t = time.perf_counter()
    for _ in range(n): fn()
    return (time.perf_counter() - t) / n
omp_ext.team()
res = {{"plain_region_us": [], "context_region_us": [], "context_enter_region_leave_us": [], "enter_leave_us": []}}
routed.enable()
ctx = VLC(cpus="0-1", name="omp")
def enter_region_leave():
    with ctx:
        omp_ext.team()
def enter_leave():
    with ctx:
        pass
enter_region_leave()
s0 = share_start()
for rep in range({reps}):     # alternated
    res["plain_region_us"].append(1e6 * per_call(omp_ext.team, 200))
    with ctx:
        res["context_region_us"].append(1e6 * per_call(omp_ext.team, 200))
    res["context_enter_region_leave_us"].append(1e6 * per_call(enter_region_leave, 100))
    res["enter_leave_us"].append(1e6 * per_call(enter_leave, 200))
res["machine"] = share_end(s0)
with ctx:
    res["context_team"] = omp_ext.team()[0]
res["plain_team"] = omp_ext.team()[0]
ctx.close()
print("RESULT " + json.dumps(res))
"""


def gomp(runs: int, reps: int = 5) -> None:
    """Cost of an OpenMP region (2 threads, 3e6-iteration loop) of a gcc -fopenmp extension: plain,
    inside a routed context (pool kept), and entering + region + leaving (the pool ends on leave)."""
    import sysconfig
    import tempfile
    here = Path(__file__).resolve().parents[2] / "tests" / "vlc" / "c"
    build = tempfile.mkdtemp(prefix="corun-bench-omp-")
    subprocess.run(["gcc", "-O2", "-fopenmp", "-shared", "-fPIC", f"-I{sysconfig.get_paths()['include']}",
                    str(here / "omp_ext.c"), str(here / "omp_team.c"), "-o",
                    os.path.join(build, "omp_ext" + sysconfig.get_config_var("EXT_SUFFIX"))], check=True)
    samples = [_py(GOMP.format(build=build, reps=reps)) for _ in range(runs)]
    keys = ("plain_region_us", "context_region_us", "context_enter_region_leave_us", "enter_leave_us")
    med = {k: _med([v for x in samples for v in x[k]]) for k in keys}
    out = {"environment": _env(), "samples": samples, "medians": med,
           "ratios": {"context_region_over_plain": med["context_region_us"] / med["plain_region_us"],
                      "enter_region_leave_over_plain": med["context_enter_region_leave_us"] / med["plain_region_us"]},
           "machine": {"others_cpu_share_median": _med([x["machine"]["others_cpu_share"] for x in samples]),
                       "loadavg_1min_median": _med([x["machine"]["loadavg"][0] for x in samples])}}
    _write("gomp", out)


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("what", choices=["table", "fig9", "fig10", "gomp", "all"])
    ap.add_argument("--runs", type=int, default=5)
    ap.add_argument("--large", type=int, default=2000)
    ap.add_argument("--small", type=int, default=500)
    ap.add_argument("--nsmall", type=int, default=64)
    ap.add_argument("--n", type=int, default=8000)
    ap.add_argument("--density", type=float, default=0.002)
    ap.add_argument("--reps", type=int, default=2, help="fig10: serial/contexts pairs per process")
    ap.add_argument("--modes", default="routed,isolated", help="fig10: routed,isolated or one of them")
    ap.add_argument("--quiet", type=float, default=0.0, metavar="SECONDS",
                    help="before each measured child, wait up to SECONDS until the machine's busy share "
                         "is below --max-busy (shared machine)")
    ap.add_argument("--max-busy", type=float, default=0.1)
    a = ap.parse_args()
    QUIET.update(max_busy=a.max_busy, max_wait_s=a.quiet)
    if a.what in ("table", "all"):
        table(a.runs)
    if a.what in ("fig9", "all"):
        fig9(a.runs, a.large, a.small, a.nsmall)
    if a.what in ("gomp", "all"):
        gomp(a.runs)
    if a.what in ("fig10", "all"):
        fig10(a.runs, a.n, a.density, a.reps, tuple(a.modes.split(",")))


if __name__ == "__main__":
    t0 = time.time()
    main()
    print(f"total {time.time() - t0:.0f} s")
