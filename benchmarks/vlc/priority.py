"""Run a command in a new scheduler autogroup with raised priority (root only), for measuring on a
machine shared with other work. With autogroups enabled (Linux default), plain `nice` only orders
threads within one session; competing sessions still split the CPUs evenly.

    python3 benchmarks/vlc/priority.py -10 python3 benchmarks/vlc/arpack.py
"""
from __future__ import annotations

import os
import sys


def main() -> None:
    nice = int(sys.argv[1])
    os.setsid()
    try:
        with open("/proc/self/autogroup", "w") as f:
            f.write(str(nice))
    except OSError as e:
        print(f"priority: cannot set the autogroup's nice value: {e}", file=sys.stderr)
    os.environ["CORUN_BENCH_AUTOGROUP_NICE"] = str(nice)
    os.nice(nice - os.nice(0))
    os.execvp(sys.argv[2], sys.argv[2:])


if __name__ == "__main__":
    main()
