"""``corun status``: a human view of one scheduler instance's snapshot.

The snapshot is the JSON object that ``corun_instance_snapshot`` (libcorun.so) writes::

    {"instance": str, "version": int, "quantum_us": int, "turn_pid": int,
     "cores":     [{"index": int, "cpu": int, "owner_tid": int, "owner_pid": int, "held_us": int}],
     "processes": [{"pid": int, "comm": str, "running": int, "ready": int, "blocked": int,
                    "stolen": int}],
     "threads":   [{"tid": int, "pid": int, "state": "running|ready|blocked|stolen", "core": int}]}

owner_tid/owner_pid 0 means the core is idle. The view is defensive: a missing key, a value of the
wrong type or an entry that is not an object renders as "-" and never raises, so an observer built
against one layout version still shows what it can of another.
"""
from __future__ import annotations

import io
from collections import Counter
from typing import Any, Mapping

from rich.console import Console
from rich.table import Table
from rich.text import Text

MISSING = "-"
THREAD_STATES = ("running", "ready", "blocked", "stolen")


def _int(v: Any) -> int | None:
    return v if isinstance(v, int) and not isinstance(v, bool) else None


def _id(v: Any) -> int | None:
    """A pid, tid or CPU-like number: a non-negative int."""
    v = _int(v)
    return v if v is not None and v >= 0 else None


def _str(v: Any) -> str | None:
    return v if isinstance(v, str) and v else None


def _text(v: Any) -> Text:
    """A cell: literal text (no rich markup interpretation), MISSING for None."""
    return Text(MISSING if v is None else str(v))


def _ms(us: Any) -> str | None:
    us = _id(us)
    return None if us is None else f"{us / 1000:.1f}"


def _quantum(us: Any) -> str:
    us = _id(us)
    if us is None:
        return MISSING
    return f"{us / 1000:g} ms"


def _entries(snap: Mapping, key: str) -> list[Mapping] | None:
    """The list under `key` with non-object entries dropped; None if the key is missing or not a list."""
    v = snap.get(key)
    if not isinstance(v, list):
        return None
    return [e for e in v if isinstance(e, Mapping)]


def _count(n: int | None, one: str, many: str) -> str:
    return f"{MISSING if n is None else n} {one if n == 1 else many}"


def _sorted(entries: list[Mapping], key: str) -> list[Mapping]:
    return sorted(entries, key=lambda e: (_int(e.get(key)) is None, _int(e.get(key)) or 0))


def header(snap: Mapping) -> str:
    """One line: instance, managed cores, live processes, quantum."""
    cores, procs = _entries(snap, "cores"), _entries(snap, "processes")
    return (f"instance {_str(snap.get('instance')) or MISSING}: "
            f"{_count(None if cores is None else len(cores), 'managed core', 'managed cores')}, "
            f"{_count(None if procs is None else len(procs), 'live process', 'live processes')}, "
            f"quantum {_quantum(snap.get('quantum_us'))}")


def cores_table(snap: Mapping) -> Table:
    procs = {_id(p.get("pid")): p for p in _entries(snap, "processes") or []}
    threads = {_id(t.get("tid")): t for t in _entries(snap, "threads") or []}
    procs.pop(None, None)
    threads.pop(None, None)
    table = Table(title="cores", title_justify="left")
    for col in ("core", "cpu", "owner pid", "owner tid", "process", "state", "held ms"):
        table.add_column(col, justify="left" if col in ("process", "state") else "right",
                         overflow="fold")
    for c in _sorted(_entries(snap, "cores") or [], "index"):
        tid, pid = _id(c.get("owner_tid")), _id(c.get("owner_pid"))
        if tid == 0 or (tid is None and pid == 0):  # idle core
            owner, state, held = (None, None, None), "idle", None
        else:
            t = threads.get(tid) if tid else None
            if pid in (None, 0) and t is not None:
                pid = _id(t.get("pid"))
            comm = _str(procs[pid].get("comm")) if pid in procs else None
            owner = (pid or None, tid, comm)
            if t is not None and _str(t.get("state")):
                state = t["state"]
            else:
                state = "running" if tid else None
            held = _ms(c.get("held_us"))
        table.add_row(_text(_id(c.get("index"))), _text(_id(c.get("cpu"))), *map(_text, owner),
                      _text(state), _text(held))
    return table


def _thread_counts(snap: Mapping) -> dict[int, Counter] | None:
    threads = _entries(snap, "threads")
    if threads is None:
        return None
    counts: dict[int, Counter] = {}
    for t in threads:
        pid, state = _id(t.get("pid")), _str(t.get("state"))
        if pid is not None and state:
            counts.setdefault(pid, Counter())[state] += 1
    return counts


def processes_table(snap: Mapping) -> Table:
    turn = _id(snap.get("turn_pid"))
    derived = _thread_counts(snap)
    table = Table(title="processes", title_justify="left")
    for col in ("pid", "command", *THREAD_STATES, "turn"):
        table.add_column(col, justify="left" if col in ("command", "turn") else "right", overflow="fold")
    for p in _sorted(_entries(snap, "processes") or [], "pid"):
        pid = _id(p.get("pid"))
        counts = []
        for state in THREAD_STATES:
            n = _id(p.get(state))
            if n is None and state not in p and derived is not None and pid is not None:
                n = derived.get(pid, Counter())[state]  # older/partial snapshot: count the threads
            counts.append(n)
        table.add_row(_text(pid), _text(_str(p.get("comm"))), *map(_text, counts),
                      Text("yes" if pid is not None and pid == turn else ""))
    return table


def print_snapshot(snap: Any, console: Console | None = None) -> None:
    """Print the header line, the cores table and the processes table of a decoded snapshot."""
    console = console or Console()
    if not isinstance(snap, Mapping):
        snap = {}
    console.print(Text(header(snap)), soft_wrap=True)  # one line, whatever the width
    cores, procs = _entries(snap, "cores"), _entries(snap, "processes")
    if cores:
        console.print(cores_table(snap))
    else:
        console.print(Text("no managed cores" if cores is not None else "cores: -"))
    if procs:
        console.print(processes_table(snap))
    else:
        console.print(Text("no live processes" if procs is not None else "processes: -"))


def render_snapshot(snap: Any, width: int = 120) -> str:
    """The text print_snapshot would show on a terminal `width` columns wide, without colour."""
    buf = io.StringIO()
    print_snapshot(snap, Console(file=buf, width=width, color_system=None, force_terminal=False,
                                 legacy_windows=False))
    return buf.getvalue()
