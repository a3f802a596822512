"""Every descendant of CMD is a managed process of the same instance while it lives: fork, fork +
exec, posix_spawn, subprocess, os.system, multiprocessing (fork, spawn, forkserver), both ends of a
shell pipeline, grandchildren, and CMD replaced by exec. Each one writes its pid and waits; the
instance's snapshot must list every such pid as a managed process, and its environment must carry
the managed settings on."""
from __future__ import annotations

import sys
import time
from pathlib import Path

from sched_support import HERE, check_snapshot_consistent, compile_c, managed_pids, wait_for

TAGS = ["fork", "forkexec", "posix_spawn", "subprocess", "pipe_a", "pipe_b", "grandchild", "system",
        "mp_fork", "mp_spawn", "mp_forkserver"]


def read_pids(d: Path, tags) -> dict[str, int]:
    return {t: int((d / f"{t}.pid").read_text()) for t in tags}


def environ(pid: int) -> dict[str, str]:
    raw = Path(f"/proc/{pid}/environ").read_bytes().split(b"\0")
    return dict(x.decode(errors="replace").split("=", 1) for x in raw if b"=" in x)


def test_every_descendant_is_managed(instance, cbuild, tmp_path):
    waiter = compile_c("waiter.c", cbuild)
    d = tmp_path / "pids"
    d.mkdir()
    proc = instance.popen([sys.executable, HERE / "py" / "inherit_driver.py", d, waiter])
    try:
        wait_for(lambda: all((d / f"{t}.pid").exists() for t in TAGS), 90,
                 f"pid files of {TAGS} (have {sorted(p.name for p in d.iterdir())})")
        pids = read_pids(d, TAGS)
        snap = instance.wait_snapshot(lambda s: set(pids.values()) <= managed_pids(s), timeout=20,
                                      what=f"all of {pids} managed")
        assert proc.pid in managed_pids(snap)  # CMD itself
        assert not check_snapshot_consistent(snap)
        for tag, pid in pids.items():
            env = environ(pid)
            assert env.get("CORUN_MANAGED") == "1" and env.get("CORUN_INSTANCE") == instance.name, (tag, env)
            assert "libcorun.so" in env.get("LD_PRELOAD", ""), (tag, env.get("LD_PRELOAD"))
    finally:
        (d / "release").touch()
    out, err = proc.communicate(timeout=90)
    assert proc.returncode == 0 and out.strip() == "OK", (out, err)


def test_exec_replaces_cmd_and_stays_managed(instance, cbuild, tmp_path):
    waiter = compile_c("waiter.c", cbuild)
    proc = instance.popen(["sh", "-c", f'exec "{waiter}" exec "{tmp_path}"'])
    try:
        wait_for(lambda: (tmp_path / "exec.pid").exists(), 60, "exec.pid")
        pid = int((tmp_path / "exec.pid").read_text())
        assert pid == proc.pid
        snap = instance.wait_snapshot(lambda s: pid in managed_pids(s), what="exec'd CMD managed")
        assert len(snap["processes"]) == 1, snap["processes"]  # sh's slot was released by the exec
        assert [p["comm"] for p in snap["processes"]][0].startswith("waiter"), snap["processes"]
    finally:
        (tmp_path / "release").touch()
    proc.communicate(timeout=60)
    assert proc.returncode == 0
