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
