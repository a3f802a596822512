"""The scenarios of ``corun bench``, each scaled to the machine's core count.

A scenario turns (cores, size) into cases and checks issue 3's targets against the results.
Sizes: ``default`` (the committed measurements), ``quick`` (``corun demo``), ``tiny`` (tests).
"""
from __future__ import annotations

from corun.bench.scenarios.base import Scenario
from corun.bench.scenarios import demo, gomp_procs, nested_blas, numpy_procs, overhead

SCENARIOS: dict[str, Scenario] = {s.name: s for s in (
    numpy_procs.SCENARIO, gomp_procs.SCENARIO, nested_blas.SCENARIO, overhead.SCENARIO)}
DEMO: Scenario = demo.SCENARIO


def get(name: str) -> Scenario:
    if name == DEMO.name:
        return DEMO
    try:
        return SCENARIOS[name]
    except KeyError:
        raise KeyError(f"unknown scenario {name!r} (known: {', '.join(SCENARIOS)})") from None


__all__ = ["DEMO", "SCENARIOS", "Scenario", "get"]
