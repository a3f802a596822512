"""Workload programs run by ``corun bench``: Python scripts run as files and C sources compiled on
first use (see :mod:`corun.bench.toolchain`). They share one protocol: print ``READY`` when set
up, wait for a line on stdin, run the timed part, print one JSON line with the timed window."""
from __future__ import annotations

from pathlib import Path

WORKLOAD_DIR = Path(__file__).resolve().parent


def path(name: str) -> Path:
    """Absolute path of a workload file shipped with corun, e.g. ``path("omp_for.c")``."""
    p = WORKLOAD_DIR / name
    if not p.exists():
        raise FileNotFoundError(f"corun bench workload {name} is missing from {WORKLOAD_DIR}")
    return p
