"""The machine a benchmark runs on: usable cores (scenarios scale to them) and a description."""
from __future__ import annotations

import hashlib
import os
import platform
import resource
import subprocess
import sys
import time
from datetime import datetime, timezone
from importlib import metadata
from typing import Any

from corun import __version__

RELEVANT_ENV = ("OMP_NUM_THREADS", "OPENBLAS_NUM_THREADS", "BLIS_NUM_THREADS", "MKL_NUM_THREADS",
                "OMP_WAIT_POLICY", "GOMP_SPINCOUNT", "OMP_PROC_BIND", "OMP_PLACES", "LD_PRELOAD")


def usable_cores() -> int:
    """CPUs this process may run on (its affinity), the unit every scenario scales by."""
    return len(os.sched_getaffinity(0))


def cpu_busy_seconds() -> float:
    """CPU time all processes of the machine have used since boot (/proc/stat, all CPUs)."""
    try:
        with open("/proc/stat") as f:
            fields = f.readline().split()[1:]
    except OSError:
        return 0.0
    # user nice system idle iowait irq softirq steal: all but idle and iowait are busy
    ticks = [int(x) for x in fields[:8]]
    busy = sum(ticks) - ticks[3] - ticks[4]
    return busy / os.sysconf("SC_CLK_TCK")


def own_cpu_seconds() -> float:
    """CPU time of this process and of all its waited-for descendants (the benchmark's runs)."""
    total = 0.0
    for who in (resource.RUSAGE_SELF, resource.RUSAGE_CHILDREN):
        ru = resource.getrusage(who)
        total += ru.ru_utime + ru.ru_stime
    return total


class ForeignLoad:
    """How much CPU other processes took while the benchmark ran (they disturb its numbers)."""

    def __init__(self) -> None:
        self.start = time.monotonic()
        self.busy0 = cpu_busy_seconds()
        self.own0 = own_cpu_seconds()

    def share(self) -> float:
        """Foreign CPU time as a fraction of all CPU time available meanwhile (0..1)."""
        wall = time.monotonic() - self.start
        foreign = (cpu_busy_seconds() - self.busy0) - (own_cpu_seconds() - self.own0)
        return max(0.0, foreign / (wall * (os.cpu_count() or 1))) if wall > 0 else 0.0


def _cpu_model() -> str:
    try:
        with open("/proc/cpuinfo") as f:
            for line in f:
                if line.startswith("model name"):
                    return line.split(":", 1)[1].strip()
    except OSError:
        pass
    return platform.processor() or "unknown"


def _git_commit() -> str | None:
    here = os.path.dirname(os.path.abspath(__file__))
    try:
        out = subprocess.run(["git", "-C", here, "rev-parse", "--short", "HEAD"],
                             capture_output=True, text=True, timeout=10)
    except (OSError, subprocess.SubprocessError):
        return None
    if out.returncode != 0:
        return None
    return out.stdout.strip() or None


def _preload_fingerprint() -> dict[str, Any] | None:
    """Which libcorun.so the corun runs loaded: the scheduler changes faster than commits."""
    try:
        from corun._native import library
        path = library("libcorun.so")
        data = path.read_bytes()
    except Exception:  # missing or unbuilt native library: the corun runs will say so
        return None
    return {"path": str(path), "sha256": hashlib.sha256(data).hexdigest()[:16],
            "mtime": datetime.fromtimestamp(path.stat().st_mtime, timezone.utc).isoformat(
                timespec="seconds")}


def describe() -> dict[str, Any]:
    try:  # without importing numpy: that would start BLAS threads in the bench process
        numpy_version: str | None = metadata.version("numpy")
    except metadata.PackageNotFoundError:
        numpy_version = None
    return {
        "cores": usable_cores(),
        "cpus_online": os.cpu_count(),
        "cpu_model": _cpu_model(),
        "kernel": platform.release(),
        "libc": " ".join(platform.libc_ver()),
        "python": sys.version.split()[0],
        "numpy": numpy_version,
        "corun": __version__,
        "git_commit": _git_commit(),
        "libcorun": _preload_fingerprint(),
        "loadavg": list(os.getloadavg()),
        "env": {k: os.environ[k] for k in RELEVANT_ENV if k in os.environ},
    }
