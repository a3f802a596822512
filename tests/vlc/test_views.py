"""Inside a context a library sees the context's CPUs through every query the issue lists, its
threads are pinned, setaffinity is clamped, and dlopen(RTLD_GLOBAL) does not crash."""
from __future__ import annotations

import ctypes
import os

import pytest

from corun import VLC
from vlc_support import task_cpus, wait_threads

ALL = sorted(os.sched_getaffinity(0))


def typed(lib):
    for name in ("probe_raw_affinity", "probe_sched_getaffinity", "probe_pthread_getaffinity",
                 "probe_thread_affinity", "probe_setaffinity"):
        getattr(lib, name).restype = ctypes.c_ulong
    lib.probe_setaffinity.argtypes = [ctypes.c_ulong]
    lib.probe_sysconf_onln.restype = lib.probe_sysconf_conf.restype = ctypes.c_long
    lib.probe_getenv.restype = ctypes.c_char_p
    lib.probe_read.argtypes = [ctypes.c_char_p, ctypes.c_int, ctypes.c_char_p, ctypes.c_int]
    return lib


def read(lib, path: str, mode: int) -> str:
    buf = ctypes.create_string_buffer(1 << 16)
    n = lib.probe_read(path.encode(), mode, buf, len(buf))
    assert n >= 0, path
    return buf.value.decode()


@pytest.fixture
def last_cpu_ctx(probe_lib):
    cpu = ALL[-1]
    v = VLC(cpus=[cpu], env={"CORUN_TEST_VAR": "inside"})
    yield v, typed(v.load(probe_lib)), cpu
    v.close()


def test_cpu_queries_see_only_the_context(last_cpu_ctx):
    v, lib, cpu = last_cpu_ctx
    bit = 1 << cpu
    assert lib.probe_sched_getaffinity() == bit
    assert lib.probe_pthread_getaffinity() == bit
    assert lib.probe_sysconf_onln() == 1
    assert lib.probe_sysconf_conf() == 1
    assert lib.probe_get_nprocs() == 1
    assert lib.probe_get_nprocs_conf() == 1
    assert lib.probe_cpuinfo_processors() == 1


@pytest.mark.parametrize("mode", [0, 1], ids=["open", "fopen"])
def test_virtual_files(last_cpu_ctx, mode):
    v, lib, cpu = last_cpu_ctx
    for name in ("online", "possible", "present"):
        assert read(lib, f"/sys/devices/system/cpu/{name}", mode) == f"{cpu}\n"
    status = read(lib, "/proc/self/status", mode)
    assert f"Cpus_allowed_list:\t{cpu}\n" in status
    assert f"Cpus_allowed:\t{1 << cpu:x}\n" in status
    assert "VmRSS:" in status  # the rest of the real file is kept
    assert read(lib, f"/proc/{os.getpid()}/status", mode) .count("Cpus_allowed_list:") == 1
    info = read(lib, "/proc/cpuinfo", mode)
    assert info.count("processor") == 1 and f"processor\t: {cpu}\n" in info
    # Outside the context the same files are the real ones.
    assert open("/sys/devices/system/cpu/online").read() != f"{cpu}\n" or len(ALL) == 1


def test_environment_is_the_contexts_own(last_cpu_ctx):
    v, lib, _ = last_cpu_ctx
    assert lib.probe_getenv(b"CORUN_TEST_VAR") == b"inside"
    assert "CORUN_TEST_VAR" not in os.environ
    v.setenv("CORUN_TEST_VAR", "changed")
    assert lib.probe_getenv(b"CORUN_TEST_VAR") == b"changed"
    v.unsetenv("CORUN_TEST_VAR")
    assert lib.probe_getenv(b"CORUN_TEST_VAR") is None
    assert v.getenv("CORUN_TEST_VAR") is None


def test_threads_are_pinned_and_caller_runs_on_context_cpus(last_cpu_ctx):
    v, lib, cpu = last_cpu_ctx
    bit = 1 << cpu
    assert lib.probe_thread_affinity() == bit           # a thread the library creates
    assert lib.probe_raw_affinity() == bit              # the caller, while inside the call
    assert os.sched_getaffinity(0) == set(ALL)          # restored afterwards
    assert lib.probe_start_threads(3) == 3
    try:
        tids = wait_threads(v, 3)
        assert len(tids) == 3 and v.threads()[1] >= 4
        assert all(task_cpus(t) == str(cpu) for t in tids)
    finally:
        lib.probe_stop_threads()
    assert v.threads()[0] == []


@pytest.mark.skipif(len(ALL) < 2, reason="needs 2 CPUs")
def test_reconfigure_repins_live_threads(probe_lib):
    with_ctx = VLC(cpus=[ALL[0]])
    try:
        lib = typed(with_ctx.load(probe_lib))
        lib.probe_start_threads(2)
        assert len(wait_threads(with_ctx, 2)) == 2
        with_ctx.set_allowed_cpus([ALL[1]])
        tids, _ = with_ctx.threads()
        assert tids and all(task_cpus(t) == str(ALL[1]) for t in tids)
        assert lib.probe_sched_getaffinity() == 1 << ALL[1]
        lib.probe_stop_threads()
    finally:
        with_ctx.close()


@pytest.mark.skipif(len(ALL) < 2, reason="needs 2 CPUs")
def test_setaffinity_is_clamped(probe_lib):
    v = VLC(cpus=[ALL[0]])
    try:
        lib = typed(v.load(probe_lib))
        everything = sum(1 << c for c in ALL)
        assert lib.probe_setaffinity(everything) == 1 << ALL[0]     # intersection
        assert lib.probe_setaffinity(1 << ALL[1]) == 1 << ALL[0]    # disjoint: the context's set
    finally:
        v.close()


def test_dlopen_rtld_global_inside_does_not_crash(last_cpu_ctx):
    _, lib, _ = last_cpu_ctx
    assert lib.probe_dlopen_global(b"libm.so.6") == 1
    assert lib.probe_dlopen_global(b"libz.so.1") in (0, 1)


def test_outside_any_context_nothing_is_virtual(probe_lib):
    plain = typed(ctypes.CDLL(probe_lib))
    assert plain.probe_get_nprocs() == os.cpu_count()
    assert plain.probe_sched_getaffinity() == sum(1 << c for c in ALL)
