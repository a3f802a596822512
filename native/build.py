"""Build corun's native libraries with the system C compiler.

Used by setup.py (every ``pip install`` builds them) and runnable by hand:

    python native/build.py OUTDIR

Each target is one shared library made from whole component folders under
``native/``; a component is a folder of ``*.c`` files plus its headers. Add a
target here, not in setup.py.
"""
from __future__ import annotations

import os
import shlex
import subprocess
import sys
from pathlib import Path

NATIVE = Path(__file__).resolve().parent

CFLAGS = ["-std=gnu11", "-O2", "-g", "-fPIC", "-Wall", "-Wextra", "-Wno-unused-parameter",
          "-fvisibility=hidden", "-fno-strict-aliasing", "-D_GNU_SOURCE", f"-I{NATIVE}"]

# name -> (component folders, extra compiler flags, libraries)
TARGETS: dict[str, tuple[list[str], list[str], list[str]]] = {
    # Preloaded into every managed process by `corun run`.
    "libcorun.so": (["common", "sched", "intercept"], ["-ftls-model=initial-exec"], ["-ldl", "-lpthread", "-lrt"]),
    # First object of each VLC linker namespace: the context's view of CPU resources.
    "libcorun_vlc_root.so": (["common", "vlc/root"], [], ["-ldl", "-lpthread"]),
    # C/C++ API for virtual library contexts (include/corun/vlc.h).
    "libcorun_vlc.so": (["common", "vlc/api"], [], ["-ldl", "-lpthread"]),
    # Per-thread routing table read by the call trampolines of src/corun/vlc/routed.py.
    "libcorun_vlc_route.so": (["vlc/route"], [], []),
}


def sources(components: list[str]) -> list[Path]:
    out: list[Path] = []
    for comp in components:
        out.extend(sorted((NATIVE / comp).glob("*.c")))
    return out


def build(outdir: Path, cc: str | None = None, verbose: bool = False) -> list[Path]:
    cc = cc or os.environ.get("CC", "gcc")
    outdir.mkdir(parents=True, exist_ok=True)
    built = []
    for name, (components, extra, libs) in TARGETS.items():
        srcs = sources(components)
        if not srcs:
            continue
        out = outdir / name
        cmd = [cc, *CFLAGS, *extra, "-shared", "-o", str(out), *map(str, srcs), *libs]
        if verbose:
            print(" ".join(map(shlex.quote, cmd)), file=sys.stderr)
        subprocess.run(cmd, check=True)
        built.append(out)
    inc_src = NATIVE / "include"
    if inc_src.is_dir():
        inc_dst = outdir / "include"
        inc_dst.mkdir(exist_ok=True)
        for h in inc_src.rglob("*.h"):
            (inc_dst / h.name).write_bytes(h.read_bytes())
    return built


if __name__ == "__main__":
    target = Path(sys.argv[1]) if len(sys.argv) > 1 else NATIVE.parent / "src" / "corun" / "_native"
    for p in build(target, verbose=True):
        print(p)
