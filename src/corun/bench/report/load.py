"""Read a JSON result file back into a BenchResult (``corun bench show``).

Targets are re-evaluated with the current code, so an older file shows today's definitions.
"""
from __future__ import annotations

import json
import os
from pathlib import Path
from typing import Any

from corun.bench.model import BenchResult, Case, CaseResult, Metric, Run
from corun.bench.report.jsonfile import SCHEMA

CASE_FIELDS = ("key", "group", "label", "params", "procs", "cmd", "env", "timeout_s", "skip",
               "baseline", "scaling")
RUN_FIELDS = ("case", "mode", "rep", "status", "value", "elapsed_s", "returncode", "error",
              "detail")


class ResultFileError(ValueError):
    pass


def from_document(doc: dict[str, Any]) -> BenchResult:
    from corun.bench.scenarios import get

    if doc.get("schema") != SCHEMA:
        raise ResultFileError(f"not a {SCHEMA} result file (schema {doc.get('schema')!r})")
    try:
        scenario = get(doc["scenario"])
        results: dict[str, CaseResult] = {}
        for c in doc["cases"]:
            case = Case(metric=Metric(**c["metric"]), **{k: c[k] for k in CASE_FIELDS})
            runs = [Run(**{k: r[k] for k in RUN_FIELDS}) for r in c["runs"]]
            results[case.key] = CaseResult(case, runs)
        return BenchResult(
            scenario=doc["scenario"], description=doc["description"], size=doc["size"],
            repeat=doc["repeat"], cores=doc["cores"], command=doc["command"],
            started=doc["started"], finished=doc["finished"], machine=doc["machine"],
            settings=doc["settings"], results=results,
            order=[(o["case"], o["rep"], o["mode"]) for o in doc["order"]],
            targets=scenario.targets(results, doc["cores"]), plot_kind=scenario.plot_kind)
    except (KeyError, TypeError) as e:
        raise ResultFileError(f"malformed result file: {e!r}") from None


def read(path: str | os.PathLike[str]) -> BenchResult:
    try:
        doc = json.loads(Path(path).read_text())
    except (OSError, json.JSONDecodeError) as e:
        raise ResultFileError(f"cannot read {path}: {e}") from None
    return from_document(doc)
