"""Run cases under plain Linux and under corun, alternated, each run bounded by a timeout.

Every run is one command: the group driver (workloads/group.py, never managed itself) starting the
case's copies together; under corun each copy is prefixed with ``python -m corun run --instance
NAME --``. Runs execute in their own session; on timeout the whole process group is killed and
the run is recorded as ``timeout``. A non-zero exit or unreadable output is recorded as
``failed`` with the tail of its stderr. Nothing a workload or the scheduler does can hang the bench.
"""
from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import tempfile
import time
from dataclasses import dataclass
from typing import Callable, Iterable

from corun.bench import workloads
from corun.bench.model import MODES, Case, CaseResult, Run

ERROR_LINES = 2
STDERR_TAIL = 2000


@dataclass(frozen=True)
class Execution:
    status: str              # "ok" | "failed" | "timeout"
    returncode: int | None
    stdout: str
    stderr: str
    elapsed_s: float


@dataclass(frozen=True)
class Step:
    case: Case
    rep: int
    mode: str


def corun_prefix(instance: str, extra: Iterable[str] = ()) -> list[str]:
    """How a copy is started under corun: ``python -m corun run --instance NAME [extra] --``."""
    return [sys.executable, "-m", "corun", "run", "--instance", instance, *extra, "--"]


def command(case: Case, mode: str, prefix: list[str]) -> list[str]:
    cmd = [sys.executable, str(workloads.path("group.py")), "--procs", str(case.procs)]
    if mode == "corun":
        cmd += ["--prefix-json", json.dumps(prefix)]
    elif mode != "plain":
        raise ValueError(f"unknown mode {mode!r}")
    return [*cmd, "--", *case.cmd]


def _kill_group(pgid: int) -> None:
    try:
        os.killpg(pgid, signal.SIGKILL)
    except (ProcessLookupError, PermissionError):
        pass


def execute(cmd: list[str], env: dict[str, str], timeout_s: float) -> Execution:
    """Run cmd in a new session; kill its whole process group at the timeout or when it ends."""
    start = time.monotonic()
    with tempfile.TemporaryFile() as out, tempfile.TemporaryFile() as err:
        try:
            proc = subprocess.Popen(cmd, env=env, stdin=subprocess.DEVNULL, stdout=out,
                                    stderr=err, start_new_session=True)
        except OSError as e:
            return Execution("failed", None, "", f"cannot start: {e}", time.monotonic() - start)
        try:
            rc: int | None = proc.wait(timeout=timeout_s)
            status = "ok" if rc == 0 else "failed"
        except subprocess.TimeoutExpired:
            rc, status = None, "timeout"
        except BaseException:  # Ctrl-C or SIGTERM: leave no workload behind
            _kill_group(proc.pid)
            proc.wait()
            raise
        _kill_group(proc.pid)  # stragglers too: copies left behind by a failed driver
        if rc is None:
            proc.wait()
        elapsed = time.monotonic() - start
        out.seek(0)
        err.seek(0)
        return Execution(status, rc, out.read().decode(errors="replace"),
                         err.read().decode(errors="replace"), elapsed)


def _error_text(ex: Execution, timeout_s: float) -> str:
    if ex.status == "timeout":
        return f"timed out after {timeout_s:g} s (killed)"
    lines = [ln.strip() for ln in ex.stderr.splitlines() if ln.strip()]
    text = "; ".join(lines[-ERROR_LINES:]) or f"exit status {ex.returncode}"
    return text[:400]


def _last_json(text: str) -> dict | None:
    for line in reversed(text.strip().splitlines()):
        if line.lstrip().startswith("{"):
            try:
                return json.loads(line)
            except json.JSONDecodeError:
                return None
    return None


def run_step(step: Step, prefix: list[str], base_env: dict[str, str] | None = None) -> Run:
    case = step.case
    env = dict(os.environ if base_env is None else base_env)
    env.update(case.env)
    ex = execute(command(case, step.mode, prefix), env, case.timeout_s)
    run = Run(case=case.key, mode=step.mode, rep=step.rep, status=ex.status, value=None,
              elapsed_s=round(ex.elapsed_s, 6), returncode=ex.returncode)
    if ex.status == "ok":
        output = _last_json(ex.stdout)
        try:
            if output is None:
                raise ValueError("the workload printed no JSON result")
            run.value = case.metric.value(output)
            run.detail = {k: output[k] for k in ("window_s", "startup_s", "procs", "children")
                          if k in output}
        except (KeyError, TypeError, ValueError) as e:
            run.status, run.error = "failed", f"unreadable result: {e}"
    else:
        run.error = _error_text(ex, case.timeout_s)
    if ex.status != "ok":
        run.detail = {"stderr_tail": ex.stderr[-STDERR_TAIL:]}
    return run


def plan(cases: Iterable[Case], repeat: int) -> list[Step]:
    """Case by case; for each repetition plain then corun, so the modes strictly alternate."""
    if repeat < 1:
        raise ValueError("repeat must be at least 1")
    return [Step(c, rep, mode) for c in cases if c.skip is None
            for rep in range(repeat) for mode in MODES]


def run_plan(cases: list[Case], repeat: int, prefix: list[str],
             on_start: Callable[[Step], None] = lambda s: None,
             on_done: Callable[[Step, Run], None] = lambda s, r: None,
             step_runner: Callable[[Step, list[str]], Run] | None = None,
             give_up_after: int | None = None) -> dict[str, CaseResult]:
    """Run every step of plan(cases, repeat); results keyed by case, in the cases' order.

    After a run times out, the remaining repetitions of that case under that mode are recorded
    as ``skipped`` instead of being run: a hung mode costs one timeout per case, not ``repeat``.
    With ``give_up_after``, a mode that timed out in that many cases is skipped from then on
    (``corun demo`` uses it to stay short when the scheduler hangs).
    """
    execute_step = step_runner or run_step
    results = {c.key: CaseResult(c, []) for c in cases}
    timed_out: set[tuple[str, str]] = set()
    for step in plan(cases, repeat):
        on_start(step)
        hung_cases = sum(1 for _, mode in timed_out if mode == step.mode)
        if (step.case.key, step.mode) in timed_out:
            why = "an earlier repetition timed out"
        elif give_up_after is not None and hung_cases >= give_up_after:
            why = f"{step.mode} runs timed out in {hung_cases} cases, given up"
        else:
            why = ""
        if why:
            run = Run(case=step.case.key, mode=step.mode, rep=step.rep, status="skipped",
                      value=None, elapsed_s=0.0, returncode=None, error=f"not run: {why}")
        else:
            run = execute_step(step, prefix)
            if run.status == "timeout":
                timed_out.add((step.case.key, step.mode))
        results[step.case.key].runs.append(run)
        on_done(step, run)
    return results
