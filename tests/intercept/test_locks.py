"""Mutexes, condition variables, barriers, rwlocks and semaphores keep POSIX semantics under corun.

Each program runs once plain, once under `corun run`, and once under `corun run --cpus 0` (one
managed core: every wait must hand the core over, nothing may rely on true parallelism)."""
from __future__ import annotations

import pytest

MUTEX_CHECKS = ["mutex_normal", "mutex_recursive", "mutex_errorcheck", "mutex_pi", "mutex_pi_errorcheck",
                "mutex_robust_ownerdead", "mutex_robust_contended_notrecoverable", "mutex_robust_pi",
                "mutex_timedlock_etimedout", "mutex_clocklock_etimedout", "mutex_trylock_ebusy",
                "mutex_timedlock_acquires", "mutex_pshared_fork", "mutex_pshared_robust_fork", "spin_lock_count",
                "mutex_64_threads"]
COND_CHECKS = ["cond_signal_wakes_one", "cond_broadcast_wakes_all", "cond_timedwait_etimedout",
               "cond_clockwait_etimedout", "cond_timedwait_monotonic_attr", "cond_pshared_fork_pingpong",
               "cond_ring_64_threads", "cond_queue_64_threads"]
SYNC_CHECKS = ["barrier_one_serial_per_cycle", "rwlock_readers_share", "rwlock_try_ebusy_under_writer",
               "rwlock_timedrdlock_etimedout", "rwlock_clockwrlock_etimedout", "rwlock_timedwrlock_acquires",
               "rwlock_clockrdlock_shared", "rwlock_16_threads_mixed", "sem_unnamed_threads", "sem_trywait_eagain",
               "sem_timedwait_etimedout", "sem_clockwait_etimedout", "sem_errno_preserved", "sem_pshared_fork",
               "sem_named_fork"]


@pytest.fixture(scope="module")
def mutex(build_c, run_pair):
    return run_pair(build_c("mutex"), tag="mutex")


@pytest.fixture(scope="module")
def cond(build_c, run_pair):
    return run_pair(build_c("cond"), tag="cond")


@pytest.fixture(scope="module")
def sync(build_c, run_pair):
    return run_pair(build_c("sync"), tag="sync")


@pytest.fixture(scope="module")
def one_core(build_c, run_pair):
    return {name: run_pair(build_c(name), tag=name + "1", cpus="0") for name in ("mutex", "cond", "sync")}


@pytest.mark.parametrize("check", MUTEX_CHECKS)
def test_mutex(mutex, check):
    mutex.assert_ok(check)


def test_mutex_same_output_and_status(mutex):
    mutex.assert_same()


@pytest.mark.parametrize("check", COND_CHECKS)
def test_cond(cond, check):
    cond.assert_ok(check)


def test_cond_same_output_and_status(cond):
    cond.assert_same()


@pytest.mark.parametrize("check", SYNC_CHECKS)
def test_sync(sync, check):
    sync.assert_ok(check)


def test_sync_same_output_and_status(sync):
    sync.assert_same()


@pytest.mark.parametrize("prog", ["mutex", "cond", "sync"])
def test_one_managed_core(one_core, prog):
    pair = one_core[prog]
    pair.assert_same()
    assert "FAIL" not in pair.managed.stdout
