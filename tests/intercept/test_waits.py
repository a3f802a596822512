"""Sleeps, poll, ppoll, select, pselect, epoll_wait/pwait/pwait2: timeouts kept, readiness, fd sets,
errors and remaining time identical under corun."""
from __future__ import annotations

import pytest

CHECKS = ["sleep_1s", "usleep_120ms", "nanosleep_120ms", "clock_nanosleep_rel", "clock_nanosleep_abs",
          "nanosleep_eintr_rem", "sleep_eintr_left", "poll_timeout", "poll_zero_timeout", "poll_ready",
          "poll_wakes_on_write", "ppoll_timeout", "ppoll_ready_with_mask", "select_timeout_clears",
          "select_ready_bits", "select_blocking_wakes", "pselect_timeout", "epoll_wait_timeout", "epoll_wait_wakes",
          "epoll_pwait_level", "epoll_pwait2_timeout", "epoll_edge_once"]


@pytest.fixture(scope="module")
def waits(build_c, run_pair):
    return run_pair(build_c("wait"), tag="wait")


@pytest.mark.parametrize("check", CHECKS)
def test_wait(waits, check):
    waits.assert_ok(check)


def test_waits_same_output_and_status(waits):
    waits.assert_same()
