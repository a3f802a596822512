"""Benchmarks of Python VLCs (routed and isolated), next to the VLC paper's Python figures.

    python3 benchmarks/vlc_python/bench.py table  [--runs 7]    # Tables 2/3 Python rows
    python3 benchmarks/vlc_python/bench.py fig9   [--runs 5]    # one large + many small matmuls
    python3 benchmarks/vlc_python/bench.py fig10  [--runs 5]    # two eigsh solves, 2 contexts
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


def _py(code: str, timeout: float = 600) -> dict:
    proc = subprocess.run([sys.executable, "-c", textwrap.dedent(code)], capture_output=True, text=True,
                          timeout=timeout)
    lines = [ln for ln in proc.stdout.splitlines() if ln.startswith("RESULT ")]
    if proc.returncode != 0 or not lines:
        raise RuntimeError(f"benchmark child failed rc={proc.returncode}\n{proc.stdout[-2000:]}\n{proc.stderr[-3000:]}")
    return json.loads(lines[-1][7:])


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


# --------------------------------------------------------------------------- Fig. 9
FIG9 = """
import json, os, threading, time
import numpy as np
from threadpoolctl import threadpool_limits
from corun import VLC
from corun.vlc import routed
LARGE, SMALL, NSMALL = {large}, {small}, {nsmall}
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
routed.enable()
L = VLC(cpus="0", name="large"); Sx = VLC(cpus="1", name="small")
with L: A[:8, :8] @ A[:8, :8]
with Sx: S[0][:8, :8] @ S[0][:8, :8]
res["contexts_s"] = two_threads(L, Sx)
print("RESULT " + json.dumps(res))
"""


def fig9(runs: int, large: int, small: int, nsmall: int) -> None:
    samples = [_py(FIG9.format(large=large, small=small, nsmall=nsmall)) for _ in range(runs)]
    med = {k: _med([x[k] for x in samples]) for k in samples[0]}
    out = {"environment": _env(), "params": {"large": large, "small": small, "nsmall": nsmall},
           "samples": samples, "medians": med,
           "ratios": {"speedup_contexts_vs_sequential": med["sequential_s"] / med["contexts_s"],
                      "speedup_threads_vs_sequential": med["sequential_s"] / med["threads_s"],
                      "contexts_makespan_over_ideal": med["contexts_s"] / med["ideal_s"],
                      "contexts_makespan_over_ideal_per_size": med["contexts_s"] / med["ideal_per_size_s"],
                      "sequential_over_ideal": med["sequential_s"] / med["ideal_s"]},
           "paper": {"python_speedup_contexts_vs_sequential": 1.2},
           "target": "contexts makespan within 5% of total work / measured matmul peak (ideal_s)"}
    _write("fig9", out)


# --------------------------------------------------------------------------- Fig. 10
FIG10 = """
import json, threading, time
import numpy as np
import scipy.sparse as sp
from corun import VLC
from corun.vlc import {mode}
{mode}.enable()
N = {n}
def matrix(seed):
    rng = np.random.default_rng(seed)
    m = sp.random(N, N, density={density}, random_state=seed, format="csr")
    return (m + m.T + sp.diags(rng.random(N) * 10)).tocsr()
def solve(m):
    import scipy.sparse.linalg
    return scipy.sparse.linalg.eigsh(m, k=10, which="LA", return_eigenvectors=False, tol=1e-8, maxiter=100000)
Ms = [matrix(1), matrix(2)]
ref = [np.sort(solve(m)) for m in Ms]
t = time.perf_counter()
for m in Ms: solve(m)
serial = time.perf_counter() - t
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
ts = [threading.Thread(target=work, args=(i,)) for i in range(2)]
t = time.perf_counter()
for x in ts: x.start()
for x in ts: x.join()
conc = time.perf_counter() - t
ok = all(np.allclose(out[i], ref[i], rtol=1e-6) for i in range(2))
print("RESULT " + json.dumps({{"serial_s": serial, "contexts_s": conc, "correct": bool(ok)}}))
"""


def fig10(runs: int, n: int, density: float) -> None:
    out = {"environment": _env(), "params": {"n": n, "density": density, "k": 10}, "samples": {}, "medians": {},
           "ratios": {}}
    for mode in ("routed", "isolated"):
        samples = [_py(FIG10.format(mode=mode, n=n, density=density)) for _ in range(runs)]
        out["samples"][mode] = samples
        med = {k: _med([x[k] for x in samples]) for k in ("serial_s", "contexts_s")}
        out["medians"][mode] = med
        out["ratios"][f"{mode}_speedup"] = med["serial_s"] / med["contexts_s"]
        out["ratios"][f"{mode}_all_correct"] = all(x["correct"] for x in samples)
    out["paper"] = {"python_speedup": 1.51, "cxx_speedup": 1.96}
    out["target"] = ">= 1.8 x on 2 cores"
    _write("fig10", out)


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("what", choices=["table", "fig9", "fig10", "all"])
    ap.add_argument("--runs", type=int, default=5)
    ap.add_argument("--large", type=int, default=2000)
    ap.add_argument("--small", type=int, default=500)
    ap.add_argument("--nsmall", type=int, default=64)
    ap.add_argument("--n", type=int, default=8000)
    ap.add_argument("--density", type=float, default=0.002)
    a = ap.parse_args()
    if a.what in ("table", "all"):
        table(a.runs)
    if a.what in ("fig9", "all"):
        fig9(a.runs, a.large, a.small, a.nsmall)
    if a.what in ("fig10", "all"):
        fig10(a.runs, a.n, a.density)


if __name__ == "__main__":
    t0 = time.time()
    main()
    print(f"total {time.time() - t0:.0f} s")
