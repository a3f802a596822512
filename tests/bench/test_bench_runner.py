"""Alternation order, timeouts (a hanging workload is killed and recorded), failures."""
from __future__ import annotations

import os
import sys
import time

from bench_helpers import fake_runner, make_case
from corun.bench import runner
from corun.bench.model import Case, WALL


def test_plan_alternates_plain_and_corun_per_repetition():
    a, b = make_case("a"), make_case("b")
    skipped = make_case("c", skip="library missing")
    steps = runner.plan([a, skipped, b], repeat=3)
    assert [(s.case.key, s.rep, s.mode) for s in steps] == [
        ("a", 0, "plain"), ("a", 0, "corun"), ("a", 1, "plain"), ("a", 1, "corun"),
        ("a", 2, "plain"), ("a", 2, "corun"),
        ("b", 0, "plain"), ("b", 0, "corun"), ("b", 1, "plain"), ("b", 1, "corun"),
        ("b", 2, "plain"), ("b", 2, "corun")]


def test_run_plan_executes_in_plan_order():
    cases = [make_case("a"), make_case("b")]
    seen: list[tuple[str, int, str]] = []
    values = {(k, m): [1.0, 2.0] for k in "ab" for m in ("plain", "corun")}
    results = runner.run_plan(cases, 2, ["x"], on_start=lambda s: seen.append(
        (s.case.key, s.rep, s.mode)), step_runner=fake_runner(values))
    assert seen == [(s.case.key, s.rep, s.mode) for s in runner.plan(cases, 2)]
    modes = [r.mode for r in results["a"].runs]
    assert modes == ["plain", "corun", "plain", "corun"]


def test_corun_command_wraps_each_copy_and_plain_does_not():
    case = make_case("x", procs=3)
    prefix = runner.corun_prefix("bench-test", ["--quantum=5"])
    assert prefix[1:] == ["-m", "corun", "run", "--instance", "bench-test", "--quantum=5", "--"]
    plain = runner.command(case, "plain", prefix)
    corun = runner.command(case, "corun", prefix)
    assert "--prefix-json" not in plain and plain[-2:] == ["--", "true"]
    assert "--prefix-json" in corun and "bench-test" in corun[corun.index("--prefix-json") + 1]
    assert plain[plain.index("--procs") + 1] == "3"


def _pid_alive(pid: int) -> bool:
    try:
        with open(f"/proc/{pid}/stat") as f:
            return f.read().split(") ")[1][0] != "Z"
    except FileNotFoundError:
        return False


def test_timeout_kills_the_whole_process_group(tmp_path):
    pidfile = tmp_path / "child.pid"
    script = ("import subprocess, sys, time\n"
              "p = subprocess.Popen([sys.executable, '-c', 'import time; time.sleep(60)'])\n"
              f"open({str(pidfile)!r}, 'w').write(str(p.pid))\n"
              "time.sleep(60)\n")
    start = time.monotonic()
    ex = runner.execute([sys.executable, "-c", script], dict(os.environ), timeout_s=1.5)
    assert ex.status == "timeout" and ex.returncode is None
    assert time.monotonic() - start < 10
    grandchild = int(pidfile.read_text())
    deadline = time.monotonic() + 5
    while _pid_alive(grandchild) and time.monotonic() < deadline:
        time.sleep(0.05)
    assert not _pid_alive(grandchild)


def _python_case(code: str, timeout_s: float, procs: int = 1) -> Case:
    return Case(key="py", group="py", label="py", params={}, procs=procs,
                cmd=[sys.executable, "-c", code], env={}, metric=WALL, timeout_s=timeout_s)


WORKLOAD = ("import sys, time, json\nprint('READY', flush=True)\nsys.stdin.readline()\n"
            "t0 = time.monotonic(); time.sleep(0.05); t1 = time.monotonic()\n"
            "print(json.dumps({'t0': t0, 't1': t1, 'flops': 1e9}))\n")


