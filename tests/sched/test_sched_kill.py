"""kill -9 recovery: a managed process killed at any moment (holding both cores, with threads
queued, or inside the scheduler's critical section) costs its peers a bounded delay.

The peer (c/heartbeat.c) stores a timestamp after every ~20 us of work and sleeps briefly every
~2 ms, which lets the turn pass; the instance runs with a 10 s quantum, so once a victim holding
both cores has the turn, the peer can only run again after the victim is gone. The recovery time
is the delay from the victim's death (its pid a zombie and every thread gone: the kernel has ended
all its threads and released the robust instance lock if one of them held it) to
the peer's next heartbeat: the peer's safety net reaps dead processes every 20 ms (target 100 ms,
asserted 500 ms to stay stable on loaded CI machines). The time from SIGKILL to death is the
kernel's (each thread of the victim must be scheduled to exit; on a loaded 2-CPU machine this was
up to ~1 s) and is reported, not asserted.
Victims are started directly with the environment `corun run` gives (corun.run.launcher), so a
loop of ~20 kills stays fast; the peer is started with `corun run` (at nice -15 when root: on a
shared machine under load the delay otherwise measures how long other work keeps the peer's
threads off the CPUs; load averages of 20+ on 2 CPUs gave 1.3 s worst cases at nice 0).
"""
from __future__ import annotations

import mmap
import os
import random
import signal
import statistics
import struct
import subprocess
import time

import pytest

from sched_support import NATIVE_DIR, NCPUS, check_snapshot_consistent, clean_environ, compile_c, managed_pids, pid_alive

pytestmark = pytest.mark.skipif(NCPUS < 2, reason="needs 2 CPUs")

MAX_DELAY_S = 0.5
TARGET_DELAY_S = 0.1


def managed_env(instance) -> dict[str, str]:
    from corun.run.launcher import managed_environment
    from corun.run.options import resolve
    opts = resolve({"instance": instance.name, "cpus": "0-1", "quantum_ms": "10000", "log_level": None,
                    }, env=clean_environ())
    return managed_environment(opts, base=clean_environ())


class Peer:
    def __init__(self, instance, cbuild, tmp_path):
        self.path = tmp_path / "heartbeat"
        self.path.write_bytes(b"\0" * 4096)
        self.f = open(self.path, "r+b")
        self.map = mmap.mmap(self.f.fileno(), 4096)
        exe = compile_c("heartbeat.c", cbuild)
        self.observer = compile_c("observe.c", cbuild, f"-I{NATIVE_DIR}")
        self.instance = instance
        # Niced up when root: what is measured is corun's recovery, not how long other work on a
        # shared CI machine keeps the peer (and its safety-net thread) off the CPUs.
        prefix = ["nice", "-n", "-15"] if os.getuid() == 0 else []
        self.proc = instance.popen([exe, self.path], "--cpus", "0-1", "--quantum", "10000", prefix=prefix)
        deadline = time.monotonic() + 60
        while self.beat() == 0:
            assert time.monotonic() < deadline and self.proc.poll() is None, "peer never started"
            time.sleep(0.01)

    def beat(self) -> int:
        return struct.unpack_from("<Q", self.map, 0)[0]

    def recovery(self, t_kill: int, victims: list[subprocess.Popen], timeout: float = 10.0) -> tuple[float, float]:
        """(seconds from the SIGKILL until the kernel has finished the victims (zombies),
        seconds from then until the peer's next heartbeat; 0 if it came first).
        A stall past MAX_DELAY_S is described in self.stall (segment and kernel views)."""
        deadline = time.monotonic() + timeout
        t_dead = None
        self.stall = None
        while True:
            if t_dead is None and all(finished(v.pid) for v in victims):
                t_dead = time.monotonic_ns()
            if t_dead is not None and self.stall is None and time.monotonic_ns() - t_dead > MAX_DELAY_S * 1e9:
                self.stall = self.describe()
            b = self.beat()
            if t_dead is not None and b > t_kill:
                return (t_dead - t_kill) / 1e9, max(0, b - t_dead) / 1e9
            if time.monotonic() > deadline:
                return ((t_dead or time.monotonic_ns()) - t_kill) / 1e9, float("inf")
            time.sleep(0.0002)

    def describe(self) -> str:
        """One read-only look at the instance (c/observe.c) and at the peer's threads in /proc."""
        out = subprocess.run([self.observer, self.instance.name, "0.0001", "1000"], capture_output=True,
                             text=True, timeout=30).stdout
        lines = ["segment (tid pid state core_cpu kstate kcpu allowed runtime): " + out.replace("\n", "; ")]
        for tid in os.listdir(f"/proc/{self.proc.pid}/task"):
            try:
                with open(f"/proc/{self.proc.pid}/task/{tid}/stat") as f:
                    st = f.read().rsplit(")", 1)[1].split()[0]
                with open(f"/proc/{self.proc.pid}/task/{tid}/syscall") as f:
                    sc = f.read().split()[:3]
                with open(f"/proc/{self.proc.pid}/task/{tid}/comm") as f:
                    comm = f.read().strip()
                lines.append(f"peer thread {tid} ({comm}): {st} syscall {' '.join(sc)}")
            except OSError:
                pass
        return "\n".join(lines)

    def stop(self) -> tuple[str, str]:
        struct.pack_into("<Q", self.map, 8, 1)
        out, err = self.proc.communicate(timeout=60)
        self.map.close()
        self.f.close()
        assert self.proc.returncode == 0, (out, err)
        return out, err


