"""The segment is removed when the last live managed process exits, even if other managed
processes died before without leaving (SIGKILL, or SIGTERM from multiprocessing's
Pool.terminate, which is how it showed up: test_sched_numpy's spawn pool left its segment
behind now and then).

detach_process (process.c) decides "last" from s->nlive, which still counts processes that died
without detaching until some safety net reaps them (watchdog.c: only while a thread waits for a
core, or in its periodic full pass); a process that exits right after its child was killed
leaves the segment behind."""
from __future__ import annotations

from sched_support import compile_c


def test_last_process_removes_segment_after_a_killed_child(make_instance, cbuild):
    exe = compile_c("kill_child_then_exit.c", cbuild)
    leaked = 0
    for i in range(5):
        inst = make_instance(f"killchild-{i}")
        r = inst.run([exe], timeout=60)
        assert r.stdout.startswith("killed "), r.stdout
        if not inst.wait_segment_gone(timeout=3.0):
            leaked += 1
            inst.force_cleanup()
    assert leaked == 0, f"segment left behind in {leaked} of 5 runs"
