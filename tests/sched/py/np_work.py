"""numpy matmuls from several threads or processes; prints one JSON line of result hashes.

    np_work.py MODE [N] [JOBS]     MODE: serial | threads | fork | spawn | forkserver

Every job multiplies seeded random matrices (float64 and float32, square and rectangular, chained)
and returns the SHA-256 of the result bytes; the output is {job: hash}, identical whatever ran
the jobs (one thread, a thread pool, processes) and wherever (plain or under corun).
"""
import hashlib
import json
import multiprocessing as mp
import sys
from concurrent.futures import ThreadPoolExecutor

import numpy as np


def job(k: int, n: int) -> tuple[int, str]:
    rng = np.random.default_rng(1000 + k)
    h = hashlib.sha256()
    a = rng.standard_normal((n, n))
    b = rng.standard_normal((n, n))
    c = a @ b
    c = c @ a.T
    h.update(c.tobytes())
    r = rng.standard_normal((n + 17, n // 2 + 3)).astype(np.float32)
    s = rng.standard_normal((n // 2 + 3, n - 5)).astype(np.float32)
    h.update((r @ s).tobytes())
    v = rng.standard_normal(n)
    h.update((a @ v).tobytes())
    return k, h.hexdigest()


def run_job(args):
    return job(*args)


def main() -> None:
    mode = sys.argv[1]
    n = int(sys.argv[2]) if len(sys.argv) > 2 else 256
    jobs = int(sys.argv[3]) if len(sys.argv) > 3 else 8
    work = [(k, n) for k in range(jobs)]
    if mode == "serial":
        res = [run_job(w) for w in work]
    elif mode == "threads":
        with ThreadPoolExecutor(4) as ex:
            res = list(ex.map(run_job, work))
    else:
        with mp.get_context(mode).Pool(4) as pool:
            res = pool.map(run_job, work)
    print(json.dumps({str(k): h for k, h in sorted(res)}))


if __name__ == "__main__":
    main()
