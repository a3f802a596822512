/* omp_team.c — an OpenMP region for the routed-libgomp tests (tests/vlc/test_routed_gomp.py).
 *
 * omp_team() runs one `#pragma omp parallel` region (plus a worksharing loop, a single and a
 * critical section, so GOMP_parallel, GOMP_barrier, GOMP_single_start, GOMP_critical_* and
 * omp_get_* are all called, from the master and from the team's worker threads) and reports the
 * team size, each member's thread number, kernel tid and real CPU affinity (raw syscall: what the
 * kernel enforces), and the loop's sum (the same for every team size). Compiled both into a Python
 * extension (omp_ext.c) and alone into a shared library for ctypes.
 */
#define _GNU_SOURCE
#include <omp.h>
#include <sched.h>
#include <stdint.h>
#include <sys/syscall.h>
#include <unistd.h>

int omp_team(int *nthreads, int *nums, int *tids, uint64_t *masks, int cap, long *sum, int *max_threads)
{
    int n = 0, team = -1;
    long s = 0;
#pragma omp parallel
    {
        int me = omp_get_thread_num();
#pragma omp single
        team = omp_get_num_threads();
        cpu_set_t set;
        CPU_ZERO(&set);
        syscall(SYS_sched_getaffinity, 0, sizeof set, &set);
        uint64_t m = 0;
        for (int c = 0; c < 64; c++)
            if (CPU_ISSET(c, &set))
                m |= (uint64_t)1 << c;
#pragma omp critical
        {
            if (n < cap) {
                nums[n] = me;
                tids[n] = (int)syscall(SYS_gettid);
                masks[n] = m;
                n++;
            }
        }
#pragma omp for reduction(+ : s) schedule(static)
        for (long i = 0; i < 3000000; i++)
            s += (i * 7) % 13;
    }
    *nthreads = team;
    *sum = s;
    *max_threads = omp_get_max_threads();
    return n;
}
