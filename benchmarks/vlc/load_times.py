"""Table 3 of the VLC paper: time to load 4 instances of a library into contexts, against standard
loading, each sample in a fresh process (median of --samples).

    python3 benchmarks/vlc/load_times.py [--samples 9]
"""
from __future__ import annotations

import argparse
import os
import shutil
import tempfile

from common import DEBIAN_OPENBLAS, compile_c, median, run_json, write

LIBS = {  # name -> (path, paper VLC ms, paper base ms) for 4 copies
    "OpenBLAS": (DEBIAN_OPENBLAS, 8, 11),
    "ARPACK": ("/usr/lib/x86_64-linux-gnu/libarpack.so.2", 11, 16),
    "OpenMP (libgomp)": ("/usr/lib/x86_64-linux-gnu/libgomp.so.1", 5, 3),
}


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--samples", type=int, default=9)
    ap.add_argument("--copies", type=int, default=4)
    args = ap.parse_args()
    exe = compile_c("load.c", "vlc-load")
    rows = []
    for name, (path, paper_vlc, paper_base) in LIBS.items():
        if not os.path.exists(path):
            rows.append({"library": name, "skipped": f"{path} missing"})
            continue
        tmp = tempfile.mkdtemp(prefix="vlc-load-")
        for i in range(args.copies):
            shutil.copy(path, os.path.join(tmp, f"copy{i}.so"))
        samples: dict[str, list[dict]] = {"vlc": [], "base": [], "copy": []}
        for _ in range(args.samples):  # interleaved, so drifts in machine load hit all modes alike
            for mode in samples:
                samples[mode].append(run_json([exe, mode, path, str(args.copies), tmp]))
        shutil.rmtree(tmp)
        med = {m: median([s["total_ms"] for s in v]) for m, v in samples.items()}
        rows.append({
            "library": name, "path": path, "copies": args.copies,
            "vlc_ms": med["vlc"], "vlc_create_part_ms": median([s["create_ms"] for s in samples["vlc"]]),
            "base_one_load_ms": med["base"], "file_copies_deepbind_ms": med["copy"],
            "vlc_over_base": med["vlc"] / med["base"], "paper_vlc_ms": paper_vlc, "paper_base_ms": paper_base,
            "samples": samples,
        })
        print(f"{name:18s} {args.copies} instances in contexts {med['vlc']:7.2f} ms | one standard load "
              f"{med['base']:6.2f} ms | {args.copies} file copies {med['copy']:7.2f} ms | paper {paper_vlc} vs {paper_base} ms")
    rows.append({"library": "LibTorch", "skipped": "not installed on this machine (paper: 524 ms vs 492 ms)"})
    write("load-times", {"unit": "ms", "samples": args.samples, "statistic": "median of fresh processes",
                         "base_meaning": "the standard dlopen of one instance (the process-wide copy); "
                                         "the paper's Base column loads 4 copies without VLCs",
                         "rows": rows})


if __name__ == "__main__":
    main()
