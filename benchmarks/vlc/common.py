"""Shared by the VLC benchmark scripts: compile C helpers, run them, take medians, write results.

Every result file (benchmarks/results/vlc-*.json) records the command that produced it, the machine,
the raw samples, their medians, ratios against baselines measured in the same run, and the paper's
figures for comparison."""
from __future__ import annotations

import json
import os
import platform
import shlex
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

HERE = Path(__file__).resolve().parent
REPO = HERE.parents[1]
RESULTS = REPO / "benchmarks" / "results"
BUILD = Path(tempfile.gettempdir()) / "corun-vlc-bench"

DEBIAN_OPENBLAS = "/usr/lib/x86_64-linux-gnu/openblas-pthread/libopenblas.so.0"


def native_dir() -> Path:
    from corun._native import library

    return library("libcorun_vlc.so").parent


def compile_c(src: str, out: str, *args: str, shared: bool = False) -> str:
    BUILD.mkdir(parents=True, exist_ok=True)
    dst = BUILD / out
    nd = native_dir()
    cmd = ["gcc", "-O2", "-std=gnu11", *(["-shared", "-fPIC"] if shared else []), "-o", str(dst), str(HERE / src),
           f"-I{REPO / 'native' / 'include'}", f"-L{nd}", "-lcorun_vlc", f"-Wl,-rpath,{nd}", "-ldl", "-lpthread",
           "-lm", *args]
    subprocess.run(cmd, check=True)
    return str(dst)


def run_json(cmd: list[str], env: dict[str, str] | None = None) -> dict:
    out = subprocess.run(cmd, check=True, capture_output=True, text=True, env=env)
    return json.loads(out.stdout.strip().splitlines()[-1])


def median(xs) -> float:
    return float(statistics.median(xs))


def machine() -> dict:
    model = ""
    try:
        for line in open("/proc/cpuinfo"):
            if line.startswith("model name"):
                model = line.split(":", 1)[1].strip()
                break
    except OSError:
        pass
    return {"cpus": len(os.sched_getaffinity(0)), "cpu_model": model, "kernel": platform.release(),
            "glibc": platform.libc_ver()[1], "python": platform.python_version()}


def write(name: str, data: dict) -> Path:
    RESULTS.mkdir(parents=True, exist_ok=True)
    data = {"benchmark": name, "command": " ".join(map(shlex.quote, [Path(sys.executable).name, *sys.argv])),
            "date_utc": time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime()), "machine": machine(), **data}
    path = RESULTS / f"vlc-{name}.json"
    path.write_text(json.dumps(data, indent=2) + "\n")
    print(f"wrote {path.relative_to(REPO)}")
    return path
