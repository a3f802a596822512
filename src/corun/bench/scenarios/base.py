"""What a scenario is, and helpers shared by the scenarios."""
from __future__ import annotations

import sys
from dataclasses import dataclass, field
from typing import Callable

from corun.bench.model import SIZES, Case, CaseResult, Target

# Per-run time limits by size, seconds: generous enough for plain Linux's collapse.
TIMEOUTS = {"default": 300.0, "quick": 20.0, "tiny": 60.0}


def timeout_for(size: str) -> float:
    check_size(size)
    return TIMEOUTS[size]


def check_size(size: str) -> None:
    if size not in SIZES:
        raise ValueError(f"unknown size {size!r} (known: {', '.join(SIZES)})")


def python() -> str:
    return sys.executable


def multiples(cores: int, factors: tuple[int, ...], include_one: bool = True) -> list[int]:
    """Sorted distinct counts: 1 (optionally) and cores x each factor."""
    if cores < 1:
        raise ValueError("cores must be at least 1")
    values = {cores * f for f in factors}
    if include_one:
        values.add(1)
    return sorted(values)


def no_targets(results: dict[str, CaseResult], cores: int) -> list[Target]:
    return []


@dataclass(frozen=True)
class Scenario:
    name: str
    summary: str                                   # one line for `corun bench list`
    description: str                               # what runs and how it scales
    build: Callable[[int, str], list[Case]]        # (cores, size) -> cases
    targets: Callable[[dict[str, CaseResult], int], list[Target]] = field(default=no_targets)
    scaling: Callable[[int], str] = field(default=lambda cores: "")  # parameters at N cores
    plot_kind: str = "bars"                        # "bars" | "heatmap" | "ratio"
    default_repeat: int = 3
    give_up_after: int | None = None               # skip a mode after timeouts in N cases
