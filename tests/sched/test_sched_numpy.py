"""numpy matmuls from several threads and several processes under corun give results bit-identical
to plain runs (numpy's bundled OpenBLAS spins in its own threads; corun pins and preempts them).

py/np_work.py prints the SHA-256 of each job's result arrays; a job's hash must not depend on who
ran it (one thread, 4 threads, a pool of 4 forked or spawned processes) nor on corun.
"""
from __future__ import annotations

import json
import subprocess
import sys

import pytest

from sched_support import HERE, clean_environ

np = pytest.importorskip("numpy")
WORK = HERE / "py" / "np_work.py"
N, JOBS = "192", "8"


@pytest.fixture(scope="module")
def reference() -> dict:
    r = subprocess.run([sys.executable, str(WORK), "serial", N, JOBS], capture_output=True, text=True,
                       timeout=120, env=clean_environ())
    assert r.returncode == 0, r.stderr
    return json.loads(r.stdout)


@pytest.mark.parametrize("mode", ["threads", "fork", "spawn"])
def test_numpy_results_identical_under_corun(instance, reference, mode):
    plain = subprocess.run([sys.executable, str(WORK), mode, N, JOBS], capture_output=True, text=True,
                           timeout=120, env=clean_environ())
    assert plain.returncode == 0, plain.stderr
    assert json.loads(plain.stdout) == reference  # the hashes do not depend on who ran the jobs
    r = instance.run([sys.executable, WORK, mode, N, JOBS], timeout=180)
    assert json.loads(r.stdout.strip().splitlines()[-1]) == reference, r.stderr
