"""`corun status` view (corun.sched.status): render sample snapshots and read the text back."""
from __future__ import annotations

import copy
import io
import json

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from rich.console import Console

from corun.sched import status
from corun.sched.status import MISSING, header, print_snapshot, render_snapshot

FULL = {
    "instance": "default",
    "version": 3,
    "quantum_us": 20000,
    "turn_pid": 4242,
    "cores": [
        {"index": 1, "cpu": 5, "owner_tid": 0, "owner_pid": 0, "held_us": 0},
        {"index": 0, "cpu": 4, "owner_tid": 4243, "owner_pid": 4242, "held_us": 12345},
        {"index": 2, "cpu": 6, "owner_tid": 5001, "owner_pid": 5000, "held_us": 7},
    ],
    "processes": [
        {"pid": 5000, "comm": "omp_bench", "running": 0, "ready": 3, "blocked": 1, "stolen": 1},
        {"pid": 4242, "comm": "python3", "running": 1, "ready": 2, "blocked": 5, "stolen": 0},
    ],
    "threads": [
        {"tid": 4243, "pid": 4242, "state": "running", "core": 0},
        {"tid": 4244, "pid": 4242, "state": "ready", "core": 0},
        {"tid": 5001, "pid": 5000, "state": "stolen", "core": 2},
    ],
}


def rows(text: str, title: str) -> list[list[str]]:
    """Body rows of the table titled `title` as lists of stripped cells (box-drawing rows skipped)."""
    lines = text.splitlines()
    start = next(i for i, ln in enumerate(lines) if ln.strip() == title)
    out, body = [], False
    for ln in lines[start + 1:]:
        if ln.startswith(("┡", "+", "|-")):
            body = True
            continue
        if ln.startswith("└"):
            break
        if body and ln.startswith("│"):
            out.append([c.strip() for c in ln.strip("│").split("│")])
    return out


def columns(text: str, title: str) -> list[str]:
    lines = text.splitlines()
    start = next(i for i, ln in enumerate(lines) if ln.strip() == title)
    head = next(ln for ln in lines[start + 1:] if ln.startswith("┃"))
    return [c.strip() for c in head.strip("┃").split("┃")]


def test_header_line():
    text = render_snapshot(FULL)
    assert text.splitlines()[0] == "instance default: 3 managed cores, 2 live processes, quantum 20 ms"
    assert header(FULL) == text.splitlines()[0]


@pytest.mark.parametrize("quantum_us, shown", [(20000, "20 ms"), (2500, "2.5 ms"), (100, "0.1 ms"),
                                               (1, "0.001 ms"), (10_000_000, "10000 ms")])
def test_header_quantum(quantum_us, shown):
    assert header({**FULL, "quantum_us": quantum_us}).endswith(f"quantum {shown}")


def test_header_singular():
    snap = {**FULL, "cores": FULL["cores"][:1], "processes": FULL["processes"][:1]}
    assert "1 managed core," in header(snap) and "1 live process," in header(snap)


def test_cores_table():
    text = render_snapshot(FULL)
    assert columns(text, "cores") == ["core", "cpu", "owner pid", "owner tid", "process", "state", "held ms"]
    assert rows(text, "cores") == [
        ["0", "4", "4242", "4243", "python3", "running", "12.3"],
        ["1", "5", MISSING, MISSING, MISSING, "idle", MISSING],
        ["2", "6", "5000", "5001", "omp_bench", "stolen", "0.0"],
    ]


def test_processes_table():
    text = render_snapshot(FULL)
    assert columns(text, "processes") == ["pid", "command", "running", "ready", "blocked", "stolen", "turn"]
    assert rows(text, "processes") == [
        ["4242", "python3", "1", "2", "5", "0", "yes"],
        ["5000", "omp_bench", "0", "3", "1", "1", ""],
    ]


def test_print_snapshot_uses_given_console_and_matches_render():
    buf = io.StringIO()
    print_snapshot(FULL, Console(file=buf, width=120, color_system=None))
    assert buf.getvalue() == render_snapshot(FULL)


