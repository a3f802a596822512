"""C workloads are compiled once into a cache keyed by source and recipe."""
from __future__ import annotations

import json
import os
import subprocess

import pytest

from corun.bench import toolchain, workloads

pytestmark = pytest.mark.skipif(not any(os.access(os.path.join(d, "gcc"), os.X_OK)
                                        for d in os.environ.get("PATH", "").split(":")),
                                reason="gcc not installed")


@pytest.fixture
def cache(tmp_path, monkeypatch):
    monkeypatch.setenv("CORUN_CACHE_DIR", str(tmp_path / "cache"))
    return tmp_path / "cache"


def _run(exe, *args, threads=2):
    env = dict(os.environ, OMP_NUM_THREADS=str(threads))
    p = subprocess.run([str(exe), *map(str, args)], input="go\n", capture_output=True, text=True,
                       env=env, timeout=60)
    assert p.returncode == 0, p.stderr
    lines = p.stdout.strip().splitlines()
    assert lines[0] == "READY"
    return json.loads(lines[-1])


def test_build_is_cached_and_rebuilt_when_source_changes(cache, tmp_path):
    exe = toolchain.build(workloads.path("omp_for.c"), "libgomp")
    assert exe.parent == cache and os.access(exe, os.X_OK)
    mtime = exe.stat().st_mtime_ns
    assert toolchain.build(workloads.path("omp_for.c"), "libgomp") == exe
    assert exe.stat().st_mtime_ns == mtime
    changed = tmp_path / "omp_for.c"
    changed.write_text(workloads.path("omp_for.c").read_text() + "\n/* changed */\n")
    assert toolchain.build(changed, "libgomp") != exe


def test_libgomp_and_libomp_builds_load_their_runtime(cache):
    out = _run(toolchain.build(workloads.path("omp_for.c"), "libgomp"), 20, 64)
    assert "libgomp" in out["runtime"] and out["threads"] == 2 and out["t1"] >= out["t0"]
    if toolchain.find_libomp() is None:
        pytest.skip("LLVM libomp not installed (libomp-dev)")
    out = _run(toolchain.build(workloads.path("omp_for.c"), "libomp"), 20, 64, threads=3)
    assert "libomp" in out["runtime"] and "libgomp" not in out["runtime"]
    assert out["threads"] == 3


def test_compile_error_is_a_toolchain_error(cache, tmp_path):
    bad = tmp_path / "bad.c"
    bad.write_text("int main(void) { return missing; }\n")
    with pytest.raises(toolchain.ToolchainError, match="cannot build bad.c"):
        toolchain.build(bad, "pthread")


def test_nested_driver_runs_numpy_openblas_and_checks_results(cache):
    from corun.bench.libraries import numpy_openblas
    lib = numpy_openblas()
    if lib is None:
        pytest.skip("numpy has no bundled OpenBLAS here")
    exe = toolchain.build(workloads.path("blas_nested.c"), "pthread")
    env = dict(os.environ, OPENBLAS_NUM_THREADS="1")
    p = subprocess.run([str(exe), str(lib), "3", "48", "6"], input="go\n", capture_output=True,
                       text=True, env=env, timeout=60)
    assert p.returncode == 0, p.stderr
    out = json.loads(p.stdout.strip().splitlines()[-1])
    assert out["outer_threads"] == 3 and out["inner_threads"] == 1
    assert out["flops"] == 2 * 48**3 * 6
    p = subprocess.run([str(exe), "/nonexistent/libblas.so", "1", "8", "1"], input="go\n",
                       capture_output=True, text=True, timeout=60)
    assert p.returncode == 4 and "cannot load" in p.stderr
