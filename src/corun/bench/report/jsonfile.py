"""The JSON result file: schema ``corun-bench/1``.

Top level: schema, scenario, description, size, repeat, cores, command (the exact command that
reproduces the file), started, finished, machine, settings, order (execution order of the runs:
case, rep, mode), cases, targets. Each case: its definition (key, group, label, params, procs,
cmd, env, metric, timeout_s, skip, baseline, scaling), ``plain`` and ``corun`` summaries
(n_ok, n_runs, median, min, max), ``ratio`` (corun/plain of the medians), ``speedup`` (>1:
corun better, whatever the metric's direction), ``scaled`` (per mode: vs the
one-process case of the same mode; ``corun_vs_plain_base``: corun vs plain's one-process case,
which the targets use)
and every run (mode, rep, status, value, elapsed_s, returncode, error, detail).
"""
from __future__ import annotations

import json
import os
from pathlib import Path
from typing import Any

from corun.bench.model import MODES, BenchResult, scaled

SCHEMA = "corun-bench/1"


def document(result: BenchResult) -> dict[str, Any]:
    cases = []
    for key, cr in result.results.items():
        d = cr.case.to_dict()
        for mode in MODES:
            d[mode] = cr.summary(mode).to_dict()
        d["ratio"] = cr.ratio()
        d["speedup"] = cr.speedup()
        d["scaled"] = {mode: scaled(result.results, key, mode) for mode in MODES}
        d["scaled"]["corun_vs_plain_base"] = scaled(result.results, key, "corun", "plain")
        d["runs"] = [r.to_dict() for r in cr.runs]
        cases.append(d)
    return {
        "schema": SCHEMA,
        "scenario": result.scenario,
        "description": result.description,
        "size": result.size,
        "repeat": result.repeat,
        "cores": result.cores,
        "command": result.command,
        "started": result.started,
        "finished": result.finished,
        "machine": result.machine,
        "settings": result.settings,
        "order": [{"case": c, "rep": r, "mode": m} for c, r, m in result.order],
        "cases": cases,
        "targets": [t.to_dict() for t in result.targets],
    }


def write(result: BenchResult, path: str | os.PathLike[str]) -> Path:
    p = Path(path)
    p.parent.mkdir(parents=True, exist_ok=True)
    tmp = p.with_name(p.name + ".tmp")
    tmp.write_text(json.dumps(document(result), indent=1, sort_keys=False) + "\n")
    os.replace(tmp, p)
    return p
