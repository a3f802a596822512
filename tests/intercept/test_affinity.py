"""Affinity (paper 4.3.2): the program sees the inherited set, then the hints it sets, through the
glibc calls, the raw syscall() form and thread attributes; under corun it really runs pinned."""
from __future__ import annotations

import pytest

CHECKS = ["affinity_get_forms_agree", "affinity_get_alloc_size", "affinity_sched_set_get", "affinity_raw_set_get", "affinity_pthread_set_get",
          "affinity_other_thread", "affinity_attr_cpuset", "affinity_new_thread_inherits",
          "affinity_new_thread_inherits_creator_set"]


@pytest.fixture(scope="module")
def aff(build_c, run_pair):
    return run_pair(build_c("affinity"), tag="aff")


@pytest.mark.parametrize("check", CHECKS)
def test_affinity(aff, check):
    aff.assert_ok(check)


def test_affinity_same_output_and_status(aff):
    """Includes the inherited set, raw byte counts and EINVAL cases, printed by the program."""
    aff.assert_same()


def test_really_pinned_under_corun(aff):
    """The kernel affinity under corun is one core (the scheduler pins), whatever the program sees."""
    real = [line.split(None, 2) for line in aff.managed.stderr.splitlines() if line.startswith("REAL ")]
    assert real, aff.managed.stderr
    for _, label, cpus in real:
        assert "-" not in cpus and "," not in cpus, (label, cpus)
