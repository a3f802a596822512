"""corun bench workload: one process doing a fixed number of numpy matmuls (default BLAS threads).

    python numpy_matmul.py N ITERATIONS

Protocol shared by all bench workloads: after set-up print ``READY``, wait for one line on stdin,
run the timed part, print one JSON line with the CLOCK_MONOTONIC window (t0, t1) and the flops
done. The last product is checked against a fresh one; a wrong result exits with status 3.
"""
from __future__ import annotations

import json
import sys
import time


def main(argv: list[str]) -> int:
    if len(argv) != 2:
        print("usage: numpy_matmul.py N ITERATIONS", file=sys.stderr)
        return 2
    n, iterations = int(argv[0]), int(argv[1])
    import numpy as np

    rng = np.random.default_rng(12345)
    a = rng.standard_normal((n, n))
    b = rng.standard_normal((n, n))
    c = np.empty((n, n))
    for _ in range(3):  # warm-up: BLAS starts its threads
        np.matmul(a, b, out=c)

    print("READY", flush=True)
    if not sys.stdin.readline():
        print("numpy_matmul: no start signal on stdin", file=sys.stderr)
        return 2
    t0 = time.monotonic()
    for _ in range(iterations):
        np.matmul(a, b, out=c)
    t1 = time.monotonic()

    if not np.allclose(c, a @ b):
        print("numpy_matmul: wrong matmul result", file=sys.stderr)
        return 3
    print(json.dumps({"t0": t0, "t1": t1, "flops": 2.0 * n**3 * iterations, "n": n,
                      "iterations": iterations, "numpy": np.__version__}))
    return 0


if __name__ == "__main__":
    raise SystemExit(main(sys.argv[1:]))
