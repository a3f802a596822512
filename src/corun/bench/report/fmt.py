"""Short text forms of values shared by the table and the plots."""
from __future__ import annotations

from corun.bench.model import CaseResult
from corun.bench.stats import Summary

UNITS = {"GFLOP/s": "GF/s", "s": "s"}


def number(v: float | None) -> str:
    if v is None:
        return "-"
    a = abs(v)
    if a >= 100:
        return f"{v:.0f}"
    if a >= 10:
        return f"{v:.1f}"
    if a >= 1:
        return f"{v:.2f}"
    return f"{v:.3g}"


def factor(v: float | None) -> str:
    return "-" if v is None else f"{v:.2f}x"


def unit(u: str, higher_is_better: bool) -> str:
    return f"{UNITS.get(u, u)} {'(higher better)' if higher_is_better else '(lower better)'}"


def summary(s: Summary) -> str:
    """``median [min-max]``, with ``(k/n ok)`` when some runs did not succeed."""
    if s.median is None:
        return "-" if s.n_runs else "not run"
    spread = "" if s.n_ok < 2 else f" [{number(s.min)}-{number(s.max)}]"
    partial = "" if s.n_ok == s.n_runs else f" ({s.n_ok}/{s.n_runs} ok)"
    return f"{number(s.median)}{spread}{partial}"


def problems(cr: CaseResult) -> str:
    """Why runs are missing: skipped case, or per mode the failure kinds and the first message."""
    if cr.case.skip:
        return f"skipped: {cr.case.skip}"
    notes = []
    for mode in ("plain", "corun"):
        bad = cr.failures(mode)
        if not bad:
            continue
        kinds: dict[str, int] = {}
        for r in bad:
            kinds[r.status] = kinds.get(r.status, 0) + 1
        counts = ", ".join(f"{n} {k}" for k, n in kinds.items())
        notes.append(f"{mode}: {counts}: {bad[0].error or ''}".rstrip(": "))
    return "; ".join(notes)
