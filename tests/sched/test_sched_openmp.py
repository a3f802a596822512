"""OpenMP programs with more threads than cores finish under corun with correct results.

libgomp (gcc -fopenmp) waits with raw futex syscalls corun cannot intercept (the safety net must
take the core of a thread asleep in a barrier and bring it back: see watchdog.c and preempt.c);
LLVM libomp waits through interposable pthread calls. The same object file (gcc -fopenmp -c) is
linked once against each runtime (libomp implements the GOMP_* entry points gcc emits).
c/omp.c checks its own results: reductions, barriers (every thread arrived), critical sections,
atomics and tasks, and that the team has the size asked for.
"""
from __future__ import annotations

import os
import subprocess

import pytest

from sched_support import C_DIR, NCPUS, clean_environ, compile_c

LIBOMP_DIR = "/usr/lib/llvm-14/lib"


def build(cbuild, runtime: str):
    if runtime == "gomp":
        return compile_c("omp.c", cbuild, "-fopenmp", name="omp-gomp")
    if not os.path.exists(f"{LIBOMP_DIR}/libomp.so"):
        pytest.skip("LLVM libomp not installed (Debian package libomp-dev)")
    return _build_llvm(cbuild)


def _build_llvm(cbuild):
    # Compile with gcc's OpenMP lowering, link against libomp instead of libgomp.
    obj = cbuild / "omp-llvm.o"
    exe = cbuild / "omp-llvm"
    if not exe.exists():
        src = C_DIR / "omp.c"
        for cmd in (["gcc", "-O2", "-fopenmp", "-c", "-o", str(obj), str(src)],
                    ["gcc", "-o", str(exe), str(obj), f"-L{LIBOMP_DIR}", "-lomp", f"-Wl,-rpath,{LIBOMP_DIR}",
                     "-pthread"]):
            r = subprocess.run(cmd, capture_output=True, text=True, timeout=120)
            assert r.returncode == 0, r.stderr
    ldd = subprocess.run(["ldd", str(exe)], capture_output=True, text=True, timeout=30).stdout
    assert "libomp.so" in ldd and "libgomp" not in ldd, ldd
    return exe


def plain(exe, reps: int, env: dict) -> str:
    r = subprocess.run([exe, str(reps)], capture_output=True, text=True, timeout=120, env=clean_environ(env))
    assert r.returncode == 0, r.stdout + r.stderr
    return r.stdout.strip()


@pytest.mark.parametrize("runtime", ["gomp", "llvm"])
@pytest.mark.parametrize("nthreads", [4, 8])
def test_openmp_oversubscribed_one_process(instance, cbuild, runtime, nthreads):
    exe = build(cbuild, runtime)
    reps = 150 if nthreads == 4 else 80
    env = {"OMP_NUM_THREADS": str(nthreads)}
    want = plain(exe, reps, env)
    r = instance.run([exe, reps], env=env, timeout=120)
    assert r.stdout.strip() == want, (r.stdout, r.stderr)
    assert want.startswith(f"OK threads={nthreads} ")


@pytest.mark.parametrize("runtime", ["gomp", "llvm"])
def test_openmp_two_processes_x_two_threads(instance, cbuild, runtime):
    exe = build(cbuild, runtime)
    env = {"OMP_NUM_THREADS": "2"}
    want = plain(exe, 150, env)
    r = instance.run(["sh", "-c", f'"{exe}" 150 & "{exe}" 150; wait $!'], env=env, timeout=120)
    lines = r.stdout.strip().splitlines()
    assert lines == [want, want], (r.stdout, r.stderr)


@pytest.mark.parametrize("runtime", ["gomp", "llvm"])
def test_openmp_default_team_size_is_what_plain_sees(instance, cbuild, runtime):
    """Without OMP_NUM_THREADS the runtime sizes its team from the affinity: under corun the
    get calls must report the managed set, not the single CPU a running thread is pinned to."""
    exe = build(cbuild, runtime)
    want = plain(exe, 20, {})
    assert want.startswith(f"OK threads={NCPUS} ")
    r = instance.run([exe, 20], timeout=120)
    assert r.stdout.strip() == want, (r.stdout, r.stderr)
