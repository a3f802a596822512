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
START_LOAD = os.getloadavg()   # other processes on the machine distort timings; recorded with results

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


def run_json(cmd: list[str], env: dict[str, str] | None = None, timeout: float | None = None) -> dict:
    out = subprocess.run(cmd, capture_output=True, text=True, env=env, timeout=timeout)
    if out.returncode:
        raise RuntimeError(f"{' '.join(cmd)} exited with {out.returncode}: {out.stderr.strip()}")
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
            "glibc": platform.libc_ver()[1], "python": platform.python_version(),
            "load_average_at_end": os.getloadavg(), "niceness": os.nice(0),
            "autogroup_nice": os.environ.get("CORUN_BENCH_AUTOGROUP_NICE")}


def write(name: str, data: dict) -> Path:
    RESULTS.mkdir(parents=True, exist_ok=True)
    data = {"benchmark": name, "load_average_at_start": START_LOAD, "command": " ".join(map(shlex.quote, [Path(sys.executable).name, *sys.argv])),
            "date_utc": time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime()), "machine": machine(), **data}
    path = RESULTS / f"vlc-{name}.json"
    path.write_text(json.dumps(data, indent=2) + "\n")
    print(f"wrote {path.relative_to(REPO)}")
    return path


def blas_env() -> dict[str, str]:
    """The environment for BLAS benchmarks. Debian's OpenBLAS 0.3.21 does not recognise recent Xeons
    and falls back to its slow Prescott kernels; on CPUs with AVX-512 we select SkylakeX kernels
    (recorded in each result file), for the base and the context runs alike."""
    env = dict(os.environ)
    try:
        flags = next((line for line in open("/proc/cpuinfo") if line.startswith("flags")), "")
    except OSError:
        flags = ""
    if "avx512f" in flags.split() and "OPENBLAS_CORETYPE" not in env:
        env["OPENBLAS_CORETYPE"] = "SkylakeX"
    return env
