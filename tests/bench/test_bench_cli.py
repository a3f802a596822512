"""`corun bench` / `corun demo` from the command line, end to end at the smallest sizes."""
from __future__ import annotations

import json
import os
import subprocess
import sys

from corun.bench.scenarios import SCENARIOS


def corun(*args: str, cwd=None, timeout: float = 120) -> subprocess.CompletedProcess[str]:
    env = dict(os.environ, COLUMNS="250")
    return subprocess.run([sys.executable, "-m", "corun", *args], capture_output=True, text=True,
                          cwd=cwd, env=env, timeout=timeout)


def test_bench_help_lists_every_scenario_and_option():
    p = corun("bench", "--help")
    assert p.returncode == 0, p.stderr
    for name in SCENARIOS:
        assert name in p.stdout
    for opt in ("--repeat", "--json", "--plot", "--timeout", "--instance", "--only", "--size"):
        assert opt in p.stdout
    assert f"{len(os.sched_getaffinity(0))} cores" in p.stdout


def test_demo_help():
    p = corun("demo", "--help")
    assert p.returncode == 0, p.stderr
    assert "--repeat" in p.stdout and "plain" in p.stdout


def test_bench_list_describes_scenarios():
    p = corun("bench", "list")
    assert p.returncode == 0, p.stderr
    for name in SCENARIOS:
        assert name in p.stdout


def test_bad_arguments_exit_2():
    assert corun("bench", "no-such-scenario").returncode == 2
    p = corun("bench", "numpy-procs", "--repeat", "0")
    assert p.returncode == 2 and "--repeat" in p.stderr
    p = corun("bench", "numpy-procs", "--only", "zzz", "--size", "tiny")
    assert p.returncode == 2 and "no case" in p.stderr


def test_tiny_bench_writes_table_json_and_png(tmp_path):
    p = corun("bench", "numpy-procs", "--size", "tiny", "--repeat", "1", "--only", "P=1",
              "--only", "P=2", "--timeout", "30", "--json", "out/r.json", "--plot", "out/r.png",
              cwd=tmp_path)
    assert p.returncode == 0, p.stderr + p.stdout
    assert "numpy P=1" in p.stdout and "corun/plain" in p.stdout
    doc = json.loads((tmp_path / "out" / "r.json").read_text())
    assert doc["command"] == ("corun bench numpy-procs --size tiny --only P=1 --only P=2 "
                              "--repeat 1 --timeout 30 --json out/r.json --plot out/r.png")
    assert [c["key"] for c in doc["cases"]] == ["numpy P=1", "numpy P=2"]
    assert [(o["case"], o["mode"]) for o in doc["order"]] == [
        ("numpy P=1", "plain"), ("numpy P=1", "corun"), ("numpy P=2", "plain"),
        ("numpy P=2", "corun")]
    for case in doc["cases"]:
        plain = [r for r in case["runs"] if r["mode"] == "plain"]
        corun_runs = [r for r in case["runs"] if r["mode"] == "corun"]
        assert plain[0]["status"] == "ok" and plain[0]["value"] > 0
        assert len(plain[0]["detail"]["children"]) == case["procs"]
        # corun's side is whatever the scheduler does today, but it is always recorded
        assert len(corun_runs) == 1 and corun_runs[0]["status"] in ("ok", "failed", "timeout")
    assert (tmp_path / "out" / "r.png").read_bytes()[:4] == b"\x89PNG"


def test_broken_corun_side_is_reported_and_the_bench_completes(tmp_path):
    # corun run refuses an invalid quantum before starting CMD: every corun run fails
    p = corun("bench", "gomp-procs", "--size", "tiny", "--repeat", "1", "--only", "libgomp P=1",
              "--corun-arg=--quantum=-1", "--json", "g.json", cwd=tmp_path)
    assert p.returncode == 0, p.stderr + p.stdout
    assert "corun: 1 failed" in p.stdout and "quantum" in p.stdout
    doc = json.loads((tmp_path / "g.json").read_text())
    case = doc["cases"][0]
    assert case["plain"]["n_ok"] == 1 and case["corun"]["n_ok"] == 0
    assert case["ratio"] is None
    assert (tmp_path / "g.png").exists()                  # --plot defaults next to --json

