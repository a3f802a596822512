"""Compile the C workloads on first use into a cache keyed by source, recipe and compiler.

Cache: ``$CORUN_CACHE_DIR`` or ``$XDG_CACHE_HOME/corun/workloads`` (``~/.cache/corun/workloads``).
Recipes: ``pthread`` (plain C with pthreads and dlopen), ``libgomp`` (``gcc -fopenmp``) and
``libomp`` (the same objects, compiled with ``gcc -fopenmp``, linked against LLVM's libomp instead
of libgomp; libomp implements libgomp's ABI, so no clang is needed).
"""
from __future__ import annotations

import glob
import hashlib
import os
import shutil
import subprocess
import tempfile
from functools import lru_cache
from pathlib import Path

RECIPES = ("pthread", "libgomp", "libomp")


class ToolchainError(RuntimeError):
    """A workload cannot be built here (no compiler, no OpenMP runtime); one-line message."""


def cache_dir() -> Path:
    if os.environ.get("CORUN_CACHE_DIR"):
        return Path(os.environ["CORUN_CACHE_DIR"])
    base = os.environ.get("XDG_CACHE_HOME") or os.path.join(os.path.expanduser("~"), ".cache")
    return Path(base) / "corun" / "workloads"


def compiler() -> str:
    cc = shutil.which(os.environ.get("CC", "gcc")) or shutil.which("cc")
    if not cc:
        raise ToolchainError("no C compiler found (install gcc)")
    return cc


@lru_cache(maxsize=None)
def _compiler_version(cc: str) -> str:
    try:
        return subprocess.run([cc, "--version"], capture_output=True, text=True, timeout=30).stdout
    except (OSError, subprocess.SubprocessError):
        return ""


def find_libomp() -> Path | None:
    """LLVM's OpenMP runtime (Debian: libomp-dev), newest LLVM first, or None."""
    candidates = sorted(glob.glob("/usr/lib/llvm-*/lib/libomp.so*"), reverse=True)
    candidates += ["/usr/lib/x86_64-linux-gnu/libomp.so.5", "/usr/lib/x86_64-linux-gnu/libomp.so",
                   "/usr/local/lib/libomp.so", "/usr/lib64/libomp.so", "/usr/lib/libomp.so"]
    for c in candidates:
        if os.path.isfile(c):
            return Path(c).resolve()
    return None


def _commands(recipe: str, cc: str, src: Path, out: Path, tmp: Path) -> list[list[str]]:
    base = [cc, "-O2", "-std=gnu11", "-Wall"]
    if recipe == "pthread":
        return [[*base, "-pthread", str(src), "-o", str(out), "-ldl", "-lm"]]
    if recipe == "libgomp":
        return [[*base, "-fopenmp", str(src), "-o", str(out), "-ldl", "-lm"]]
    if recipe == "libomp":
        omp = find_libomp()
        if omp is None:
            raise ToolchainError("LLVM libomp not found (Debian package libomp-dev)")
        obj = tmp / "workload.o"
        return [[*base, "-fopenmp", "-c", str(src), "-o", str(obj)],
                [cc, str(obj), "-o", str(out), str(omp), f"-Wl,-rpath,{omp.parent}", "-pthread",
                 "-ldl", "-lm"]]
    raise ValueError(f"unknown recipe {recipe!r} (known: {', '.join(RECIPES)})")


def _key(recipe: str, cc: str, src: Path) -> str:
    h = hashlib.sha256()
    h.update(src.read_bytes())
    h.update(recipe.encode())
    h.update(cc.encode())
    h.update(_compiler_version(cc).encode())
    if recipe == "libomp":
        h.update(str(find_libomp()).encode())
    return h.hexdigest()[:16]


def build(source: Path, recipe: str) -> Path:
    """Path of the executable built from ``source`` with ``recipe``; compiles it if not cached."""
    cc = compiler()
    out = cache_dir() / f"{source.stem}-{recipe}-{_key(recipe, cc, source)}"
    if out.exists():
        return out
    out.parent.mkdir(parents=True, exist_ok=True)
    with tempfile.TemporaryDirectory(dir=out.parent, prefix=".build-") as tmp:
        staged = Path(tmp) / out.name
        for cmd in _commands(recipe, cc, source, staged, Path(tmp)):
            proc = subprocess.run(cmd, capture_output=True, text=True, timeout=300)
            if proc.returncode != 0:
                first = (proc.stderr.strip().splitlines() or ["(no output)"])[-1]
                raise ToolchainError(f"cannot build {source.name} ({recipe}): {first}")
        os.replace(staged, out)  # atomic: concurrent benches never see a half-written binary
    return out
