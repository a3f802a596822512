"""Two 1-CPU contexts, each with its own OpenBLAS (Debian's, and separately numpy's bundled one):
each instance sees one CPU and sizes its pool to it, work runs on the context's CPU, concurrent
dgemm results are correct. OpenBLAS and BLIS, which export the same symbols, side by side."""
from __future__ import annotations

import os
import threading

import numpy as np
import pytest

from corun import VLC
from vlc_support import (DEBIAN_BLIS, DEBIAN_OPENBLAS, Blas, debian_openblas, dgemm_args, numpy_openblas,
                         numpy_openblas_api, require, task_cpus, wait_threads)

ALL = sorted(os.sched_getaffinity(0))
pytestmark = pytest.mark.skipif(len(ALL) < 2, reason="needs 2 CPUs")


def run_concurrently(blases, ctxs, n=300, rounds=4):
    """Each thread enters its context and runs dgemm; returns (max error, cpus seen per thread)."""
    errs, seen = [0.0] * len(blases), [set() for _ in blases]

    def work(i):
        with ctxs[i]:
            for r in range(rounds):
                a, b, ref, c = dgemm_args(n, seed=10 * i + r)
                seen[i].add(task_cpus(threading.get_native_id()))
                blases[i].dgemm(a, b, c)
                errs[i] = max(errs[i], float(np.abs(c - ref).max()))

    ts = [threading.Thread(target=work, args=(i,)) for i in range(len(blases))]
    for t in ts:
        t.start()
    for t in ts:
        t.join()
    return errs, seen


@pytest.fixture
def two_single_cpu_contexts():
    ctxs = [VLC(cpus=[ALL[0]], name="left"), VLC(cpus=[ALL[1]], name="right")]
    yield ctxs
    for v in ctxs:
        v.close()


@pytest.mark.parametrize("flavour", ["debian", "numpy"])
def test_two_single_cpu_openblas_instances(two_single_cpu_contexts, flavour):
    ctxs = two_single_cpu_contexts
    if flavour == "debian":
        path = require(DEBIAN_OPENBLAS, "libopenblas0-pthread")
        blases = [debian_openblas(v.load(path)) for v in ctxs]
    else:
        path = numpy_openblas()
        blases = [numpy_openblas_api(v.load(path)) for v in ctxs]
    # Own instances: distinct code and state.
    assert blases[0].lib.address(blases[0].dgemm_fn.__name__) != blases[1].lib.address(blases[1].dgemm_fn.__name__)
    for v, blas in zip(ctxs, blases):
        assert blas.get_procs() == 1            # the instance sees one CPU
        assert blas.get_threads() == 1          # and sized its pool to it
        tids, started = v.threads()
        assert started == 0                     # a 1-thread OpenBLAS starts no workers
    errs, seen = run_concurrently(blases, ctxs)
    assert max(errs) < 1e-9
    assert seen == [{str(ALL[0])}, {str(ALL[1])}]   # each caller computed on its context's CPU
    assert os.sched_getaffinity(0) == set(ALL)


@pytest.mark.parametrize("flavour", ["debian", "numpy"])
def test_pool_sized_and_pinned_per_context(flavour):
    if flavour == "debian":
        path, api = require(DEBIAN_OPENBLAS, "libopenblas0-pthread"), debian_openblas
    else:
        path, api = numpy_openblas(), numpy_openblas_api
    small, big = VLC(cpus=[ALL[1]]), VLC(cpus=ALL)
    try:
        bs, bb = api(small.load(path)), api(big.load(path))
        assert (bs.get_threads(), bb.get_threads()) == (1, len(ALL))
        a, b, ref, c = dgemm_args(400, seed=1)
        bb.dgemm(a, b, c)                          # wakes the big instance's workers
        assert np.abs(c - ref).max() < 1e-9
        tids = wait_threads(big, len(ALL) - 1)
        assert len(tids) == len(ALL) - 1 and big.threads()[1] == len(ALL) - 1
        assert all(task_cpus(t) == f"{ALL[0]}-{ALL[-1]}" for t in tids)
        big.set_allowed_cpus([ALL[0]])             # re-pins live workers
        assert all(task_cpus(t) == str(ALL[0]) for t in big.threads()[0])
    finally:
        small.close()
        big.close()


def test_openblas_and_blis_side_by_side(two_single_cpu_contexts):
    ob_path = require(DEBIAN_OPENBLAS, "libopenblas0-pthread")
    blis_path = require(DEBIAN_BLIS, "libblis4-pthread")
    ctxs = two_single_cpu_contexts
    ob = debian_openblas(ctxs[0].load(ob_path))
    blis = Blas(ctxs[1].load(blis_path), "cblas_dgemm", "bli_thread_get_num_threads")
    # Same exported name, two different implementations in one process.
    assert ob.lib.address("cblas_dgemm") != blis.lib.address("cblas_dgemm")
    assert ob.lib.address("dgemm_") != blis.lib.address("dgemm_")
    errs, seen = run_concurrently([ob, blis], ctxs, n=256, rounds=3)
    assert max(errs) < 1e-9
    assert seen == [{str(ALL[0])}, {str(ALL[1])}]
