"""The Python API: errors are clear exceptions (never crashes), lifetimes, with-blocks, info(),
service contexts, ctypes compatibility."""
from __future__ import annotations

import contextlib
import ctypes
import gc
import os
import threading

import pytest

import corun
import corun.vlc as vlc
from corun import VLC

ALL = sorted(os.sched_getaffinity(0))


def test_top_level_export():
    assert corun.VLC is VLC


def test_missing_library():
    with contextlib.closing(VLC()) as v:
        with pytest.raises(vlc.VLCLibraryNotFound, match="libdoes-not-exist.so"):
            v.load("libdoes-not-exist.so")
        with pytest.raises(OSError):
            v.load("/nonexistent/libx.so")
    assert v.closed


@pytest.mark.parametrize("cpus", ["", "3-1", "a", [], [-1]])
def test_malformed_cpu_lists(cpus):
    with pytest.raises(vlc.VLCCpuError):
        VLC(cpus=cpus)


def test_cpu_outside_allowed_set():
    outside = max(ALL) + 1
    with pytest.raises(vlc.VLCCpuError, match=f"CPU {outside} is not in this process's allowed set"):
        VLC(cpus=[outside])
    v = VLC(cpus=ALL[:1])
    try:
        with pytest.raises(vlc.VLCCpuError):
            v.set_allowed_cpus([outside])
        assert v.cpus == ALL[:1]                  # unchanged after the failed call
    finally:
        v.close()


def test_unknown_symbol(probe_lib):
    v = VLC()
    try:
        lib = v.load(probe_lib)
        with pytest.raises(vlc.VLCSymbolNotFound, match="no_such_function"):
            lib.no_such_function
        with pytest.raises(AttributeError):
            lib["no_such_function"]
        assert not hasattr(lib, "no_such_function")
    finally:
        v.close()


def test_use_after_close_raises(probe_lib):
    v = VLC()
    lib = v.load(probe_lib)
    fn = lib.probe_get_nprocs
    assert fn() == len(ALL)
    v.close()
    v.close()                                      # idempotent
    assert v.closed
    for action in (fn, lambda: lib.probe_sysconf_onln, lambda: v.load(probe_lib), v.__enter__,
                   lambda: v.setenv("A", "1"), lambda: v.cpus):
        with pytest.raises(vlc.VLCClosedError):
            action()


def test_close_while_inside_is_refused():
    v = VLC()
    with v:
        with pytest.raises(vlc.VLCBusyError):
            v.close()
    v.close()


def test_garbage_collection_closes():
    capi = vlc._capi.lib()
    before = capi.corun_vlc_count()
    v = VLC()
    assert capi.corun_vlc_count() == before + 1
    del v
    gc.collect()
    assert capi.corun_vlc_count() == before


def test_library_keeps_its_context_alive(probe_lib):
    lib = VLC().load(probe_lib)                  # the VLC object itself is not kept
    gc.collect()
    assert lib.probe_get_nprocs() == len(ALL)
    lib.vlc.close()


@pytest.mark.skipif(len(ALL) < 2, reason="needs 2 CPUs")
def test_with_block_pins_and_restores_and_nests():
    a, b = VLC(cpus=[ALL[0]]), VLC(cpus=[ALL[1]])
    try:
        with a:
            assert os.sched_getaffinity(0) == {ALL[0]}
            assert vlc.thread_stack() == [a]
            with b:
                assert os.sched_getaffinity(0) == {ALL[1]}
            assert os.sched_getaffinity(0) == {ALL[0]}
            with pytest.raises(vlc.VLCError):
                b.leave()
        assert os.sched_getaffinity(0) == set(ALL)
        assert vlc.thread_stack() == []
    finally:
        a.close()
        b.close()


def test_thread_hooks_see_enter_and_leave():
    seen = []

    def hook(v, entering):
        seen.append((v.name, entering, threading.get_ident()))

    vlc.add_thread_hook(hook)
    try:
        with VLC(name="hooked") as v:
            pass
        v.close()
    finally:
        vlc.remove_thread_hook(hook)
    me = threading.get_ident()
    assert seen == [("hooked", True, me), ("hooked", False, me)]


def test_overlapping_contexts_and_repeated_load(probe_lib):
    a, b = VLC(cpus=ALL), VLC(cpus=ALL)
    try:
        la, lb = a.load(probe_lib), b.load(probe_lib)
        assert a.load(probe_lib) is la
        la.probe_state_address.restype = lb.probe_state_address.restype = ctypes.c_void_p
        assert la.probe_state_address() != lb.probe_state_address()
        assert a.lmid != b.lmid and a.lmid > 0
    finally:
        a.close()
        b.close()


