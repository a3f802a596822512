"""Routed Python VLCs: numpy/scipy imported once, their OpenBLAS calls run on per-context instances.

Routing patches process-wide state (GOT slots of numpy's extensions), so every scenario runs in a
fresh interpreter and reports JSON back.
"""
from __future__ import annotations

import ctypes
import json
import os
import subprocess
import sys
import textwrap

import pytest

np = pytest.importorskip("numpy")
pytest.importorskip("elftools")
pytest.importorskip("threadpoolctl")

from corun._native import NATIVE_DIR  # noqa: E402

NEEDED = ["libcorun_vlc_route.so", "libcorun_vlc.so", "libcorun_vlc_root.so"]
pytestmark = pytest.mark.skipif(
    any(not (NATIVE_DIR / n).exists() for n in NEEDED) or sys.platform != "linux" or os.uname().machine != "x86_64",
    reason="needs x86-64 Linux and corun's native libraries (python3 native/build.py)")

PRELUDE = """
import json, os, sys, threading
import numpy as np
def affinity(tid):
    with open(f"/proc/self/task/{tid}/status") as f:
        for line in f:
            if line.startswith("Cpus_allowed_list"):
                return line.split()[1]
def emit(obj):
    print("RESULT " + json.dumps(obj))
"""


def run(code: str, timeout: float = 120, env: dict | None = None) -> dict:
    proc = subprocess.run([sys.executable, "-c", PRELUDE + textwrap.dedent(code)], capture_output=True,
                          text=True, timeout=timeout, env={**os.environ, **(env or {})})
    lines = [ln for ln in proc.stdout.splitlines() if ln.startswith("RESULT ")]
    assert proc.returncode == 0 and lines, f"rc={proc.returncode}\n{proc.stdout}\n{proc.stderr}"
    return json.loads(lines[-1][7:])


def test_trampoline_routes_by_thread_table():
    from corun.vlc._py_trampoline import RouteTLS, TrampolinePool
    import threading

    tls = RouteTLS()
    libc = ctypes.CDLL(None)
    original = ctypes.cast(libc.labs, ctypes.c_void_p).value
    cb_type = ctypes.CFUNCTYPE(ctypes.c_long, ctypes.c_long)
    plus = cb_type(lambda x: 1000 + x)
    pool = TrampolinePool(tls.tpoff)
    f = cb_type(pool.add(5, original))
    pool.seal()
    table = (ctypes.c_void_p * 8)()
    table[5] = ctypes.cast(plus, ctypes.c_void_p).value
    assert f(-7) == 7                                  # no table: the original
    prev = tls.swap(ctypes.addressof(table))
    try:
        assert f(-7) == 993                            # this thread's table
        other = []
        t = threading.Thread(target=lambda: other.append(f(-7)))
        t.start()
        t.join()
        assert other == [7]                            # another thread: still the original
    finally:
        tls.swap(prev)
    assert f(-7) == 7


def test_patch_numpy_and_unchanged_outside():
    r = run("""
        from threadpoolctl import threadpool_limits
        import numpy.linalg
        x = np.random.default_rng(0).random((300, 300))
        before = (x @ x, np.linalg.solve(x, x[:, 0]))
        from corun.vlc import routed
        r = routed.enable()
        mods = [os.path.basename(p).split(".")[0] for p in r.patched_modules()]
        after = (x @ x, np.linalg.solve(x, x[:, 0]))
        n = len(r.symbols())
        routed.disable()
        emit({"mods": mods, "n": n, "same": all(np.array_equal(a, b) for a, b in zip(before, after))})
    """)
    assert "_multiarray_umath" in r["mods"] and "_umath_linalg" in r["mods"]
    assert r["n"] >= 20
    assert r["same"]


def test_two_threads_two_contexts_cpus_threads_and_bits():
    r = run("""
        from threadpoolctl import threadpool_limits, threadpool_info
        from corun import VLC
        from corun.vlc import routed
        routed.enable()
        x = np.random.default_rng(1).random((700, 700))
        with threadpool_limits(1):
            ref1 = x @ x
        ref2 = x @ x
        ctxs = [VLC(cpus="0", name="A"), VLC(cpus="1", name="B")]
        out, barrier = {}, threading.Barrier(2)
        def work(ctx):
            with ctx:
                barrier.wait()
                tid = threading.get_native_id()
                res = [x @ x for _ in range(30)]
                insts = routed.current_instances()
                tpi = [d for d in threadpool_info() if d.get("vlc")]
                out[ctx.name] = {"aff": affinity(tid), "bits": all(np.array_equal(y, ref1) for y in res),
                                 "nthreads": [i.num_threads for i in insts],
                                 "tpi": [(d["vlc"], d["num_threads"]) for d in tpi],
                                 "workers": ctx.threads()[1]}
        ts = [threading.Thread(target=work, args=(c,)) for c in ctxs]
        for t in ts: t.start()
        for t in ts: t.join()
        out["outside_tpi"] = [d.get("vlc") for d in threadpool_info()]
        out["ref_differs"] = not np.array_equal(ref1, ref2)
        emit(out)
    """)
    for name, cpu in (("A", "0"), ("B", "1")):
        assert r[name]["aff"] == cpu                       # the caller runs on its context's CPU
        assert r[name]["nthreads"] == [1]                  # the instance sized itself to 1 CPU
        assert r[name]["tpi"] == [[name, 1]]              # threadpoolctl sees the instance
        assert r[name]["workers"] == 0                     # a 1-CPU OpenBLAS starts no workers
        assert r[name]["bits"]                             # bit-identical to plain numpy, 1 thread
    assert r["outside_tpi"] == [None]                      # outside: the base instance only


