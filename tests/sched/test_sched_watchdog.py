"""The safety-net thread (watchdog.c) of every managed process may run on any managed CPU.

It never owns a core and must tick promptly (steals, rescues, reaping after kill -9), so it should
not be confined to the single CPU of one core, where it competes with that core's owner. The
watchdog of CMD itself is started from the launcher's affinity (all managed CPUs); the watchdog of a
fork child is started by the forking thread and the watchdog of an exec'd image by the main thread
of the previous image, both pinned to their core's CPU by the scheduler, and a new thread inherits
its creator's affinity.
"""
from __future__ import annotations

import pytest

from sched_support import NCPUS, compile_c

pytestmark = pytest.mark.skipif(NCPUS < 2, reason="needs 2 CPUs")


def test_watchdog_not_confined_to_one_cpu(instance, cbuild):
    exe = compile_c("watchdogs.c", cbuild)
    r = instance.run([exe], "--cpus", "0-1")
    seen = dict(line.split() for line in r.stdout.splitlines())
    assert set(seen) == {"main", "fork", "exec"}, r.stdout
    assert seen == {"main": "0-1", "fork": "0-1", "exec": "0-1"}, seen
