"""Statistics of repeated runs: median, min-max, corun/plain ratio."""
from __future__ import annotations

import statistics
from dataclasses import dataclass
from typing import Sequence


@dataclass(frozen=True)
class Summary:
    """Successful values of one case under one mode; median/min/max are None when none succeeded."""
    n_ok: int
    n_runs: int
    median: float | None
    min: float | None
    max: float | None

    def to_dict(self) -> dict[str, float | int | None]:
        return {"n_ok": self.n_ok, "n_runs": self.n_runs, "median": self.median,
                "min": self.min, "max": self.max}


def summarize(values: Sequence[float], n_runs: int | None = None) -> Summary:
    vals = sorted(float(v) for v in values)
    total = len(vals) if n_runs is None else n_runs
    if n_runs is not None and n_runs < len(vals):
        raise ValueError("n_runs is smaller than the number of values")
    if not vals:
        return Summary(0, total, None, None, None)
    return Summary(len(vals), total, statistics.median(vals), vals[0], vals[-1])


def ratio(numerator: float | None, denominator: float | None) -> float | None:
    """numerator / denominator, or None when either is missing or the denominator is zero."""
    if numerator is None or denominator is None or denominator == 0:
        return None
    return numerator / denominator


def speedup(corun: float | None, plain: float | None, higher_is_better: bool) -> float | None:
    """How many times better corun is than plain (>1: corun better), for either metric direction."""
    return ratio(corun, plain) if higher_is_better else ratio(plain, corun)
