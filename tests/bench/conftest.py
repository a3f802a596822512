"""Fixtures of the bench tests (helpers in bench_helpers.py)."""
from __future__ import annotations

import pytest

from bench_helpers import make_case, result_for
from corun.bench.model import WALL, BenchResult, Case


@pytest.fixture
def numpy_like_result() -> BenchResult:
    base = "numpy P=1"
    cases = [make_case(base, "numpy", 1, baseline=base, scaling="throughput"),
             make_case("numpy P=2", "numpy", 2, baseline=base, scaling="throughput"),
             make_case("numpy P=4", "numpy", 4, baseline=base, scaling="throughput", skip="gone")]
    values = {(base, "plain"): [100.0, 90.0, 110.0], (base, "corun"): [95.0, 99.0, 97.0],
              ("numpy P=2", "plain"): [20.0, 10.0, 30.0],
              ("numpy P=2", "corun"): [92.0, None, 96.0]}
    return result_for("numpy-procs", cases, values, 3)


@pytest.fixture
def wall_case() -> Case:
    return make_case("libgomp P=1", "libgomp", 1, metric=WALL)
