"""Where the BLAS libraries of the nested-blas scenario live, and which Debian package brings each."""
from __future__ import annotations

import glob
import importlib.util
import os
import sysconfig
from dataclasses import dataclass
from pathlib import Path


@dataclass(frozen=True)
class BlasLibrary:
    name: str            # short name used in case keys
    path: Path | None    # None: not installed here
    provider: str        # how to get it
    note: str            # threading model, shown in docs and JSON


def _multiarch_dir() -> Path:
    arch = sysconfig.get_config_var("MULTIARCH") or "x86_64-linux-gnu"
    return Path("/usr/lib") / arch


def numpy_openblas() -> Path | None:
    """The OpenBLAS bundled in numpy's wheel (numpy.libs/), found without importing numpy."""
    spec = importlib.util.find_spec("numpy")
    if spec is None or not spec.origin:
        return None
    site = Path(spec.origin).resolve().parent.parent
    hits = sorted(glob.glob(str(site / "numpy.libs" / "lib*openblas*.so*")))
    return Path(hits[0]) if hits else None


def _debian(sub: str, soname: str) -> Path | None:
    p = _multiarch_dir() / sub / soname
    return p if os.path.isfile(p) else None


def blas_libraries() -> list[BlasLibrary]:
    return [
        BlasLibrary("numpy-openblas", numpy_openblas(), "numpy wheel (pip)",
                    "OpenBLAS bundled with numpy; pthreads, spins without yielding"),
        BlasLibrary("openblas-pthread", _debian("openblas-pthread", "libopenblas.so.0"),
                    "Debian libopenblas0-pthread", "pthread pool, spins with sched_yield"),
        BlasLibrary("openblas-openmp", _debian("openblas-openmp", "libopenblas.so.0"),
                    "Debian libopenblas0-openmp", "OpenMP (libgomp) threads"),
        BlasLibrary("blis-pthread", _debian("blis-pthread", "libblis.so.4"),
                    "Debian libblis4-pthread", "pthreads created on every call"),
    ]