def test_ctypes_compatibility(probe_lib):
    with_ctx = VLC()
    try:
        lib = with_ctx.load(probe_lib)
        assert isinstance(lib, ctypes.CDLL)
        fn = lib.probe_sysconf_onln
        fn.restype = ctypes.c_long
        assert fn() == len(ALL)
        addr = ctypes.cast(fn, ctypes.c_void_p).value
        libc = ctypes.CDLL(None)
        libc.dlsym.restype = ctypes.c_void_p
        libc.dlsym.argtypes = [ctypes.c_void_p, ctypes.c_char_p]
        assert libc.dlsym(lib._handle, b"probe_sysconf_onln") == addr
        assert lib.address("probe_sysconf_onln") == addr
        raw = lib.unguarded("probe_sysconf_onln")
        raw.restype = ctypes.c_long
        assert ctypes.cast(raw, ctypes.c_void_p).value == addr and raw() == len(ALL)
        with pytest.raises(vlc.VLCSymbolNotFound):
            lib.unguarded("no_such_function")
    finally:
        with_ctx.close()


def test_info_reports_contexts(probe_lib):
    from vlc_support import DEBIAN_OPENBLAS, require

    path = require(DEBIAN_OPENBLAS, "libopenblas0-pthread")
    v = VLC(cpus=ALL[:1], name="reported")
    try:
        v.load(path)
        v.load(probe_lib)
        (entry,) = [e for e in vlc.info() if e["name"] == "reported"]
        assert entry["cpus"] == str(ALL[0]) and entry["num_cpus"] == 1 and entry["lmid"] == v.lmid
        blas = entry["libraries"][0]
        assert blas["user_api"] == "openblas" and blas["num_threads"] == 1
        assert blas["path"].endswith("libopenblas.so.0")
        assert "num_threads" not in entry["libraries"][1]
    finally:
        v.close()
    assert not [e for e in vlc.info() if e["name"] == "reported"]


def test_service_context_shares_the_base_instance(probe_lib):
    base = ctypes.CDLL(probe_lib)
    s = VLC(cpus=ALL[:1], service=True)
    try:
        lib = s.load(probe_lib)
        assert s.lmid == 0
        assert lib.address("probe_state_address") == ctypes.cast(base.probe_state_address, ctypes.c_void_p).value
        lib.probe_raw_affinity.restype = ctypes.c_ulong
        assert lib.probe_raw_affinity() == 1 << ALL[0]     # calls still run on its CPUs
        with pytest.raises(vlc.VLCError, match="shares the process environment"):
            s.setenv("X", "1")
    finally:
        s.close()


def test_a_reused_namespace_gives_fresh_instances_and_environment(probe_lib):
    import ctypes as C

    v = VLC(env={"CORUN_OLD": "1"})
    lib = v.load(probe_lib)
    lib.probe_accumulate.restype, lib.probe_accumulate.argtypes = C.c_long, [C.c_long]
    assert lib.probe_accumulate(5) == 5
    lmid = v.lmid
    v.close()
    w = VLC()
    try:
        assert w.lmid == lmid                       # the pooled namespace was reused
        lib2 = w.load(probe_lib)
        lib2.probe_accumulate.restype, lib2.probe_accumulate.argtypes = C.c_long, [C.c_long]
        assert lib2.probe_accumulate(1) == 1        # fresh static state
        assert w.getenv("CORUN_OLD") is None        # fresh environment
        assert w.threads() == ([], 0)
    finally:
        w.close()


def test_close_racing_with_calls_from_other_threads(probe_lib):
    """Threads hammer a context's function while another thread closes it: every call either
    completes or raises VLCClosedError; close either succeeds or raises VLCBusyError; no crash."""
    for _ in range(5):
        v = VLC(cpus=ALL[:1])
        fn = v.load(probe_lib).probe_get_nprocs
        stop = threading.Event()
        outcomes: list[str] = []

        def caller():
            while not stop.is_set():
                try:
                    assert fn() == 1
                except vlc.VLCClosedError:
                    outcomes.append("closed")
                    return

        ts = [threading.Thread(target=caller) for _ in range(3)]
        for t in ts:
            t.start()
        busy = 0
        while True:
            try:
                v.close()
                break
            except vlc.VLCBusyError:
                busy += 1
        stop.set()
        for t in ts:
            t.join()
        assert v.closed
        with pytest.raises(vlc.VLCClosedError):
            fn()


def test_close_hooks_run_before_unload(probe_lib):
    seen = []

    def hook(v):
        seen.append((v.name, v.libraries["lib"].probe_get_nprocs()))   # libraries still usable

    vlc.add_close_hook(hook)
    try:
        v = VLC(cpus=ALL[:1], name="closing")
        v._libs["lib"] = v.load(probe_lib)
        v.close()
    finally:
        vlc.remove_close_hook(hook)
    assert seen == [("closing", 1)]


def test_prewarm_fills_the_pool():
    assert vlc.prewarm(2) >= 0
    made = [VLC() for _ in range(2)]      # taken from the pool
    try:
        assert all(v.lmid > 0 for v in made)
    finally:
        for v in made:
            v.close()