def test_two_cpu_context_uses_its_own_pool():
    r = run("""
        from threadpoolctl import threadpool_limits
        from corun import VLC
        from corun.vlc import routed
        routed.enable()
        x = np.random.default_rng(2).random((1200, 1200))
        with threadpool_limits(2):
            ref = x @ x
        ctx = VLC(cpus="0-1", name="W")
        def cpu_ticks(tid):
            with open(f"/proc/self/task/{tid}/stat") as f:
                s = f.read().rsplit(")", 1)[1].split()
            return int(s[11]) + int(s[12])
        with ctx:
            y = x @ x
            workers, started = ctx.threads()
            t0 = {t: cpu_ticks(t) for t in workers}
            for _ in range(5):
                y = x @ x
            t1 = {t: cpu_ticks(t) for t in workers}
            n = routed.current_instances()[0].num_threads
            affs = sorted({affinity(t) for t in workers})
        emit({"n": n, "started": started, "worker_ticks": sum(t1.values()) - sum(t0.values()),
              "affs": affs, "bits": bool(np.array_equal(y, ref))})
    """)
    assert r["n"] == 2
    assert r["started"] >= 1 and r["affs"] == ["0-1"]
    assert r["worker_ticks"] > 0             # the context's own pool worker computed
    assert r["bits"]                         # same thread count as plain numpy: same bits


def test_modules_imported_later_are_routed_and_scipy():
    pytest.importorskip("scipy")
    r = run("""
        from corun import VLC
        from corun.vlc import routed
        r = routed.enable()
        before = set(r.patched_modules())
        import scipy.linalg, scipy.sparse, scipy.sparse.linalg
        ctx = VLC(cpus="0", name="S")
        a = np.random.default_rng(3).random((200, 200)); a = a + a.T
        with ctx:
            w = scipy.linalg.eigh(a, eigvals_only=True)
            ev = scipy.sparse.linalg.eigsh(scipy.sparse.csr_matrix(a), k=3, which="LA", return_eigenvectors=False)
            libs = sorted(os.path.basename(i.library) for i in routed.current_instances())
        after = set(r.patched_modules())
        new = sorted(os.path.basename(p).split(".")[0] for p in after - before)
        emit({"new": new, "libs": libs, "ok": bool(np.allclose(np.sort(ev), np.sort(w)[-3:]))})
    """)
    assert "_flapack" in r["new"] and "_fblas" in r["new"]
    assert any(lib.startswith("libscipy_openblas-") for lib in r["libs"])
    assert any(lib.startswith("libscipy_openblas64_") for lib in r["libs"])
    assert r["ok"]


def test_fork_after_multithreaded_instance():
    r = run("""
        from corun import VLC
        from corun.vlc import routed
        routed.enable()
        x = np.random.default_rng(4).random((600, 600))
        ctx = VLC(cpus="0-1", name="F")
        with ctx:
            y = x @ x
        pid = os.fork()
        if pid == 0:
            with ctx:
                z = x @ x
            os._exit(0 if np.allclose(z, y) else 3)
        import time
        deadline = time.time() + 30
        while time.time() < deadline:
            done, status = os.waitpid(pid, os.WNOHANG)
            if done:
                break
            time.sleep(0.05)
        else:
            os.kill(pid, 9); os.waitpid(pid, 0); status = -1
        with ctx:
            z = x @ x
        emit({"status": status, "parent_ok": bool(np.allclose(z, y))})
    """)
    assert r["status"] == 0
    assert r["parent_ok"]


def test_threadpoolctl_cached_controller_is_per_context():
    r = run("""
        import threadpoolctl
        from threadpoolctl import threadpool_limits, get_cached_controller
        from corun import VLC
        from corun.vlc import routed
        routed.enable()
        x = np.ones((300, 300))
        base_before = [lc.num_threads for lc in threadpoolctl.get_cached_controller().lib_controllers]
        a, b = VLC(cpus="0-1", name="A"), VLC(cpus="0-1", name="B")
        @threadpool_limits.wrap(limits=1, user_api="blas")
        def limited():
            return routed.current_instances()[0].num_threads
        out = {}
        for ctx in (a, b):
            with ctx:
                x @ x
                c = threadpoolctl.get_cached_controller()
                out[ctx.name] = {"vlc": [getattr(lc, "vlc", None) for lc in c.lib_controllers],
                                 "same_again": c is threadpoolctl.get_cached_controller(),
                                 "before": routed.current_instances()[0].num_threads,
                                 "limited": limited(),
                                 "after": routed.current_instances()[0].num_threads}
        outside = threadpoolctl.get_cached_controller()
        out["outside_vlc"] = [getattr(lc, "vlc", None) for lc in outside.lib_controllers]
        out["base_after"] = [lc.num_threads for lc in outside.lib_controllers]
        out["base_before"] = base_before
        a.close(); b.close()
        emit(out)
    """)
    for name in ("A", "B"):
        assert name in r[name]["vlc"] and r[name]["same_again"]
        assert r[name]["before"] == 2 and r[name]["limited"] == 1 and r[name]["after"] == 2
    assert not any(r["outside_vlc"])
    assert r["base_after"] == r["base_before"]