def finished(pid: int) -> bool:
    """All threads of pid have exited (its leader is a zombie and alone): the kernel has released
    every lock they held, the instance lock included (robust futex list)."""
    if pid_alive(pid):
        return False
    try:
        return len(os.listdir(f"/proc/{pid}/task")) <= 1
    except FileNotFoundError:
        return True


_victims: list[subprocess.Popen] = []


def start_victim(exe, env, nthreads: int, mode: str) -> subprocess.Popen:
    p = subprocess.Popen([exe, str(nthreads), mode], env=env, stdin=subprocess.DEVNULL,
                         stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, start_new_session=True)
    _victims.append(p)
    return p


@pytest.fixture(autouse=True)
def _no_surviving_victims():
    """A failing test must not leave its victims spinning (they are session leaders)."""
    yield
    while _victims:
        p = _victims.pop()
        if p.poll() is None:
            try:
                os.killpg(p.pid, signal.SIGKILL)
            except ProcessLookupError:
                pass
            p.wait(timeout=30)


def kill(p: subprocess.Popen) -> int:
    t = time.monotonic_ns()
    os.kill(p.pid, signal.SIGKILL)
    return t


def report(label: str, delays: list[float], deaths: list[float]) -> str:
    return (f"{label}: n={len(delays)}, from the victim's death to the peer's next heartbeat: median "
            f"{statistics.median(delays) * 1e3:.1f} ms, max {max(delays) * 1e3:.1f} ms (target "
            f"{TARGET_DELAY_S * 1e3:.0f} ms); from SIGKILL to death (kernel): median "
            f"{statistics.median(deaths) * 1e3:.1f} ms, max {max(deaths) * 1e3:.1f} ms")


def test_kill_holder_of_both_cores_peer_recovers(instance, cbuild, tmp_path):
    rng = random.Random(20261202)
    victim = compile_c("victim.c", cbuild)
    peer = Peer(instance, cbuild, tmp_path)
    env = managed_env(instance)
    delays, deaths = [], []
    try:
        for i in range(20):
            v = start_victim(victim, env, 2, "spin")
            # the victim has the turn and both cores; the peer waits for one
            snap = instance.wait_snapshot(
                lambda s: sum(c["owner_pid"] == v.pid for c in s["cores"]) == 2
                and any(p["pid"] == peer.proc.pid and p["ready"] > 0 for p in s["processes"]),
                timeout=30, what=f"victim {v.pid} holding both cores while the peer waits")
            time.sleep(rng.uniform(0, 0.03))
            t_kill = kill(v)
            death, delay = peer.recovery(t_kill, [v])
            deaths.append(death)
            delays.append(delay)
            v.wait(timeout=30)
            assert delays[-1] < MAX_DELAY_S, report(f"kill {i}", delays, deaths) + f"\n{peer.stall}"
            snap = instance.snapshot()
            assert v.pid not in managed_pids(snap), snap["processes"]
            assert all(pid_alive(p) for p in managed_pids(snap)), snap["processes"]
            assert not check_snapshot_consistent(snap)
    finally:
        out, err = peer.stop()
    print("\n" + report("kill -9 of the holder of both cores", delays, deaths))