def test_hanging_workload_is_recorded_as_timeout_and_later_reps_skipped():
    hang = _python_case("print('READY', flush=True)\nimport time\ntime.sleep(60)\n", 1.0)
    start = time.monotonic()
    results = runner.run_plan([hang], 3, runner.corun_prefix("unused"),
                              step_runner=lambda s, p: runner.run_step(s, p) if s.mode == "plain"
                              else runner.Run(s.case.key, s.mode, s.rep, "ok", 1.0, 0.0, 0))
    assert time.monotonic() - start < 15          # one timeout, not three
    plain = [r for r in results["py"].runs if r.mode == "plain"]
    assert [r.status for r in plain] == ["timeout", "skipped", "skipped"]
    assert "timed out after 1 s" in plain[0].error
    assert results["py"].summary("plain").median is None
    assert results["py"].summary("corun").n_ok == 3


def test_successful_group_of_two_copies_gives_the_common_window():
    case = _python_case(WORKLOAD, 30.0, procs=2)
    run = runner.run_step(runner.Step(case, 0, "plain"), [])
    assert run.status == "ok", run.error
    assert 0.04 < run.value < 5.0
    assert run.detail["procs"] == 2 and len(run.detail["children"]) == 2
    assert len({c["pid"] for c in run.detail["children"]}) == 2


def test_failing_workload_is_recorded_with_its_message():
    case = _python_case("import sys\nprint('no luck here', file=sys.stderr)\nsys.exit(7)\n", 30.0)
    run = runner.run_step(runner.Step(case, 0, "plain"), [])
    assert run.status == "failed" and run.value is None
    assert "no luck here" in run.error and "status 7" in run.error
    assert "no luck here" in run.detail["stderr_tail"]


def test_broken_corun_prefix_is_a_failed_run_not_a_crash():
    case = _python_case(WORKLOAD, 30.0)
    run = runner.run_step(runner.Step(case, 0, "corun"), ["/nonexistent/corun-launcher", "--"])
    assert run.status == "failed"
    assert "cannot start" in run.error


def test_copy_dying_around_the_start_signal_fails_the_run_and_names_the_copy():
    case = _python_case("print('READY', flush=True)\nimport sys\nsys.exit(5)\n", 30.0, procs=2)
    run = runner.run_step(runner.Step(case, 0, "plain"), [])
    assert run.status == "failed" and run.returncode == 1
    assert "copy 0" in run.error and "5" in run.error


def test_give_up_on_a_mode_after_timeouts_in_n_cases():
    cases = [make_case(k) for k in "abcd"]

    def step(s: runner.Step, prefix: list[str]) -> runner.Run:
        status = "timeout" if s.mode == "corun" else "ok"
        return runner.Run(s.case.key, s.mode, s.rep, status, 1.0 if status == "ok" else None,
                          0.0, 0 if status == "ok" else None)

    results = runner.run_plan(cases, 2, [], step_runner=step, give_up_after=2)
    corun = {k: [r.status for r in cr.runs if r.mode == "corun"] for k, cr in results.items()}
    assert corun == {"a": ["timeout", "skipped"], "b": ["timeout", "skipped"],
                     "c": ["skipped", "skipped"], "d": ["skipped", "skipped"]}
    assert "given up" in results["c"].runs[1].error
    assert all(r.status == "ok" for cr in results.values() for r in cr.runs if r.mode == "plain")


def test_interrupt_kills_the_running_workload(tmp_path):
    import signal
    import threading

    import pytest

    from corun.bench import cli

    pidfile = tmp_path / "pid"
    script = f"import os, time\nopen({str(pidfile)!r}, 'w').write(str(os.getpid()))\ntime.sleep(60)\n"
    def interrupt_once_started() -> None:
        while not pidfile.exists() or not pidfile.read_text():
            time.sleep(0.02)
        os.kill(os.getpid(), signal.SIGUSR1)

    old = signal.signal(signal.SIGUSR1, cli._terminate)   # what SIGTERM does in `corun bench`
    watcher = threading.Thread(target=interrupt_once_started, daemon=True)
    watcher.start()
    try:
        with pytest.raises(KeyboardInterrupt):
            runner.execute([sys.executable, "-c", script], dict(os.environ), timeout_s=30)
    finally:
        signal.signal(signal.SIGUSR1, old)
    pid = int(pidfile.read_text())
    deadline = time.monotonic() + 5
    while _pid_alive(pid) and time.monotonic() < deadline:
        time.sleep(0.05)
    assert not _pid_alive(pid)
