"""An independent observer of a corun instance, run as its own (unmanaged) process.

    observer.py serve INSTANCE
        reads one line per request on stdin, answers one JSON line: {"ok": true, "snap": {...}}
        or {"ok": false, "error": "..."} (no such instance, refused segment).

    observer.py sample INSTANCE SECONDS INTERVAL_MS
        samples every INTERVAL_MS for SECONDS: the instance's snapshot, then for every thread of
        every managed process its kernel state and last CPU (/proc/<pid>/task/<tid>/stat fields 3
        and 39) and its Cpus_allowed_list. Prints one JSON document with the raw per-sample
        observations condensed to what the invariant checks need (see test_sched_invariant.py).

The observer loads libcorun.so through ctypes only to call the read-only control API; it is never
a managed process (CORUN_MANAGED is not set in its environment).
"""
from __future__ import annotations

import json
import os
import sys
import time

from corun.run import native_api


def snap(instance: str):
    try:
        return json.loads(native_api.snapshot(instance))
    except native_api.InstanceError as e:
        return str(e)


def serve(instance: str) -> None:
    for _ in sys.stdin:
        s = snap(instance)
        msg = {"ok": True, "snap": s} if isinstance(s, dict) else {"ok": False, "error": s}
        sys.stdout.write(json.dumps(msg) + "\n")
        sys.stdout.flush()


def parse_cpulist(text: str) -> list[int]:
    out = []
    for part in text.strip().split(","):
        if not part:
            continue
        a, _, b = part.partition("-")
        out.extend(range(int(a), int(b or a) + 1))
    return out


def thread_view(pid: int, tid: int):
    """(state, processor, allowed cpus, comm) of one thread, or None if it is gone."""
    try:
        with open(f"/proc/{pid}/task/{tid}/stat") as f:
            stat = f.read()
        with open(f"/proc/{pid}/task/{tid}/status") as f:
            status = f.read()
    except (FileNotFoundError, ProcessLookupError):
        return None
    comm = stat[stat.index("(") + 1:stat.rindex(")")]
    fields = stat[stat.rindex(")") + 2:].split()
    state, cpu = fields[0], int(fields[36])  # fields 3 and 39 of stat(5)
    allowed = None
    for line in status.splitlines():
        if line.startswith("Cpus_allowed_list:"):
            allowed = parse_cpulist(line.split(":", 1)[1])
            break
    return state, cpu, allowed, comm


def sample(instance: str, seconds: float, interval_ms: float) -> None:
    end = time.monotonic() + seconds
    samples = []
    while time.monotonic() < end:
        t0 = time.monotonic()
        s = snap(instance)
        if isinstance(s, dict):
            managed_cpus = [c["cpu"] for c in s["cores"]]
            running_snap = {t["tid"]: s["cores"][t["core"]]["cpu"] for t in s["threads"] if t["state"] == "running"}
            known = {t["tid"]: t["state"] for t in s["threads"]}
            obs = []
            for p in s["processes"]:
                try:
                    tids = [int(x) for x in os.listdir(f"/proc/{p['pid']}/task")]
                except (FileNotFoundError, ProcessLookupError):
                    continue
                for tid in tids:
                    v = thread_view(p["pid"], tid)
                    if v is None:
                        continue
                    state, cpu, allowed, comm = v
                    obs.append({"tid": tid, "pid": p["pid"], "state": state, "cpu": cpu, "allowed": allowed,
                                "comm": comm, "sched": known.get(tid)})
            samples.append({"t": t0, "snap_ok": True, "managed_cpus": managed_cpus, "running": running_snap,
                            "threads": obs, "snap": s})
        else:
            samples.append({"t": t0, "snap_ok": False, "error": s})
        left = interval_ms / 1000 - (time.monotonic() - t0)
        if left > 0:
            time.sleep(left)
    json.dump({"samples": samples}, sys.stdout)


if __name__ == "__main__":
    if sys.argv[1] == "serve":
        serve(sys.argv[2])
    elif sys.argv[1] == "sample":
        sample(sys.argv[2], float(sys.argv[3]), float(sys.argv[4]))
    else:
        raise SystemExit(f"unknown mode {sys.argv[1]}")
