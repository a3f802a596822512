"""CPU lists in taskset/cpuset syntax: ``0-3,8,10-15:2``."""
from __future__ import annotations

import re

# Highest CPU number accepted: far above any kernel's NR_CPUS, low enough that "0-99999999999"
# is an error instead of a list of 10^11 numbers.
MAX_CPU = (1 << 16) - 1
_ITEM = re.compile(r"([0-9]+)(?:-([0-9]+))?(?::([0-9]+))?")  # ASCII digits only: "²", "١" are not CPUs


class CpuListError(ValueError):
    pass


def parse_cpulist(text: str) -> list[int]:
    """Parse a CPU list (``"0-3,8,10-14:2"``) into a sorted list of unique CPU numbers."""
    if not isinstance(text, str) or not text.strip():
        raise CpuListError("empty CPU list")
    cpus: set[int] = set()
    for part in text.replace(" ", "").split(","):
        if not part:
            raise CpuListError(f"invalid CPU list {text!r}: empty item")
        m = _ITEM.fullmatch(part)
        if not m:
            raise CpuListError(f"invalid CPU list {text!r}: {part!r} is not a CPU number or range")
        lo, hi, s = m.groups()
        if any(len(x) > 6 or int(x) > MAX_CPU for x in (lo, hi) if x is not None):
            raise CpuListError(f"invalid CPU list {text!r}: {part!r}: CPU numbers go up to {MAX_CPU}")
        if s is not None and (len(s) > 6 or int(s) == 0):
            raise CpuListError(f"invalid CPU list {text!r}: bad stride {s!r}")
        a = int(lo)
        b = int(hi) if hi is not None else a
        stride = int(s) if s is not None else 1
        if b < a:
            raise CpuListError(f"invalid CPU list {text!r}: range {part} is reversed")
        cpus.update(range(a, b + 1, stride))
    return sorted(cpus)


def format_cpulist(cpus) -> str:
    """Compact form of a set of CPUs: ``[0,1,2,3,8]`` -> ``"0-3,8"``."""
    cpus = sorted(set(cpus))
    out, i = [], 0
    while i < len(cpus):
        j = i
        while j + 1 < len(cpus) and cpus[j + 1] == cpus[j] + 1:
            j += 1
        out.append(str(cpus[i]) if i == j else f"{cpus[i]}-{cpus[j]}")
        i = j + 1
    return ",".join(out)
