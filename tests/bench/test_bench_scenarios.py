"""Every scenario scales with the core count (the affinity), never with a fixed number."""
from __future__ import annotations

import os

import pytest

from corun.bench import libraries, machine
from corun.bench.scenarios import DEMO, SCENARIOS, get, gomp_procs, nested_blas, numpy_procs, overhead

CORES = (1, 2, 3, 16)


@pytest.mark.parametrize("cores", CORES)
def test_numpy_procs_scale_to_four_times_the_cores(cores):
    cases = numpy_procs.build(cores, "tiny")
    procs = [c.procs for c in cases]
    assert procs == sorted({1, cores, 2 * cores, 4 * cores})
    assert all(c.baseline == "numpy P=1" and c.scaling == "throughput" for c in cases)
    assert all(c.params["n"] == numpy_procs.SIZES["tiny"][0] for c in cases)


@pytest.mark.parametrize("cores", CORES)
def test_gomp_procs_use_cores_threads_and_both_runtimes(cores):
    cases = gomp_procs.build(cores, "tiny")
    for runtime in gomp_procs.RUNTIMES:
        mine = [c for c in cases if c.group == runtime]
        assert [c.procs for c in mine] == sorted({1, cores, 2 * cores})
        assert all(c.env["OMP_NUM_THREADS"] == str(cores) for c in mine)
        assert all(c.scaling == "serial" and c.baseline == f"{runtime} P=1" for c in mine)


@pytest.mark.parametrize("cores", CORES)
def test_nested_blas_grid(cores):
    cases = nested_blas.build(cores, "tiny")
    libs = [lib.name for lib in libraries.blas_libraries()]
    assert sorted({c.group for c in cases}) == sorted(libs)
    ts = sorted({c.params["outer_threads"] for c in cases})
    bs = sorted({c.params["inner_threads"] for c in cases})
    assert ts == sorted({1, cores, 2 * cores, 4 * cores})
    assert bs == sorted({1, cores, 2 * cores})
    assert len(cases) == len(libs) * len(ts) * len(bs)
    for c in cases:
        b = str(c.params["inner_threads"])
        assert c.env == {"OPENBLAS_NUM_THREADS": b, "OMP_NUM_THREADS": b, "BLIS_NUM_THREADS": b}
        assert c.params["calls"] >= c.params["outer_threads"]   # every outer thread has work


def test_missing_library_is_skipped_with_its_package_named():
    gone = libraries.BlasLibrary("nowhere", None, "Debian libnowhere0", "test")
    cases = nested_blas.build(2, "tiny", outer=[1], inner=[1], libraries=[gone])
    assert len(cases) == 1 and "libnowhere0" in cases[0].skip


@pytest.mark.parametrize("cores", CORES)
def test_overhead_is_the_non_oversubscribed_case_of_each(cores):
    cases = overhead.build(cores, "tiny")
    for c in cases:
        assert c.procs == 1
        if c.group in gomp_procs.RUNTIMES:
            assert c.env["OMP_NUM_THREADS"] == str(cores)
        elif c.group != "numpy":
            assert c.params["outer_threads"] == 1 and c.params["inner_threads"] == cores
    assert {c.group for c in cases} >= {"numpy", "libgomp", "libomp"}


def test_demo_is_short_numpy_and_libgomp():
    cases = DEMO.build(2, "quick")
    assert {c.group for c in cases} == {"numpy", "libgomp"}
    assert [c.procs for c in cases if c.group == "numpy"] == [1, 2, 4]
    assert DEMO.default_repeat < SCENARIOS["numpy-procs"].default_repeat


def test_core_count_comes_from_the_affinity(monkeypatch):
    monkeypatch.setattr(os, "sched_getaffinity", lambda pid: {0, 1, 2, 5, 7})
    assert machine.usable_cores() == 5
    assert "P = 1, 5, 10, 20" in SCENARIOS["numpy-procs"].scaling(machine.usable_cores())


def test_unknown_scenario_and_size():
    with pytest.raises(KeyError):
        get("nope")
    with pytest.raises(ValueError):
        numpy_procs.build(2, "huge")
