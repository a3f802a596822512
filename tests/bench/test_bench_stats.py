import pytest

from bench_helpers import make_case, result_for
from corun.bench.model import WALL, scaled
from corun.bench.stats import ratio, speedup, summarize


def test_median_odd_and_even_with_min_max():
    s = summarize([3.0, 1.0, 2.0])
    assert (s.median, s.min, s.max, s.n_ok, s.n_runs) == (2.0, 1.0, 3.0, 3, 3)
    s = summarize([4.0, 1.0, 2.0, 10.0], n_runs=5)
    assert s.median == 3.0 and s.min == 1.0 and s.max == 10.0
    assert (s.n_ok, s.n_runs) == (4, 5)


def test_no_values_gives_no_median():
    s = summarize([], n_runs=3)
    assert s.median is None and s.min is None and s.n_ok == 0 and s.n_runs == 3
    with pytest.raises(ValueError):
        summarize([1.0, 2.0], n_runs=1)


def test_ratio_and_speedup_directions():
    assert ratio(3.0, 2.0) == 1.5
    assert ratio(None, 2.0) is None and ratio(1.0, None) is None and ratio(1.0, 0.0) is None
    assert speedup(120.0, 60.0, higher_is_better=True) == 2.0      # throughput doubled
    assert speedup(0.5, 2.0, higher_is_better=False) == 4.0        # wall time quartered
    assert speedup(None, 2.0, higher_is_better=False) is None


def test_case_summary_ignores_failed_runs_and_counts_them(numpy_like_result):
    cr = numpy_like_result.results["numpy P=2"]
    corun = cr.summary("corun")
    assert (corun.n_ok, corun.n_runs, corun.median) == (2, 3, 94.0)
    assert cr.summary("plain").median == 20.0
    assert cr.ratio() == pytest.approx(94.0 / 20.0)
    assert [r.status for r in cr.failures("corun")] == ["failed"]


def test_scaling_against_one_process(numpy_like_result, wall_case):
    res = numpy_like_result.results
    assert scaled(res, "numpy P=2", "plain") == pytest.approx(20.0 / 100.0)
    assert scaled(res, "numpy P=2", "corun") == pytest.approx(94.0 / 97.0)
    assert scaled(res, "numpy P=4", "corun") is None          # skipped: no runs
    cases = [make_case("libgomp P=1", "libgomp", 1, metric=WALL, baseline="libgomp P=1",
                       scaling="serial"),
             make_case("libgomp P=4", "libgomp", 4, metric=WALL, baseline="libgomp P=1",
                       scaling="serial")]
    r = result_for("gomp-procs", cases, {("libgomp P=1", "plain"): [1.0],
                                         ("libgomp P=1", "corun"): [1.0],
                                         ("libgomp P=4", "plain"): [40.0],
                                         ("libgomp P=4", "corun"): [4.4]}, 1)
    assert scaled(r.results, "libgomp P=4", "plain") == pytest.approx(10.0)
    assert scaled(r.results, "libgomp P=4", "corun") == pytest.approx(1.1)
    ok = {t.description.split(":")[0]: t.ok for t in r.targets}
    assert ok == {"libgomp P=4": True}


def test_numpy_targets_follow_the_measurement(numpy_like_result):
    targets = {t.description.split(":")[0]: t for t in numpy_like_result.targets}
    assert targets["numpy P=2"].ok is True          # corun 94 vs plain P=1 100: >= 0.9
    assert targets["numpy P=2"].observed == pytest.approx(94.0 / 100.0)
    assert "numpy P=4" not in targets or targets["numpy P=4"].ok is None
