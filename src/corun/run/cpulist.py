"""CPU lists in taskset/cpuset syntax: ``0-3,8,10-15:2``."""
from __future__ import annotations


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
        stride = 1
        if ":" in part:
            part, _, s = part.partition(":")
            if not s.isdigit() or int(s) == 0:
                raise CpuListError(f"invalid CPU list {text!r}: bad stride {s!r}")
            stride = int(s)
        lo, sep, hi = part.partition("-")
        if not lo.isdigit() or (sep and not hi.isdigit()):
            raise CpuListError(f"invalid CPU list {text!r}: {part!r} is not a CPU number or range")
        a, b = int(lo), int(hi) if sep else int(lo)
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
