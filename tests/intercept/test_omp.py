"""LLVM libomp (Debian libomp-dev) with more threads than cores: every wait of libomp is
interposable (pthread condvars and mutexes, sched_yield, futexes through syscall()), so the run must
finish with the same results as plain. Skipped where libomp is not installed."""
from __future__ import annotations

import glob
import subprocess
from pathlib import Path

import pytest

LIBOMP_DIRS = sorted(glob.glob("/usr/lib/llvm-*/lib"), reverse=True)


def _libomp_dir() -> str | None:
    for d in LIBOMP_DIRS:
        if glob.glob(f"{d}/libomp.so*"):
            return d
    return None


@pytest.fixture(scope="module")
def omp_exe(build_c, tmp_path_factory):
    d = _libomp_dir()
    if d is None:
        pytest.skip("LLVM libomp not installed (libomp-dev)")
    out = tmp_path_factory.mktemp("omp")
    obj, exe = out / "omp.o", out / "omp_llvm"
    src = Path(__file__).resolve().parent / "c" / "omp.c"
    subprocess.run(["gcc", "-O2", "-fopenmp", "-c", str(src), "-o", str(obj)], check=True, timeout=120,
                   capture_output=True)
    subprocess.run(["gcc", str(obj), "-o", str(exe), f"-L{d}", f"-Wl,-rpath,{d}", "-lomp", "-pthread"],
                   check=True, timeout=120, capture_output=True)
    return exe


def test_libomp_more_threads_than_cores(omp_exe, run_pair):
    pair = run_pair(omp_exe, tag="omp", timeout=60)
    assert pair.plain.returncode == 0, pair.plain.stdout
    pair.assert_same()


def test_libomp_one_core(omp_exe, run_pair):
    pair = run_pair(omp_exe, tag="omp1", cpus="0", timeout=60)
    pair.assert_same()
