"""Helpers shared by the VLC tests (imported as a plain module: tests/vlc is on sys.path)."""
from __future__ import annotations

import glob
import os
import shutil
import subprocess
import sysconfig
from pathlib import Path

import pytest

HERE = Path(__file__).resolve().parent
REPO = HERE.parents[1]
C_DIR = HERE / "c"

DEBIAN_OPENBLAS = "/usr/lib/x86_64-linux-gnu/openblas-pthread/libopenblas.so.0"
DEBIAN_BLIS = "/usr/lib/x86_64-linux-gnu/blis-pthread/libblis.so.4"
DEBIAN_ARPACK = "/usr/lib/x86_64-linux-gnu/libarpack.so.2"


def require(path: str, package: str) -> str:
    if not os.path.exists(path):
        pytest.skip(f"{path} missing (Debian package {package} not installed)")
    return path


def numpy_openblas() -> str:
    site = sysconfig.get_paths()["purelib"]
    found = sorted(glob.glob(os.path.join(site, "numpy.libs", "libscipy_openblas*.so")))
    if not found:
        pytest.skip("numpy's bundled OpenBLAS (numpy.libs/libscipy_openblas*.so) not found")
    return found[0]


def compile_c(src: Path, out: Path, *args: str, shared: bool = True) -> Path:
    if shutil.which("gcc") is None:
        pytest.skip("gcc not available")
    cmd = ["gcc", "-O2", "-std=gnu11", "-Wall", *(["-shared", "-fPIC"] if shared else []), "-o", str(out),
           str(src), *args]
    r = subprocess.run(cmd, capture_output=True, text=True)
    if r.returncode:
        raise AssertionError(f"compile failed: {' '.join(cmd)}\n{r.stderr}")
    return out


def task_cpus(tid: int) -> str:
    for line in open(f"/proc/self/task/{tid}/status"):
        if line.startswith("Cpus_allowed_list:"):
            return line.split(":", 1)[1].strip()
    raise AssertionError("no Cpus_allowed_list")


def dgemm_args(n: int, seed: int):
    """Two random n x n matrices (row-major float64), their product, and an output buffer."""
    import numpy as np

    rng = np.random.default_rng(seed)
    a, b = rng.standard_normal((n, n)), rng.standard_normal((n, n))
    return a, b, a @ b, np.zeros((n, n))


class Blas:
    """cblas_dgemm and the thread-count getters of one BLAS instance, typed for ctypes.
    ``ilp64``: 64-bit integers (numpy's bundled scipy-openblas)."""

    def __init__(self, lib, dgemm: str, get_threads: str, get_procs: str | None = None, ilp64: bool = False):
        import ctypes

        self.lib = lib
        it = ctypes.c_int64 if ilp64 else ctypes.c_int
        self.dgemm_fn = lib[dgemm]
        self.dgemm_fn.restype = None
        self.dgemm_fn.argtypes = [ctypes.c_int] * 3 + [it] * 3 + [ctypes.c_double, ctypes.c_void_p, it,
                                                                    ctypes.c_void_p, it, ctypes.c_double,
                                                                    ctypes.c_void_p, it]
        self.get_threads = lib[get_threads]
        self.get_threads.restype = ctypes.c_int
        self.get_procs = lib[get_procs] if get_procs else None
        if self.get_procs is not None:
            self.get_procs.restype = ctypes.c_int

    def dgemm(self, a, b, c) -> None:
        n = a.shape[0]
        ptr = lambda m: m.ctypes.data  # noqa: E731
        self.dgemm_fn(101, 111, 111, n, n, n, 1.0, ptr(a), n, ptr(b), n, 0.0, ptr(c), n)


def debian_openblas(lib) -> Blas:
    return Blas(lib, "cblas_dgemm", "openblas_get_num_threads", "openblas_get_num_procs")


def numpy_openblas_api(lib) -> Blas:
    return Blas(lib, "scipy_cblas_dgemm64_", "scipy_openblas_get_num_threads64_",
                "scipy_openblas_get_num_procs64_", ilp64=True)


def wait_threads(v, n: int, timeout: float = 10.0) -> list[int]:
    """The context's live threads once n of them have started (they register themselves)."""
    import time

    deadline = time.monotonic() + timeout
    while True:
        tids, _ = v.threads()
        if len(tids) >= n or time.monotonic() > deadline:
            return tids
        time.sleep(0.005)
