"""Start P copies of a workload together and report their common timed window as one JSON line.

    python group.py --procs P [--prefix-json JSON] -- CMD [ARGS...]

Every copy runs ``PREFIX + CMD`` (the prefix is how the bench runs a copy under ``corun run``;
empty for plain Linux). Each copy prints ``READY`` when set up and waits for a line on stdin; when
all are ready they are released together, so process start-up (interpreter, imports, the corun
launcher) stays out of the timed window. Output: ``{"procs", "t0", "t1", "window_s", "flops",
"startup_s", "children": [...]}`` where the window spans the earliest start to the latest end of
the copies' own timed parts (CLOCK_MONOTONIC, comparable across processes).

This driver itself is never managed by corun; only the copies are. Exit status 1 when a copy
fails (its status and the reason go to stderr).
"""
from __future__ import annotations

import argparse
import json
import subprocess
import sys
import time
from typing import IO, Any


class CopyFailed(RuntimeError):
    pass


def _wait_ready(proc: subprocess.Popen[str], index: int) -> None:
    out: IO[str] = proc.stdout  # type: ignore[assignment]
    while True:
        line = out.readline()
        if not line:
            rc = proc.wait()
            raise CopyFailed(f"copy {index} exited with status {rc} before it was ready")
        if line.strip() == "READY":
            return


def _result(proc: subprocess.Popen[str], index: int) -> dict[str, Any]:
    out: IO[str] = proc.stdout  # type: ignore[assignment]
    text = out.read()
    rc = proc.wait()
    if rc != 0:
        raise CopyFailed(f"copy {index} exited with status {rc}")
    for line in reversed(text.strip().splitlines()):
        line = line.strip()
        if line.startswith("{"):
            try:
                data = json.loads(line)
            except json.JSONDecodeError:
                break
            data["pid"] = proc.pid
            return data
    raise CopyFailed(f"copy {index} printed no JSON result")


def run_group(procs: int, cmd: list[str], prefix: list[str]) -> dict[str, Any]:
    started = time.monotonic()
    copies: list[subprocess.Popen[str]] = []
    try:
        for _ in range(procs):
            copies.append(subprocess.Popen([*prefix, *cmd], stdin=subprocess.PIPE,
                                           stdout=subprocess.PIPE, text=True))
        for i, p in enumerate(copies):
            _wait_ready(p, i)
        ready = time.monotonic()
        for i, p in enumerate(copies):
            assert p.stdin is not None
            try:
                p.stdin.write("go\n")
                p.stdin.flush()
            except BrokenPipeError:
                raise CopyFailed(f"copy {i} exited before the start signal "
                                 f"(status {p.wait()})") from None
        for p in copies:
            assert p.stdin is not None
            try:
                p.stdin.close()
            except BrokenPipeError:
                pass  # that copy's exit status tells what happened
        children = [_result(p, i) for i, p in enumerate(copies)]
    except BaseException:
        for p in copies:
            if p.poll() is None:
                p.kill()
        for p in copies:
            p.wait()
        raise
    t0 = min(c["t0"] for c in children)
    t1 = max(c["t1"] for c in children)
    return {"procs": procs, "t0": t0, "t1": t1, "window_s": t1 - t0,
            "flops": sum(float(c.get("flops", 0.0)) for c in children),
            "startup_s": ready - started, "children": children}


def main(argv: list[str]) -> int:
    ap = argparse.ArgumentParser(prog="group.py")
    ap.add_argument("--procs", type=int, required=True)
    ap.add_argument("--prefix-json", default="[]")
    ap.add_argument("cmd", nargs=argparse.REMAINDER)
    args = ap.parse_args(argv)
    cmd = args.cmd[1:] if args.cmd[:1] == ["--"] else args.cmd
    if args.procs < 1 or not cmd:
        ap.error("need --procs >= 1 and a command")
    try:
        result = run_group(args.procs, cmd, list(json.loads(args.prefix_json)))
    except CopyFailed as e:
        print(f"group: {e}", file=sys.stderr)
        return 1
    except OSError as e:
        print(f"group: cannot start the workload: {e}", file=sys.stderr)
        return 1
    print(json.dumps(result))
    return 0


if __name__ == "__main__":
    raise SystemExit(main(sys.argv[1:]))
