"""Helpers of the scheduler-level tests (tests/sched): unique instances, managed runs, C programs,
an out-of-process observer for snapshots and /proc sampling.

Rules every test here follows:
* each test names its own instance (``schedtest-<pid>-<n>-<test>``), so tests may run in parallel;
* every subprocess has a timeout; a timed-out managed process group is SIGKILLed;
* after the test, the instance's segment /dev/shm/corun-<uid>-<instance> must be gone;
* the pytest process never loads libcorun.so: snapshots come from a helper subprocess
  (observer.py) or from ``python -m corun status --json``.
"""
from __future__ import annotations

import hashlib
import itertools
import json
import os
import re
import shutil
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest

HERE = Path(__file__).resolve().parent
C_DIR = HERE / "c"
NATIVE_DIR = HERE.parent.parent / "native"  # observe.c and layout.c include native/sched/shm.h
OBSERVER = HERE / "observer.py"
TIMEOUT = 60
NCPUS = len(os.sched_getaffinity(0))
UID = os.getuid()
_counter = itertools.count()

# `python -m corun` imports every CLI plugin (about 1 s here); this runs the same launcher
# (option resolution, instance preparation, exec) without them, for tests that launch often.
FAST_LAUNCH = r"""
import sys
from corun.run import launcher, native_api
from corun.run.options import OptionError, resolve
a = sys.argv[1:]
cli = {"instance": None, "cpus": None, "quantum_ms": None, "log_level": None}
while a and a[0] != "--":
    k, v = a[0], a[1]; a = a[2:]
    cli[{"--instance": "instance", "--cpus": "cpus", "--quantum": "quantum_ms", "--log-level": "log_level"}[k]] = v
try:
    launcher.exec_managed(resolve(cli), a[1:])
except (OptionError, native_api.InstanceError, OSError) as e:
    print(f"corun: error: {e}", file=sys.stderr)
    sys.exit(2)
"""


def clean_environ(extra: dict[str, str] | None = None) -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith("CORUN_") and k != "LD_PRELOAD"
           and not k.startswith("OMP_") and k not in ("OPENBLAS_NUM_THREADS", "GOMP_SPINCOUNT")}
    env["XDG_CONFIG_HOME"] = "/nonexistent-corun-test-config"
    env.update(extra or {})
    return env


def segment_path(instance: str) -> Path:
    return Path(f"/dev/shm/corun-{UID}-{instance}")


# ---- C programs --------------------------------------------------------------------------------

def compile_c(src: str | Path, outdir: Path, *flags: str, name: str | None = None, cc: str = "gcc") -> Path:
    """Compile tests/sched/c/<src> (or a path) into outdir; cached by source and flags."""
    if shutil.which(cc) is None:
        pytest.skip(f"{cc} not installed")
    src = Path(src)
    if not src.is_absolute():
        src = C_DIR / src
    key = hashlib.sha1(src.read_bytes() + " ".join(flags).encode() + cc.encode()).hexdigest()[:10]
    out = outdir / f"{name or src.stem}-{key}"
    if not out.exists():
        cmd = [cc, "-O2", "-g", "-Wall", "-pthread", "-o", str(out) + ".tmp", str(src), *flags]
        r = subprocess.run(cmd, capture_output=True, text=True, timeout=120)
        assert r.returncode == 0, f"{' '.join(cmd)}\n{r.stderr}"
        os.replace(str(out) + ".tmp", out)
    return out


# ---- instances -----------------------------------------------------------------------------------

