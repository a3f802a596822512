"""Signal masks: blocking every signal keeps a managed program working, its own signals stay blocked
and pending; sigwait, sigtimedwait, sigsuspend and masks in thread attributes behave as plain."""
from __future__ import annotations

import pytest

CHECKS = ["sigmask_block_all_keeps_working", "sigmask_inherited_by_threads", "sigmask_pending_sigwait",
          "sigtimedwait_eagain", "sigmask_setmask_unblock", "sigmask_attr_mask", "sigsuspend_wakes"]


@pytest.fixture(scope="module")
def sig(build_c, run_pair):
    return run_pair(build_c("sigmask"), tag="sig")


@pytest.mark.parametrize("check", CHECKS)
def test_sigmask(sig, check):
    sig.assert_ok(check)


def test_sigmask_same_output_and_status(sig):
    sig.assert_same()


def test_sigmask_one_core(build_c, run_pair):
    pair = run_pair(build_c("sigmask"), tag="sig1", cpus="0")
    pair.assert_same()
    assert "FAIL" not in pair.managed.stdout
