"""Routed Python VLCs and libgomp: an OpenMP region started inside ``with ctx:`` by a compiled
extension (or a ctypes-loaded library) runs on the context's own libgomp, with the context's thread
count and CPUs, on the master and on every worker thread of the team.

The extension (c/omp_ext.c + c/omp_team.c) is compiled here with ``gcc -fopenmp``. Without the
namespace root handing the context's routing table to the threads it starts, the team's workers
call omp_get_thread_num/GOMP_barrier through the extension's GOT into the *base* libgomp, which
does not know them: the region deadlocks (the subprocess timeout turns that into a failure).
Each scenario runs in a fresh interpreter (routing patches process-wide state).
"""
from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
import sysconfig
import textwrap
from pathlib import Path

import pytest

pytest.importorskip("elftools")

from corun._native import NATIVE_DIR  # noqa: E402
from vlc_support import C_DIR  # noqa: E402

NEEDED = ["libcorun_vlc_route.so", "libcorun_vlc.so", "libcorun_vlc_root.so"]
pytestmark = pytest.mark.skipif(
    any(not (NATIVE_DIR / n).exists() for n in NEEDED) or sys.platform != "linux" or os.uname().machine != "x86_64",
    reason="needs x86-64 Linux and corun's native libraries (python3 native/build.py)")

CPUS = sorted(os.sched_getaffinity(0))


def _gcc(*args: str) -> None:
    r = subprocess.run(["gcc", "-O2", "-fopenmp", "-shared", "-fPIC", *args], capture_output=True, text=True)
    if r.returncode:
        if "omp.h" in r.stderr or "-lgomp" in r.stderr or "libgomp" in r.stderr:
            pytest.skip(f"gcc cannot build OpenMP code here: {r.stderr.strip()[:200]}")
        raise AssertionError(r.stderr)


@pytest.fixture(scope="module")
def omp_build(tmp_path_factory) -> Path:
    if shutil.which("gcc") is None:
        pytest.skip("gcc not available")
    out = tmp_path_factory.mktemp("omp_ext")
    inc = sysconfig.get_paths()["include"]
    if not os.path.exists(os.path.join(inc, "Python.h")):
        pytest.skip("Python.h not available")
    _gcc(f"-I{inc}", str(C_DIR / "omp_ext.c"), str(C_DIR / "omp_team.c"),
         "-o", str(out / ("omp_ext" + sysconfig.get_config_var("EXT_SUFFIX"))))
    _gcc(str(C_DIR / "omp_team.c"), "-o", str(out / "libomp_team.so"))
    return out


PRELUDE = """
import json, os, sys, threading
sys.path.insert(0, BUILD)
import omp_ext
from corun import VLC
from corun.vlc import routed
def affinity(tid):
    with open(f"/proc/self/task/{tid}/status") as f:
        for line in f:
            if line.startswith("Cpus_allowed_list"):
                return line.split()[1]
def cpus(mask):
    return sorted(c for c in range(64) if mask >> c & 1)
def team():
    n, members, s, maxt = omp_ext.team()
    return {"n": n, "nums": sorted(m[0] for m in members), "tids": [m[1] for m in members],
            "cpus": sorted({c for m in members for c in cpus(m[2])}), "sum": s, "max": maxt,
            "caller": threading.get_native_id()}
def emit(obj):
    print("RESULT " + json.dumps(obj))
"""


def run(build: Path, code: str, timeout: float = 60) -> dict:
    src = f"BUILD = {str(build)!r}\n" + PRELUDE + textwrap.dedent(code)
    try:
        proc = subprocess.run([sys.executable, "-c", src], capture_output=True, text=True, timeout=timeout)
    except subprocess.TimeoutExpired as e:
        raise AssertionError(f"timed out (an OpenMP region deadlocked?)\n{e.stdout}\n{e.stderr}") from None
    lines = [ln for ln in proc.stdout.splitlines() if ln.startswith("RESULT ")]
    assert proc.returncode == 0 and lines, f"rc={proc.returncode}\n{proc.stdout}\n{proc.stderr}"
    return json.loads(lines[-1][7:])