def test_print_snapshot_default_console_writes_stdout(capsys):
    print_snapshot(FULL)
    out = capsys.readouterr().out
    assert out.startswith("instance default:") and "python3" in out and "omp_bench" in out


def test_roundtrip_through_json_text():
    """What corun status does: JSON text from the C side, decoded, printed."""
    assert render_snapshot(json.loads(json.dumps(FULL))) == render_snapshot(FULL)


def test_empty_instance():
    snap = {"instance": "idle", "version": 3, "quantum_us": 20000, "turn_pid": 0,
            "cores": [], "processes": [], "threads": []}
    text = render_snapshot(snap)
    assert text.splitlines() == ["instance idle: 0 managed cores, 0 live processes, quantum 20 ms",
                                 "no managed cores", "no live processes"]


def test_managed_cores_but_no_processes():
    snap = {**FULL, "cores": [{"index": 0, "cpu": 0, "owner_tid": 0, "owner_pid": 0, "held_us": 0}],
            "processes": [], "threads": [], "turn_pid": 0}
    text = render_snapshot(snap)
    assert rows(text, "cores") == [["0", "0", MISSING, MISSING, MISSING, "idle", MISSING]]
    assert "no live processes" in text.splitlines()


@pytest.mark.parametrize("snap", [{}, None, [], "x", 3, {"cores": None, "processes": "x", "threads": 5}])
def test_nothing_usable(snap):
    text = render_snapshot(snap)
    assert text.splitlines() == [f"instance {MISSING}: {MISSING} managed cores, {MISSING} live processes, "
                                 f"quantum {MISSING}", "cores: -", "processes: -"]


def test_partial_entries_render_dashes():
    snap = {
        "instance": "p",
        "cores": [{"index": 0}, {"cpu": 3, "owner_tid": 77}, "garbage", None, {"index": 1, "owner_tid": 0}],
        "processes": [{"pid": 77}, {"comm": "nopid"}, 12],
    }
    text = render_snapshot(snap)
    assert text.splitlines()[0] == f"instance p: 3 managed cores, 2 live processes, quantum {MISSING}"
    assert rows(text, "cores") == [
        ["0", MISSING, MISSING, MISSING, MISSING, MISSING, MISSING],   # nothing known about the owner
        ["1", MISSING, MISSING, MISSING, MISSING, "idle", MISSING],
        [MISSING, "3", MISSING, "77", MISSING, "running", MISSING],     # owned: a tid, no thread entry
    ]
    assert rows(text, "processes") == [
        ["77", MISSING, MISSING, MISSING, MISSING, MISSING, ""],
        [MISSING, "nopid", MISSING, MISSING, MISSING, MISSING, ""],
    ]


@pytest.mark.parametrize("bad", [None, "12", -5, True, 1.5, [1], {"a": 1}])
def test_wrong_types_render_dashes(bad):
    snap = {"instance": bad if not isinstance(bad, str) else 5, "quantum_us": bad, "turn_pid": bad,
            "cores": [{"index": bad, "cpu": bad, "owner_tid": 9, "owner_pid": bad, "held_us": bad}],
            "processes": [{"pid": bad, "comm": bad if not isinstance(bad, str) else 5, "running": bad,
                           "ready": bad, "blocked": bad, "stolen": bad}],
            "threads": [{"tid": 9, "pid": bad, "state": bad if not isinstance(bad, str) else 5, "core": bad}]}
    text = render_snapshot(snap)
    assert text.splitlines()[0] == f"instance {MISSING}: 1 managed core, 1 live process, quantum {MISSING}"
    assert rows(text, "cores") == [[MISSING, MISSING, MISSING, "9", MISSING, "running", MISSING]]
    assert rows(text, "processes") == [[MISSING] * 6 + [""]]


def test_owner_pid_and_state_from_threads():
    """A core entry with only owner_tid: pid, process name and state come from threads/processes."""
    snap = {**FULL, "cores": [{"index": 0, "cpu": 0, "owner_tid": 5001, "held_us": 2000}]}
    assert rows(render_snapshot(snap), "cores") == [["0", "0", "5000", "5001", "omp_bench", "stolen", "2.0"]]


