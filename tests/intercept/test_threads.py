"""Thread creation, exit, joins (timed/try forms), attributes, and cancellation of threads blocked
in intercepted calls keep their semantics under corun."""
from __future__ import annotations

import pytest

JOIN_CHECKS = ["join_returns_value", "join_pthread_exit_value", "join_tryjoin_ebusy", "join_timedjoin_etimedout",
               "join_clockjoin_etimedout", "join_timedjoin_succeeds", "join_tryjoin_finished", "join_self_edeadlk",
               "join_detached_einval", "attr_stack_guard_kept", "attr_user_stack_kept", "attr_detached_kept",
               "join_1000_threads", "main_pthread_exit"]
CANCEL_CHECKS = ["cancel_cond_wait", "cancel_cond_timedwait", "cancel_sleep", "cancel_usleep", "cancel_nanosleep",
                 "cancel_clock_nanosleep", "cancel_sem_wait", "cancel_sem_timedwait", "cancel_poll", "cancel_join",
                 "cancel_pause", "cancel_waitpid", "cancel_then_normal"]


@pytest.fixture(scope="module")
def join(build_c, run_pair):
    return run_pair(build_c("join"), tag="join")


@pytest.fixture(scope="module")
def cancel(build_c, run_pair):
    return run_pair(build_c("cancel"), tag="cancel")


@pytest.mark.parametrize("check", JOIN_CHECKS)
def test_join(join, check):
    join.assert_ok(check)


def test_join_same_output_and_status(join):
    join.assert_same()


def test_main_thread_pthread_exit_releases_core(build_c, run_pair):
    """With one managed core, main leaving by pthread_exit must give its core to the worker."""
    pair = run_pair(build_c("join"), ["main_exit"], tag="mainexit", cpus="0", timeout=30)
    pair.assert_ok("main_pthread_exit")
    pair.assert_same()


@pytest.mark.parametrize("check", CANCEL_CHECKS)
def test_cancel(cancel, check):
    cancel.assert_ok(check)


def test_cancel_same_output_and_status(cancel):
    cancel.assert_same()


def test_cancel_one_core(build_c, run_pair):
    pair = run_pair(build_c("cancel"), tag="cancel1", cpus="0")
    pair.assert_same()
    assert "FAIL" not in pair.managed.stdout
