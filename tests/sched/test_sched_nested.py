"""Nested OpenMP teams inside pthreads (the nested-blas collapse of OpenBLAS's OpenMP build).

c/nested_teams.c: OUTER pthreads each running `omp parallel` regions of INNER threads (libgomp gives
every pthread its own team), optionally entered under one lock taken by a compare-and-swap spin
that calls nothing (OpenBLAS's exec_blas). With more threads than cores, the outer threads that
spin for the lock hold cores while the holder's team waits for them. Under corun:
* results are identical to plain Linux and every run finishes (no lost wake-up, no deadlock);
* the spin probes (watchdog.c, preempt.c) find the spinners and move them off their cores
  (`stats.spin_yields`), instead of letting them spin for a whole round-robin slice.
"""
from __future__ import annotations

import subprocess

import pytest

from sched_support import NCPUS, clean_environ, compile_c

pytestmark = pytest.mark.skipif(NCPUS < 2, reason="needs at least 2 CPUs")


def build(cbuild):
    return compile_c("nested_teams.c", cbuild, "-fopenmp", name="nested_teams")


def plain(exe, args: list[str]) -> str:
    r = subprocess.run([exe, *args], capture_output=True, text=True, timeout=120, env=clean_environ())
    assert r.returncode == 0, r.stdout + r.stderr
    return r.stdout.strip()


@pytest.mark.parametrize("outer,inner,regions,lock", [
    (2 * NCPUS, NCPUS, 150, True),
    (NCPUS, 2 * NCPUS, 150, True),
    (4 * NCPUS, 2 * NCPUS, 40, True),
    (2 * NCPUS, NCPUS, 300, False),
])
def test_nested_teams_same_results_and_finish(instance, cbuild, outer, inner, regions, lock):
    exe = build(cbuild)
    args = [str(outer), str(inner), str(regions)] + (["lock"] if lock else [])
    want = plain(exe, args)
    assert want.startswith(f"OK outer={outer} inner={inner} "), want
    r = instance.run([exe, *args], timeout=120)
    assert r.stdout.strip() == want, (r.stdout, r.stderr)


def test_lock_spinners_are_probed_off_their_cores(instance, cbuild):
    """Outer threads spinning for the lock while the holder's team member waits for a core: the
    watchdog's probes find them at the same instruction twice and they give their cores up."""
    exe = build(cbuild)
    args = [str(2 * NCPUS), str(NCPUS), "600", "lock"]
    want = plain(exe, args)
    p = instance.popen([exe, *args])
    snap = instance.wait_snapshot(lambda s: s["stats"].get("spin_yields", 0) > 0, timeout=60,
                                  what="a spinner moved off its core by a probe")
    assert snap["stats"]["probes"] >= snap["stats"]["spin_yields"], snap["stats"]
    out, err = p.communicate(timeout=120)
    assert p.returncode == 0, err
    assert out.strip() == want


def test_probes_off_keeps_results(instance, cbuild):
    """CORUN_PROBE_US=0 turns the probes off: slower, same results."""
    exe = build(cbuild)
    args = [str(2 * NCPUS), str(NCPUS), "60", "lock"]
    want = plain(exe, args)
    r = instance.run([exe, *args], env={"CORUN_PROBE_US": "0"}, timeout=120)
    assert r.stdout.strip() == want, (r.stdout, r.stderr)
