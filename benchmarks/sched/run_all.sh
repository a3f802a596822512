#!/usr/bin/env bash
# Run the scheduler benchmarks of issues 2 and 3 and regenerate benchmarks/results/bench-*-Ncores.*
# and sched-micro.json. Each result file records its command, the load and the share of CPU time
# other processes took; run it on an otherwise idle machine.
#   benchmarks/sched/run_all.sh            # all
#   benchmarks/sched/run_all.sh overhead   # some scenarios ('micro' for micro.py)
set -euo pipefail
cd "$(dirname "$0")/../.."
n=$(python3 -c 'import os; print(len(os.sched_getaffinity(0)))')
out=benchmarks/results
what=("$@")
[ ${#what[@]} -eq 0 ] && what=(numpy-procs gomp-procs overhead nested-blas micro)
for s in "${what[@]}"; do
    case "$s" in
        micro) python3 benchmarks/sched/micro.py --repeat 5 --out "$out/sched-micro.json" ;;
        nested-blas) python3 -m corun bench nested-blas --repeat 1 --timeout 30 \
                         --json "$out/bench-nested-blas-${n}cores.json" --plot "$out/bench-nested-blas-${n}cores.png" ;;
        overhead) python3 -m corun bench overhead --repeat 5 --timeout 120 \
                      --json "$out/bench-overhead-${n}cores.json" --plot "$out/bench-overhead-${n}cores.png" ;;
        *) python3 -m corun bench "$s" --repeat 3 --timeout 120 \
               --json "$out/bench-$s-${n}cores.json" --plot "$out/bench-$s-${n}cores.png" ;;
    esac
done
