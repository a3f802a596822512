#!/usr/bin/env bash
# Run every VLC benchmark and regenerate benchmarks/results/vlc-*.json and vlc-summary.md.
# The figures depend on the machine being otherwise idle: each result file records the load average
# and the niceness. On a shared machine, run it as root with a raised priority, e.g.
#   nice -n -10 benchmarks/vlc/run_all.sh
set -euo pipefail
cd "$(dirname "$0")"
python3 micro.py --rounds 9
python3 load_times.py --samples 9
python3 overhead.py --samples 9 --reps 3
python3 nested_gemm.py --samples 5
python3 arpack.py --samples 5
python3 report.py > /dev/null
