/* corun bench workload: many short OpenMP `parallel for` regions (the spin/barrier-bound pattern).
 *
 *   omp_for REGIONS ELEMS_PER_THREAD
 *
 * Threads per region: the OpenMP default (OMP_NUM_THREADS, set by the bench). Protocol shared by
 * all bench workloads: after set-up print "READY" on stdout, wait for one line on stdin, run the
 * timed part, then print one JSON line with the CLOCK_MONOTONIC window (t0, t1). The result is
 * verified after the window; a wrong result exits with status 3.
 *
 * Built twice from this one source: against GCC's libgomp and against LLVM's libomp. The JSON
 * names the OpenMP runtime actually loaded so a mislinked variant is visible.
 */
#define _GNU_SOURCE
#include <dlfcn.h>
#include <omp.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

static double now(void) {
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (double)ts.tv_sec + (double)ts.tv_nsec * 1e-9;
}

static const char *runtime_path(void) {
    Dl_info info;
    if (dladdr((void *)&omp_get_max_threads, &info) && info.dli_fname)
        return info.dli_fname;
    return "unknown";
}

static void wait_for_go(void) {
    char line[64];
    fputs("READY\n", stdout);
    fflush(stdout);
    if (!fgets(line, sizeof line, stdin)) {
        fputs("omp_for: no start signal on stdin\n", stderr);
        exit(2);
    }
}

int main(int argc, char **argv) {
    if (argc != 3) {
        fputs("usage: omp_for REGIONS ELEMS_PER_THREAD\n", stderr);
        return 2;
    }
    long regions = strtol(argv[1], NULL, 10);
    long per_thread = strtol(argv[2], NULL, 10);
    int threads = omp_get_max_threads();
    long n = per_thread * threads;
    if (regions < 1 || per_thread < 1) {
        fputs("omp_for: REGIONS and ELEMS_PER_THREAD must be positive\n", stderr);
        return 2;
    }
    uint32_t *count = calloc((size_t)n, sizeof *count);
    double *val = calloc((size_t)n, sizeof *val);
    if (!count || !val) {
        fputs("omp_for: out of memory\n", stderr);
        return 2;
    }
    /* Warm-up region: starts the runtime's thread pool before the timed window. */
#pragma omp parallel for schedule(static)
    for (long i = 0; i < n; i++)
        val[i] = (double)(i % 7);

    wait_for_go();
    double t0 = now();
    for (long r = 0; r < regions; r++) {
#pragma omp parallel for schedule(static)
        for (long i = 0; i < n; i++) {
            count[i] += 1;
            val[i] = val[i] * 0.999 + 1.0;
        }
    }
    double t1 = now();

    for (long i = 0; i < n; i++) {
        if (count[i] != (uint32_t)regions) {
            fprintf(stderr, "omp_for: wrong result: element %ld ran %u times, expected %ld\n", i,
                    count[i], regions);
            return 3;
        }
    }
    printf("{\"t0\": %.9f, \"t1\": %.9f, \"flops\": %.1f, \"threads\": %d, \"regions\": %ld, "
           "\"runtime\": \"%s\"}\n",
           t0, t1, 2.0 * (double)n * (double)regions, threads, regions, runtime_path());
    free(count);
    free(val);
    return 0;
}