def test_counts_derived_from_threads_when_missing():
    snap = {**FULL,
            "processes": [{"pid": 4242, "comm": "python3"}, {"pid": 9, "comm": "nothreads"}],
            "threads": [{"tid": 1, "pid": 4242, "state": "running"}, {"tid": 2, "pid": 4242, "state": "ready"},
                        {"tid": 3, "pid": 4242, "state": "ready"}, {"tid": 4, "pid": 4242, "state": "blocked"},
                        {"tid": 5, "pid": 8, "state": "stolen"}]}
    assert rows(render_snapshot(snap), "processes") == [
        ["9", "nothreads", "0", "0", "0", "0", ""],
        ["4242", "python3", "1", "2", "1", "0", "yes"],
    ]


def test_explicit_counts_win_over_threads():
    snap = copy.deepcopy(FULL)
    snap["threads"] = []
    assert rows(render_snapshot(snap), "processes")[0] == ["4242", "python3", "1", "2", "5", "0", "yes"]


def test_no_turn_marker_without_turn_pid():
    snap = {k: v for k, v in FULL.items() if k != "turn_pid"}
    assert [r[-1] for r in rows(render_snapshot(snap), "processes")] == ["", ""]


def test_markup_in_names_is_shown_literally():
    snap = copy.deepcopy(FULL)
    snap["instance"] = "[bold]x[/bold]"
    snap["processes"][0]["comm"] = "[red]evil[/red]"
    text = render_snapshot(snap)
    assert text.startswith("instance [bold]x[/bold]:")
    assert "[red]evil[/red]" in text


def test_many_cores_and_processes():
    n = 512
    snap = {"instance": "big", "quantum_us": 20000, "turn_pid": 100,
            "cores": [{"index": i, "cpu": i, "owner_tid": 1000 + i if i % 2 else 0,
                       "owner_pid": 100 + i % 7 if i % 2 else 0, "held_us": i} for i in range(n)],
            "processes": [{"pid": 100 + p, "comm": f"proc{p}", "running": 1, "ready": 0, "blocked": 0,
                           "stolen": 0} for p in range(7)],
            "threads": []}
    text = render_snapshot(snap)
    assert header(snap) == "instance big: 512 managed cores, 7 live processes, quantum 20 ms"
    core_rows = rows(text, "cores")
    assert len(core_rows) == n
    assert [int(r[0]) for r in core_rows] == list(range(n))
    assert core_rows[3] == ["3", "3", "103", "1003", "proc3", "running", "0.0"]
    assert core_rows[4][5] == "idle"


def test_narrow_terminal_keeps_every_value():
    """Cells fold instead of being cut with an ellipsis."""
    snap = copy.deepcopy(FULL)
    snap["processes"][0]["comm"] = "a_rather_long_command_name"
    text = render_snapshot(snap, width=50)
    assert "…" not in text
    assert text.splitlines()[0] == header(snap)
    assert "a_rather_long_command_name" in "".join(r[1] for r in rows(text, "processes"))


snapshots = st.recursive(
    st.none() | st.booleans() | st.integers() | st.floats(allow_nan=False) | st.text(max_size=8),
    lambda inner: st.lists(inner, max_size=4) | st.dictionaries(
        st.sampled_from(["instance", "version", "quantum_us", "turn_pid", "cores", "processes", "threads",
                         "index", "cpu", "owner_tid", "owner_pid", "held_us", "pid", "comm", "running",
                         "ready", "blocked", "stolen", "tid", "state", "core"]), inner, max_size=8),
    max_leaves=30)


@given(snapshots)
@settings(max_examples=80, deadline=None)
def test_never_raises(snap):
    text = render_snapshot(snap)
    assert text.splitlines()[0].startswith("instance ")


def test_module_exports():
    assert callable(status.print_snapshot)


def test_unknown_thread_state_is_shown_as_is():
    snap = copy.deepcopy(FULL)
    snap["threads"][0]["state"] = "parked"
    assert rows(render_snapshot(snap), "cores")[0][5] == "parked"
