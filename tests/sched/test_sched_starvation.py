"""No managed thread waits forever for its first core.

8 threads that spin with occasional mutex/condvar handoffs on 2 cores, 2 s per run, several runs:
every thread must do some work (c/spin_handoff.c reports the least any thread did).

Found while observing the invariant: in some runs (1 in 2 to 1 in 12 here) one worker does no
work at all. Caught with gdb 2.3 s into such a run: the segment showed the worker RUNNING on
core 0 with held_us 3.4 s, while the thread itself was still asleep in the futex wait of
cr_wait_for_core (core.c) called from thread_register (process.c) -> cr_acquire, i.e. a grant
whose wake-up never reached it; the other core stayed idle once the other workers had finished.
"""
from __future__ import annotations

import re

from sched_support import NATIVE_DIR, compile_c

RUNS = 3


def test_every_thread_gets_a_core(make_instance, cbuild):
    exe = compile_c("spin_handoff.c", cbuild, f"-I{NATIVE_DIR}")
    results = []
    for i in range(RUNS):
        inst = make_instance(f"starve-{i}")
        r = inst.run([exe, "8", "2", "1", "400"], timeout=60, check=False)
        m = re.search(r"starved=(\d+) min=(\d+)", r.stdout)
        assert m, (r.stdout, r.stderr)
        results.append((int(m.group(1)), int(m.group(2)), r.stdout.strip()))
    starved = [x[2] for x in results if x[0] > 0]
    assert not starved, f"{len(starved)} of {RUNS} runs had a thread that never worked: {starved}"