class Instance:
    """One scheduler instance private to a test."""

    def __init__(self, tag: str, tmp: Path):
        tag = re.sub(r"[^A-Za-z0-9_.-]", "_", tag)[-24:]
        self.name = f"schedtest-{os.getpid()}-{next(_counter)}-{tag}"
        self.tmp = tmp
        self.procs: list[subprocess.Popen] = []
        self._observer: subprocess.Popen | None = None

    @property
    def segment(self) -> Path:
        return segment_path(self.name)

    def argv(self, cmd: list[str], *opts: str, fast: bool = False) -> list[str]:
        head = [sys.executable, "-c", FAST_LAUNCH] if fast else [sys.executable, "-m", "corun", "run"]
        return [*head, "--instance", self.name, *opts, "--", *map(str, cmd)]

    def popen(self, cmd: list[str], *opts: str, env: dict[str, str] | None = None, fast: bool = False,
              prefix: list[str] = (), **kw) -> subprocess.Popen:
        kw.setdefault("stdout", subprocess.PIPE)
        kw.setdefault("stderr", subprocess.PIPE)
        kw.setdefault("stdin", subprocess.DEVNULL)
        kw.setdefault("text", True)
        p = subprocess.Popen([*prefix, *self.argv(cmd, *opts, fast=fast)], env=clean_environ(env), cwd=self.tmp,
                             start_new_session=True, **kw)
        self.procs.append(p)
        return p

    def run(self, cmd: list[str], *opts: str, env: dict[str, str] | None = None, timeout: float = TIMEOUT,
            fast: bool = False, check: bool = True, **kw) -> subprocess.CompletedProcess:
        p = self.popen(cmd, *opts, env=env, fast=fast, **kw)
        try:
            out, err = p.communicate(timeout=timeout)
        except subprocess.TimeoutExpired:
            kill_group(p)
            out, err = p.communicate()
            raise AssertionError(f"timed out after {timeout} s: {cmd}\nstdout: {out[-3000:]}\nstderr: {err[-3000:]}")
        r = subprocess.CompletedProcess(p.args, p.returncode, out, err)
        if check:
            assert r.returncode == 0, f"{cmd} exited {r.returncode}\nstdout: {out[-3000:]}\nstderr: {err[-3000:]}"
        return r

    # snapshots come from a long-lived helper process
    def snapshot(self) -> dict | None:
        """The instance's JSON snapshot, or None when no segment exists."""
        if self._observer is None or self._observer.poll() is not None:
            self._observer = subprocess.Popen([sys.executable, str(OBSERVER), "serve", self.name],
                                              stdin=subprocess.PIPE, stdout=subprocess.PIPE, text=True,
                                              env=clean_environ(), bufsize=1)
        self._observer.stdin.write("snap\n")
        self._observer.stdin.flush()
        line = self._observer.stdout.readline()
        if not line:
            raise AssertionError("observer died")
        msg = json.loads(line)
        return msg["snap"] if msg["ok"] else None

    def wait_snapshot(self, pred, timeout: float = 20.0, what: str = "condition") -> dict:
        deadline = time.monotonic() + timeout
        snap = None
        while time.monotonic() < deadline:
            snap = self.snapshot()
            if snap is not None and pred(snap):
                return snap
            time.sleep(0.01)
        raise AssertionError(f"timed out waiting for {what}; last snapshot: {json.dumps(snap)[:3000]}")

    def close(self) -> None:
        for p in self.procs:
            if p.poll() is None:
                kill_group(p)
        if self._observer is not None:
            try:
                self._observer.stdin.close()
                self._observer.wait(timeout=5)
            except (OSError, subprocess.SubprocessError):
                self._observer.kill()

    def wait_segment_gone(self, timeout: float = 5.0) -> bool:
        deadline = time.monotonic() + timeout
        while self.segment.exists() and time.monotonic() < deadline:
            time.sleep(0.01)
        return not self.segment.exists()

    def force_cleanup(self) -> None:
        code = "import sys\nfrom corun.run import native_api\nprint(native_api.cleanup(sys.argv[1]))"
        subprocess.run([sys.executable, "-c", code, self.name], env=clean_environ(), capture_output=True, timeout=30)
        if self.segment.exists():
            self.segment.unlink()


def kill_group(p: subprocess.Popen) -> None:
    try:
        os.killpg(p.pid, signal.SIGKILL)
    except (ProcessLookupError, PermissionError):
        pass
    try:
        p.wait(timeout=10)
    except subprocess.TimeoutExpired:
        pass


def managed_pids(snap: dict) -> set[int]:
    return {p["pid"] for p in snap["processes"]}


def check_snapshot_consistent(snap: dict) -> list[str]:
    """Internal consistency of one snapshot (shm.h I1, I2): returns the problems found."""
    bad = []
    owners = [c["owner_tid"] for c in snap["cores"] if c["owner_tid"]]
    if len(owners) != len(set(owners)):
        bad.append(f"a thread owns two cores: {snap['cores']}")
    running = {t["tid"]: t for t in snap["threads"] if t["state"] == "running"}
    by_index = {c["index"]: c for c in snap["cores"]}
    for tid, t in running.items():
        c = by_index.get(t["core"])
        if c is None or c["owner_tid"] != tid:
            bad.append(f"running thread {tid} claims core {t['core']} owned by {c and c['owner_tid']}")
    for c in snap["cores"]:
        if c["owner_tid"] and c["owner_tid"] not in running:
            bad.append(f"core {c['index']} owned by {c['owner_tid']}, which is not a running thread")
    for t in snap["threads"]:
        if t["state"] != "running" and t["core"] != -1:
            bad.append(f"thread {t['tid']} in state {t['state']} has core {t['core']}")
    pids = managed_pids(snap)
    for t in snap["threads"]:
        if t["pid"] not in pids:
            bad.append(f"thread {t['tid']} of unknown process {t['pid']}")
    for p in snap["processes"]:
        n = [t for t in snap["threads"] if t["pid"] == p["pid"]]
        if len(n) != p["threads"] or sum(t["state"] == "running" for t in n) != p["running"] \
                or sum(t["state"] == "ready" for t in n) != p["ready"]:
            bad.append(f"process {p['pid']} counters disagree with its threads: {p}")
    if sum(p["ready"] for p in snap["processes"]) != snap["nready"]:
        bad.append(f"nready {snap['nready']} != sum of processes' ready")
    return bad


def pid_alive(pid: int) -> bool:
    try:
        with open(f"/proc/{pid}/stat") as f:
            st = f.read().rsplit(")", 1)[1].split()[0]
        return st not in ("Z", "X")
    except (FileNotFoundError, ProcessLookupError, IndexError):
        return False


def wait_for(pred, timeout: float, what: str, interval: float = 0.01):
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        v = pred()
        if v:
            return v
        time.sleep(interval)
    raise AssertionError(f"timed out after {timeout} s waiting for {what}")
