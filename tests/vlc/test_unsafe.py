"""Libraries that are not thread-safe become safe to call concurrently, one instance per context:
a test library with unprotected static state, and ARPACK's reverse-communication eigensolver."""
from __future__ import annotations

import ctypes
import math
import os
import threading

import pytest

from corun import VLC

ALL = sorted(os.sched_getaffinity(0))
N_ACC = 300_000


def in_threads(fns):
    out = [None] * len(fns)

    def run(i):
        out[i] = fns[i]()

    ts = [threading.Thread(target=run, args=(i,)) for i in range(len(fns))]
    for t in ts:
        t.start()
    for t in ts:
        t.join()
    return out


def test_static_state_is_per_context(probe_lib):
    ctxs = [VLC(cpus=[c]) for c in (ALL[0], ALL[-1])]
    try:
        libs = [v.load(probe_lib) for v in ctxs]
        for lib in libs:
            lib.probe_accumulate.restype = ctypes.c_long
            lib.probe_accumulate.argtypes = [ctypes.c_long]
            lib.probe_state_address.restype = ctypes.c_void_p
        assert libs[0].probe_state_address() != libs[1].probe_state_address()
        results = in_threads([lambda lib=lib: lib.probe_accumulate(N_ACC) for lib in libs])
        assert results == [N_ACC, N_ACC]       # no lost update: each instance had one caller
    finally:
        for v in ctxs:
            v.close()


def laplacian_top(n: int, nev: int) -> list[float]:
    return sorted(2 - 2 * math.cos(k * math.pi / (n + 1)) for k in range(n - nev + 1, n + 1))


def test_arpack_concurrently_in_two_contexts(arpack_driver):
    ctxs = [VLC(cpus=[c], env={"OPENBLAS_NUM_THREADS": "1"}) for c in (ALL[0], ALL[-1])]
    try:
        drivers = [v.load(arpack_driver) for v in ctxs]
        assert drivers[0].address("dsaupd_") != drivers[1].address("dsaupd_")   # two ARPACKs
        sizes, nev = (700, 800), 5

        def solve(i):
            fn = drivers[i].arpack_solve
            fn.argtypes = [ctypes.c_int, ctypes.c_int, ctypes.c_int, ctypes.POINTER(ctypes.c_double),
                           ctypes.POINTER(ctypes.c_int)]
            vals, mv = (ctypes.c_double * nev)(), ctypes.c_int()
            info = fn(sizes[i], nev, 24, vals, ctypes.byref(mv))
            return info, list(vals), mv.value

        for _ in range(2):
            results = in_threads([lambda i=i: solve(i) for i in range(2)])
            for (info, vals, matvecs), n in zip(results, sizes):
                assert info == 0 and matvecs > nev
                assert vals == pytest.approx(laplacian_top(n, nev), rel=1e-9, abs=1e-10)
    finally:
        for v in ctxs:
            v.close()
