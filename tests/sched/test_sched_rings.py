"""Lost wake-ups and deadlocks: 2 processes x 16 threads pass tokens for 3 s around a ring of
mutex+condvar mailboxes and a ring of semaphores (c/rings.c). Every member checks it receives
exactly the value it expects; the hop counts, last token values and a mutex-protected counter
must agree exactly, each ring must keep moving (a wake-up lost or delayed until the end shows as
a ring that stopped), and the whole run must end soon after its 3 s."""
from __future__ import annotations

import re
import time

from sched_support import compile_c

SECONDS = 3.0
MIN_HOPS = 2000  # ~40 000 per ring here; a ring stalled by a lost wake-up makes a handful


def test_rings_two_processes(instance, cbuild):
    exe = compile_c("rings.c", cbuild)
    t0 = time.monotonic()
    r = instance.run([exe, str(SECONDS), "2"], timeout=60, check=False)
    elapsed = time.monotonic() - t0
    lines = r.stdout.strip().splitlines()
    assert r.returncode == 0 and len(lines) == 2 and all(x.startswith("OK ") for x in lines), (r.stdout, r.stderr)
    for line in lines:
        m = re.search(r"cond=(\d+) sem=(\d+) total=(\d+)", line)
        cond, sem, total = map(int, m.groups())
        assert cond + sem == total
        assert cond >= MIN_HOPS and sem >= MIN_HOPS, f"a ring stalled: {line}"
    assert elapsed < SECONDS + 12, f"took {elapsed:.1f} s: {r.stdout}"
    print(f"\n{elapsed:.1f} s: " + " | ".join(lines))