def test_kill_with_queued_threads(instance, cbuild, tmp_path):
    """Victims with more threads than cores (some READY in their queues), killed while they hold
    the turn, and victims whose only thread waits (started while another victim has the turn)."""
    rng = random.Random(7)
    victim = compile_c("victim.c", cbuild)
    peer = Peer(instance, cbuild, tmp_path)
    env = managed_env(instance)
    delays, deaths = [], []
    try:
        for i in range(6):
            a = start_victim(victim, env, 6, "spin")
            instance.wait_snapshot(lambda s: sum(c["owner_pid"] == a.pid for c in s["cores"]) == 2, timeout=30,
                                   what="victim A holding both cores")
            b = start_victim(victim, env, 3, "spin")  # B's main thread queues behind A's turn
            snap = instance.wait_snapshot(
                lambda s: any(p["pid"] == b.pid and p["ready"] == p["threads"] == 1 for p in s["processes"])
                and any(p["pid"] == a.pid and p["ready"] >= 4 for p in s["processes"]),
                timeout=30, what="A with 4 queued threads, B entirely queued")
            time.sleep(rng.uniform(0, 0.02))
            first, second = (a, b) if i % 2 else (b, a)
            kill(first)
            first.wait(timeout=30)
            time.sleep(rng.uniform(0, 0.02))
            t_kill = kill(second)
            death, delay = peer.recovery(t_kill, [second])
            deaths.append(death)
            delays.append(delay)
            second.wait(timeout=30)
            assert delays[-1] < MAX_DELAY_S, report(f"kill {i}", delays, deaths) + f"\n{peer.stall}"
            snap = instance.wait_snapshot(lambda s: not ({a.pid, b.pid} & managed_pids(s)), timeout=5,
                                          what="victims reaped")
            assert snap["nready"] == sum(p["ready"] for p in snap["processes"])
            assert all(c["owner_pid"] in (0, peer.proc.pid) for c in snap["cores"]), snap["cores"]
            assert not check_snapshot_consistent(snap)
    finally:
        peer.stop()
    print("\n" + report("kill -9 with queued threads", delays, deaths))


def test_kill_inside_the_scheduler(instance, cbuild, tmp_path):
    """Victims looping through scheduling points (the instance lock taken thousands of times a
    second) killed at random moments: some kills land inside the critical section, and the next
    locker repairs the shared state (robust mutex, EOWNERDEAD). The peer keeps its heartbeat and
    the final state is consistent."""
    rng = random.Random(42)
    victim = compile_c("victim.c", cbuild)
    peer = Peer(instance, cbuild, tmp_path)
    env = managed_env(instance)
    delays, deaths, repaired = [], [], 0
    try:
        for i in range(20):
            vs = [start_victim(victim, env, 4, "churn") for _ in range(2)]
            instance.wait_snapshot(lambda s: all(p["threads"] >= 5 for p in s["processes"] if p["pid"] in
                                                 {v.pid for v in vs}) and {v.pid for v in vs} <= managed_pids(s),
                                   timeout=30, what="churning victims")
            time.sleep(rng.uniform(0.005, 0.05))
            t_kill = kill(vs[0])
            time.sleep(rng.uniform(0, 0.01))
            kill(vs[1])
            death, delay = peer.recovery(t_kill, vs)
            deaths.append(death)
            delays.append(delay)
            for v in vs:
                v.wait(timeout=30)
            assert delays[-1] < MAX_DELAY_S, report(f"kill {i}", delays, deaths) + f"\n{peer.stall}"
            snap = instance.wait_snapshot(lambda s: not ({v.pid for v in vs} & managed_pids(s)), timeout=5,
                                          what="victims reaped")
            assert managed_pids(snap) == {peer.proc.pid}, snap["processes"]
            assert not check_snapshot_consistent(snap)
    finally:
        out, err = peer.stop()
    repaired = err.count("repairing shared state")
    print("\n" + report("kill -9 of churning victims", delays, deaths)
          + f"; {repaired} kill(s) landed inside the critical section (repaired)")