def test_region_in_context_uses_context_libgomp(omp_build):
    cpu = CPUS[-1]
    r = run(omp_build, f"""
        plain = team()
        routed.enable()
        assert any("libgomp" in lib for lib in routed.router().routed_libraries())
        ctx = VLC(cpus=[{cpu}], env={{"OMP_NUM_THREADS": "3"}})
        with ctx:
            inside = [team() for _ in range(5)]
            infos = routed.info()
            aff = {{t: affinity(t) for d in inside for t in d["tids"]}}   # /proc: what the kernel enforces
            workers, started = ctx.threads()
        left, _ = ctx.threads()       # leaving ended this thread's pool in ctx's libgomp
        after = team()
        ctx.close()
        emit({{"plain": plain, "inside": inside, "after": after, "ctx_threads": workers, "left": left,
              "started": started, "affinity": aff, "info": infos}})
    """)
    plain, after = r["plain"], r["after"]
    assert plain["n"] == len(CPUS) and plain["nums"] == list(range(len(CPUS)))
    for d in r["inside"]:
        assert d["n"] == 3 and d["max"] == 3                    # the context's thread count
        assert d["nums"] == [0, 1, 2]                           # every member knows its number
        assert d["cpus"] == [cpu]                               # every member on the context's CPU
        assert d["sum"] == plain["sum"]                         # same result as plain
        workers = set(d["tids"]) - {d["caller"]}
        assert len(workers) == 2 and workers <= set(r["ctx_threads"])   # started by the context's instance
    assert r["inside"][0]["tids"] and all(a == str(cpu) for a in r["affinity"].values())
    assert r["started"] == 2                                    # one pool, reused by the 5 regions
    assert r["left"] == []
    assert any("libgomp" in i["library"] and i["num_threads"] == 3 for i in r["info"])
    # Outside: the base libgomp, its own workers, unchanged.
    assert after["n"] == plain["n"] and after["max"] == plain["max"] and after["sum"] == plain["sum"]
    assert not (set(after["tids"]) & set(r["ctx_threads"]))


def test_context_cpus_size_the_team(omp_build):
    r = run(omp_build, f"""
        routed.enable()
        one, every = VLC(cpus=[{CPUS[0]}]), VLC(cpus={CPUS!r})
        with one:
            a = team()
        with every:
            b = team()
        one.close(); every.close()
        emit({{"one": a, "every": b}})
    """)
    assert r["one"]["n"] == 1 and r["one"]["cpus"] == [CPUS[0]]
    assert r["every"]["n"] == len(CPUS) and r["every"]["nums"] == list(range(len(CPUS)))
    assert r["every"]["cpus"] == CPUS


def test_two_threads_two_contexts_concurrently(omp_build):
    c0, c1 = CPUS[0], CPUS[-1]
    r = run(omp_build, f"""
        routed.enable()
        ctxs = {{"a": VLC(cpus=[{c0}], env={{"OMP_NUM_THREADS": "2"}}, name="a"),
                "b": VLC(cpus=[{c1}], env={{"OMP_NUM_THREADS": "3"}}, name="b")}}
        out, threads, left = {{}}, {{}}, {{}}
        start = threading.Barrier(2)
        def work(name):
            with ctxs[name]:
                start.wait()
                out[name] = [team() for _ in range(40)]
                threads[name] = ctxs[name].threads()[0]
            left[name] = ctxs[name].threads()[0]
        ts = [threading.Thread(target=work, args=(n,)) for n in ctxs]
        for t in ts: t.start()
        for t in ts: t.join()
        plain = team()
        for c in ctxs.values(): c.close()
        emit({{"out": out, "threads": threads, "left": left, "plain": plain}})
    """, timeout=120)
    expect = {"a": (2, c0), "b": (3, c1)}
    tids = {}
    for name, (n, cpu) in expect.items():
        runs = r["out"][name]
        assert len(runs) == 40
        for d in runs:
            assert d["n"] == n and d["nums"] == list(range(n)) and d["cpus"] == [cpu]
            assert d["sum"] == r["plain"]["sum"]
        tids[name] = {t for d in runs for t in d["tids"]} - {runs[0]["caller"]}
        assert tids[name] <= set(r["threads"][name])
        assert r["left"][name] == []
    assert not tids["a"] & tids["b"]


def test_ctypes_loaded_library(omp_build):
    cpu = CPUS[-1]
    r = run(omp_build, f"""
        import ctypes
        lib = ctypes.CDLL(os.path.join(BUILD, "libomp_team.so"))
        def cteam():
            n, s, mx = ctypes.c_int(), ctypes.c_long(), ctypes.c_int()
            nums, tids, masks = (ctypes.c_int * 64)(), (ctypes.c_int * 64)(), (ctypes.c_uint64 * 64)()
            k = lib.omp_team(ctypes.byref(n), nums, tids, masks, 64, ctypes.byref(s), ctypes.byref(mx))
            return {{"n": n.value, "nums": sorted(nums[:k]), "cpus": sorted({{c for m in masks[:k] for c in cpus(m)}}),
                    "sum": s.value}}
        plain = cteam()
        routed.enable()
        added = routed.add_library(lib)
        ctx = VLC(cpus=[{cpu}], env={{"OMP_NUM_THREADS": "3"}})
        with ctx:
            inside = cteam()
        ctx.close()
        emit({{"plain": plain, "inside": inside, "added": added, "after": cteam()}})
    """)
    assert r["added"] >= 5
    assert r["inside"]["n"] == 3 and r["inside"]["nums"] == [0, 1, 2] and r["inside"]["cpus"] == [cpu]
    assert r["inside"]["sum"] == r["plain"]["sum"]
    assert r["after"] == r["plain"]
