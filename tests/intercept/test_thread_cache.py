"""Thread cache (USF paper 4.3.1): under corun a finished thread runs later pthread_create calls,
and a program cannot tell it from a fresh thread.

Each C/C++ program runs plain and under corun with identical output; stderr reports how many
kernel threads ran how many threads, which proves reuse happened under corun (and not with
``--thread-cache 0``), so the "fresh thread" checks really exercised reused threads.
"""
from __future__ import annotations

import re
import subprocess
import time
from pathlib import Path

import pytest

CXX_DIR = Path(__file__).resolve().parent / "cxx"

TCACHE_CHECKS = [
    "tls_fresh_image", "tsd_fresh_values", "tsd_destructor_once_per_thread", "tsd_destructor_in_thread",
    "tsd_destructor_rounds", "tsd_deleted_key_no_destructor", "name_inherited_from_creator",
    "sigmask_inherited_from_creator", "sigmask_from_attributes", "cancel_state_fresh", "errno_fresh", "locale_fresh",
    "altstack_fresh", "nice_fresh", "attr_stack_guard_detach", "join_detached_einval", "join_value_each_thread",
    "join_pthread_exit_then_reuse", "join_cancelled_then_reuse", "finished_thread_cancel_kill_noop",
    "join_forms_while_running", "detach_finished_and_running", "detached_storm", "robust_owner_dead",
    "concurrent_create_join", "fork_in_reused_thread", "ended_thread_takes_no_signal",
]
CXX_CHECKS = ["thread_local_fresh", "thread_local_destructors_before_join", "exceptions_leave_nothing",
              "pthread_exit_unwinds_then_fresh"]


def reuse(stderr: str) -> tuple[int, int]:
    m = re.search(r"reuse: (\d+) threads, (\d+) kernel threads", stderr)
    assert m, f"no reuse line in stderr:\n{stderr[-2000:]}"
    return int(m.group(1)), int(m.group(2))


@pytest.fixture(scope="module")
def tcache(build_c, run_pair):
    return run_pair(build_c("tcache"), tag="tcache", timeout=180)


@pytest.fixture(scope="module")
def cxx_exe(tmp_path_factory, native_lib):
    exe = tmp_path_factory.mktemp("tcache-cxx") / "tcache_cxx"
    subprocess.run(["g++", "-std=c++17", "-O2", "-g", "-Wall", str(CXX_DIR / "tcache_cxx.cc"), "-o", str(exe),
                    "-pthread"], check=True, timeout=180, capture_output=True)
    return exe


@pytest.fixture(scope="module")
def cxx(cxx_exe, run_pair):
    return run_pair(cxx_exe, tag="tcachecxx")


@pytest.mark.parametrize("check", TCACHE_CHECKS)
def test_reused_thread_looks_fresh(tcache, check):
    tcache.assert_ok(check)


def test_same_output_and_status(tcache):
    tcache.assert_same()


def test_threads_were_reused(tcache):
    threads, kernel = reuse(tcache.managed.stderr)
    plain_threads, plain_kernel = reuse(tcache.plain.stderr)
    assert threads == plain_threads > 4000
    assert kernel < threads / 10, (threads, kernel)


@pytest.mark.parametrize("check", CXX_CHECKS)
def test_cxx_thread_local(cxx, check):
    cxx.assert_ok(check)


def test_cxx_same_output_and_reused(cxx):
    cxx.assert_same()
    threads, kernel = reuse(cxx.managed.stderr)
    assert kernel <= threads / 3, (threads, kernel)


def test_one_core_same_output(build_c, run_pair):
    pair = run_pair(build_c("tcache"), tag="tcache1", cpus="0", timeout=240)
    pair.assert_same()
    assert "FAIL" not in pair.managed.stdout


def test_thread_cache_off_creates_every_thread(build_c, run_managed):
    exe = build_c("tcache")
    r = run_managed([str(exe), "check_tls", "check_lifecycle"], tag="tcache0", timeout=120,
                    options=["--thread-cache=0"])
    assert "FAIL" not in r.stdout, r.stdout
    threads, kernel = reuse(r.stderr)
    assert threads > 300 and kernel == threads, (threads, kernel)


@pytest.mark.parametrize("cache", ["64", "0"])
def test_process_ends_with_last_thread_after_main_pthread_exit(build_c, run_managed, cache):
    """main leaves by pthread_exit, a later thread returns normally: the process ends then. Idle
    cached threads (with a 10-minute idle timeout) and corun's own watchdog thread must not keep
    it alive."""
    exe = build_c("tcache")
    t0 = time.monotonic()
    r = run_managed([str(exe), "main_exit"], tag="tcachemain", timeout=120, options=[f"--thread-cache={cache}"],
                    extra_env={"CORUN_THREAD_CACHE_IDLE_MS": "600000"})
    elapsed = time.monotonic() - t0
    assert r.returncode == 0 and r.check("main_exit") == "ok", (r.returncode, r.stdout, r.stderr[-2000:])
    assert elapsed < 60, elapsed
