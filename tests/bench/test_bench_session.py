"""A whole invocation in-process: interruption still reports and writes what was measured."""
from __future__ import annotations

import json

import pytest
from rich.console import Console

from bench_helpers import make_case
from corun.bench import runner, session
from corun.bench.model import Run
from corun.bench.scenarios import get


def test_interrupt_writes_partial_results(tmp_path, monkeypatch):
    cases = [make_case("numpy P=1", "numpy", 1), make_case("numpy P=2", "numpy", 2)]
    scenario = get("numpy-procs")
    calls = []

    def step(s: runner.Step, prefix: list[str]) -> Run:
        calls.append(s)
        if len(calls) == 4:
            raise KeyboardInterrupt
        return Run(s.case.key, s.mode, s.rep, "ok", 10.0 + len(calls), 0.1, 0)

    monkeypatch.setattr(runner, "run_step", step)
    req = session.Request(scenario=scenario, size="tiny", repeat=2, command="corun bench x",
                          instance="t", cores=2, json_path=tmp_path / "r.json",
                          plot_path=tmp_path / "r.png")
    monkeypatch.setattr(session, "select", lambda built, only: cases)
    con = Console(width=200, record=True)
    with pytest.raises(KeyboardInterrupt):
        session.run(req, con)
    doc = json.loads((tmp_path / "r.json").read_text())
    assert doc["settings"]["interrupted_after_runs"] == 3
    assert [(o["case"], o["rep"], o["mode"]) for o in doc["order"]] == [
        ("numpy P=1", 0, "plain"), ("numpy P=1", 0, "corun"), ("numpy P=1", 1, "plain")]
    first = doc["cases"][0]
    assert first["plain"]["median"] == pytest.approx(12.0) and first["corun"]["n_ok"] == 1
    assert doc["cases"][1]["runs"] == []
    assert (tmp_path / "r.png").exists()
    assert "interrupted after 3 of 8 runs" in con.export_text()
