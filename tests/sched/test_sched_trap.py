"""Learned wait sites and the signals corun keeps (native/sched/trap.c), and threads that vanish.

* libgomp's barrier waits are inline futex syscalls: the safety net learns their sites (syscall ->
  ud2) and later waits there become scheduling points through SIGILL. Results must not change,
  and a program with more OpenMP threads than cores must finish.
* SIGILL stays the scheduler's: a program's own SIGILL handler is chained to (it still sees its
  own ud2 faults, and sigaction/signal report its handler back); with the default disposition a
  ud2 still kills the process with SIGILL, as without corun.
* A thread ending with a raw SYS_exit never tells the scheduler: its core must not be lost.
"""
from __future__ import annotations

import platform
import signal

import pytest

from sched_support import clean_environ, compile_c

pytestmark = pytest.mark.skipif(platform.machine() != "x86_64", reason="learned wait sites are x86-64 only")


def plain(exe, *args, env=None):
    import subprocess

    return subprocess.run([str(exe), *args], env=clean_environ(env), capture_output=True, text=True, timeout=60)


@pytest.mark.parametrize("threads", ["4", "8"])
def test_libgomp_more_threads_than_cores_learns_sites_and_keeps_results(make_instance, cbuild, threads):
    exe = compile_c("gomp_barriers.c", cbuild, "-fopenmp")
    env = {"OMP_NUM_THREADS": threads, "CORUN_LOG_LEVEL": "debug"}
    ref = plain(exe, "3000", env={"OMP_NUM_THREADS": threads})
    r = make_instance().run([exe, "3000"], env=env, timeout=120)
    assert r.stdout == ref.stdout
    assert "learned wait site" in r.stderr, r.stderr[-2000:]


def test_learning_can_be_switched_off(make_instance, cbuild):
    exe = compile_c("gomp_barriers.c", cbuild, "-fopenmp")
    env = {"OMP_NUM_THREADS": "4", "CORUN_LOG_LEVEL": "debug", "CORUN_LEARN_WAIT_SITES": "0"}
    ref = plain(exe, "300", env={"OMP_NUM_THREADS": "4"})
    r = make_instance().run([exe, "300"], env=env, timeout=120)
    assert r.stdout == ref.stdout
    assert "learned wait site" not in r.stderr


def test_program_sigill_handler_is_chained_and_reported(make_instance, cbuild):
    exe = compile_c("sigill_chain.c", cbuild)
    ref = plain(exe, "handler")
    assert ref.stdout == "hits=2 reported_handler_is_ours=1\n"
    assert make_instance().run([exe, "handler"]).stdout == ref.stdout


def test_signal_function_for_sigill_reports_the_programs_handler(make_instance, cbuild):
    exe = compile_c("sigill_chain.c", cbuild)
    assert plain(exe, "signal").stdout == "old_is_ours=1\n"
    assert make_instance().run([exe, "signal"]).stdout == "old_is_ours=1\n"


def test_default_sigill_still_kills(make_instance, cbuild):
    exe = compile_c("sigill_chain.c", cbuild)
    ref = plain(exe, "default")
    assert ref.returncode == -signal.SIGILL
    r = make_instance().run([exe, "default"], check=False)
    assert r.returncode == -signal.SIGILL
    assert "survived" not in r.stdout


def test_thread_ending_with_raw_exit_does_not_lose_its_core(make_instance, cbuild):
    exe = compile_c("raw_exit.c", cbuild)
    r = make_instance().run([exe], timeout=60)
    assert r.stdout == "done\n"
