"""JSON schema, PNG plots of every kind, and the console table."""
from __future__ import annotations

import json
import os
import subprocess
import sys

import pytest
from rich.console import Console

from bench_helpers import make_case, result_for
from corun.bench.report import console, jsonfile, plot

PNG_MAGIC = b"\x89PNG\r\n\x1a\n"


def test_json_document_schema(numpy_like_result, tmp_path):
    path = jsonfile.write(numpy_like_result, tmp_path / "sub" / "r.json")
    doc = json.loads(path.read_text())
    assert doc["schema"] == "corun-bench/1"
    for key in ("scenario", "description", "size", "repeat", "cores", "command", "started",
                "finished", "machine", "settings", "order", "cases", "targets"):
        assert key in doc
    assert doc["command"].startswith("corun bench numpy-procs")
    assert [o["mode"] for o in doc["order"]][:4] == ["plain", "corun", "plain", "corun"]
    assert len(doc["order"]) == 12                      # 2 cases run x 3 reps x 2 modes
    case = {c["key"]: c for c in doc["cases"]}
    p2 = case["numpy P=2"]
    for mode in ("plain", "corun"):
        assert set(p2[mode]) == {"n_ok", "n_runs", "median", "min", "max"}
    assert p2["corun"]["median"] == 94.0 and p2["plain"]["min"] == 10.0
    assert p2["ratio"] == pytest.approx(4.7) and p2["speedup"] == pytest.approx(4.7)
    assert p2["metric"]["unit"] == "GFLOP/s" and p2["metric"]["higher_is_better"] is True
    assert p2["scaled"]["plain"] == pytest.approx(0.2)
    assert p2["scaled"]["corun"] == pytest.approx(94.0 / 97.0)
    assert p2["scaled"]["corun_vs_plain_base"] == pytest.approx(0.94)
    assert [r["status"] for r in p2["runs"]] == ["ok", "ok", "ok", "failed", "ok", "ok"]
    assert case["numpy P=4"]["skip"] == "gone" and case["numpy P=4"]["runs"] == []
    assert all({"description", "mode", "observed", "limit", "ok"} <= set(t) for t in doc["targets"])


def _nested_result():
    cases = [make_case(f"lib T={t} B={b}", "blis-pthread",
                       params={"outer_threads": t, "inner_threads": b})
             for t in (1, 2, 4, 8) for b in (1, 2, 4)]
    cases.append(make_case("gone T=1 B=1", "gone", params={"outer_threads": 1, "inner_threads": 1},
                           skip="not installed"))
    values = {}
    for c in cases:
        t = c.params["outer_threads"]
        values[(c.key, "plain")] = [10.0 / t]
        values[(c.key, "corun")] = [10.0 if t < 8 else None]
    return result_for("nested-blas", cases, values, 1)


@pytest.mark.parametrize("kind", ["bars", "heatmap", "ratio"])
def test_every_plot_kind_writes_a_png(kind, numpy_like_result, tmp_path):
    result = _nested_result() if kind == "heatmap" else numpy_like_result
    result.plot_kind = kind
    path = plot.write(result, tmp_path / "plots" / f"{kind}.png")
    data = path.read_bytes()
    assert data.startswith(PNG_MAGIC) and len(data) > 10_000


def test_nested_targets_include_the_blis_goal():
    r = _nested_result()
    blis = [t for t in r.targets if "3 x plain" in t.description]
    assert {t.description.split(":")[0] for t in blis} == {"lib T=4 B=1", "lib T=4 B=2",
                                                             "lib T=4 B=4", "lib T=8 B=1",
                                                             "lib T=8 B=2", "lib T=8 B=4"}
    t4 = [t for t in blis if t.description.startswith("lib T=4 B=1")][0]
    assert t4.observed == pytest.approx(4.0) and t4.ok is True
    assert all(t.ok is None for t in blis if "T=8" in t.description)   # corun failed


def test_table_shows_medians_ratios_failures_and_skips(numpy_like_result):
    con = Console(width=250, record=True)
    console.print_result(con, numpy_like_result)
    text = con.export_text()
    assert "numpy P=2" in text and "94.0 [92.0-96.0] (2/3 ok)" in text
    assert "4.70x" in text                                  # corun/plain
    assert "corun: 1 failed: boom" in text
    assert "skipped: gone" in text
    assert "targets: 1 met" in text


def test_result_file_round_trips_and_show_reprints_it(numpy_like_result, tmp_path):
    from corun.bench.report import load

    path = jsonfile.write(numpy_like_result, tmp_path / "r.json")
    again = load.read(path)
    assert jsonfile.document(again) == jsonfile.document(numpy_like_result)
    p = subprocess.run([sys.executable, "-m", "corun", "bench", "show", str(path), "--plot",
                        str(tmp_path / "again.png")], capture_output=True, text=True, timeout=60,
                       env={**os.environ, "COLUMNS": "250"})
    assert p.returncode == 0, p.stderr
    assert "94.0 [92.0-96.0] (2/3 ok)" in p.stdout
    assert (tmp_path / "again.png").read_bytes().startswith(PNG_MAGIC)
    (tmp_path / "bad.json").write_text('{"schema": "other"}')
    with pytest.raises(load.ResultFileError):
        load.read(tmp_path / "bad.json")


def test_busy_machine_is_flagged(numpy_like_result, tmp_path):
    numpy_like_result.machine["foreign_cpu_share"] = 0.35
    con = Console(width=250, record=True)
    console.print_result(con, numpy_like_result)
    text = con.export_text()
    assert "other processes took 35%" in text
    assert "targets (not conclusive: the machine was busy)" in text
    numpy_like_result.machine["foreign_cpu_share"] = 0.01
    con = Console(width=250, record=True)
    console.print_result(con, numpy_like_result)
    assert "other processes" not in con.export_text()


def test_cpu_accounting_counts_our_runs_as_ours():
    from corun.bench import machine

    meter = machine.ForeignLoad()
    own0, busy0 = machine.own_cpu_seconds(), machine.cpu_busy_seconds()
    subprocess.run([sys.executable, "-c",
                    "import time\nt = time.process_time()\n"
                    "while time.process_time() - t < 0.5: pass"], check=True)
    own = machine.own_cpu_seconds() - own0
    busy = machine.cpu_busy_seconds() - busy0
    assert own >= 0.45                       # the child's CPU time is ours
    assert busy >= own - 0.05                # and the machine saw at least that much
    assert 0.0 <= meter.share() <= 1.0
