/* corun bench workload: T outer pthreads each calling cblas_dgemm of a BLAS library chosen at run
 * time (nested parallelism: every call may start B inner BLAS threads).
 *
 *   blas_nested LIBRARY_PATH OUTER_THREADS N CALLS_TOTAL
 *
 * LIBRARY_PATH is dlopen'ed; the inner thread count comes from the library's own environment
 * variables (OPENBLAS_NUM_THREADS, OMP_NUM_THREADS, BLIS_NUM_THREADS), set by the bench. Both the
 * usual LP64 `cblas_dgemm` and the ILP64 names of numpy's bundled OpenBLAS
 * (`scipy_cblas_dgemm64_`) are understood. CALLS_TOTAL N x N dgemm calls are split evenly over the
 * outer threads, so the amount of work does not depend on OUTER_THREADS.
 *
 * Protocol shared by all bench workloads: after set-up print "READY", wait for one line on stdin,
 * run the timed part, print one JSON line with the CLOCK_MONOTONIC window (t0, t1) and the flops
 * done. Results are spot-checked against a naive dot product; a wrong result exits with status 3.
 */
#define _GNU_SOURCE
#include <dlfcn.h>
#include <math.h>
#include <pthread.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

enum { ROW_MAJOR = 101, NO_TRANS = 111 };

typedef void (*dgemm_lp64_fn)(int, int, int, int, int, int, double, const double *, int,
                              const double *, int, double, double *, int);
typedef void (*dgemm_ilp64_fn)(int, int, int, int64_t, int64_t, int64_t, double, const double *,
                               int64_t, const double *, int64_t, double, double *, int64_t);
typedef int (*get_threads_fn)(void);

static dgemm_lp64_fn dgemm_lp64;
static dgemm_ilp64_fn dgemm_ilp64;
static const char *dgemm_symbol = "";
static long n_size;
static pthread_barrier_t start_barrier;

struct worker {
    pthread_t thread;
    long calls;
    double *a, *b, *c;
    int bad;
};

static double now(void) {
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (double)ts.tv_sec + (double)ts.tv_nsec * 1e-9;
}

static void dgemm(const double *a, const double *b, double *c) {
    long n = n_size;
    if (dgemm_lp64)
        dgemm_lp64(ROW_MAJOR, NO_TRANS, NO_TRANS, (int)n, (int)n, (int)n, 1.0, a, (int)n, b,
                   (int)n, 0.0, c, (int)n);
    else
        dgemm_ilp64(ROW_MAJOR, NO_TRANS, NO_TRANS, n, n, n, 1.0, a, n, b, n, 0.0, c, n);
}

static int check(const struct worker *w) {
    long n = n_size;
    long probes[3][2] = {{0, 0}, {n - 1, n - 1}, {n / 2, n / 3}};
    for (int p = 0; p < 3; p++) {
        long i = probes[p][0], j = probes[p][1];
        double want = 0.0;
        for (long k = 0; k < n; k++)
            want += w->a[i * n + k] * w->b[k * n + j];
        if (fabs(want - w->c[i * n + j]) > 1e-9 * (1.0 + fabs(want)))
            return 1;
    }
    return 0;
}

static void *run_worker(void *arg) {
    struct worker *w = arg;
    pthread_barrier_wait(&start_barrier);
    for (long i = 0; i < w->calls; i++)
        dgemm(w->a, w->b, w->c);
    w->bad = check(w);
    return NULL;
}

static double *matrix(long n, unsigned seed) {
    double *m = malloc((size_t)(n * n) * sizeof *m);
    if (!m) {
        fputs("blas_nested: out of memory\n", stderr);
        exit(2);
    }
    for (long i = 0; i < n * n; i++)
        m[i] = (double)((i * 2654435761u + seed) % 1000u) / 1000.0 - 0.5;
    return m;
}

static int inner_threads(void *lib) {
    static const char *names[] = {"openblas_get_num_threads", "scipy_openblas_get_num_threads64_",
                                  "bli_thread_get_num_threads"};
    for (size_t i = 0; i < sizeof names / sizeof names[0]; i++) {
        get_threads_fn f = (get_threads_fn)dlsym(lib, names[i]);
        if (f)
            return f();
    }
    return -1;
}

static void wait_for_go(void) {
    char line[64];
    fputs("READY\n", stdout);
    fflush(stdout);
    if (!fgets(line, sizeof line, stdin)) {
        fputs("blas_nested: no start signal on stdin\n", stderr);
        exit(2);
    }
}

int main(int argc, char **argv) {
    if (argc != 5) {
        fputs("usage: blas_nested LIBRARY_PATH OUTER_THREADS N CALLS_TOTAL\n", stderr);
        return 2;
    }
    const char *path = argv[1];
    long outer = strtol(argv[2], NULL, 10);
    n_size = strtol(argv[3], NULL, 10);
    long total = strtol(argv[4], NULL, 10);
    if (outer < 1 || n_size < 1 || total < outer) {
        fputs("blas_nested: need OUTER_THREADS >= 1, N >= 1, CALLS_TOTAL >= OUTER_THREADS\n", stderr);
        return 2;
    }
    void *lib = dlopen(path, RTLD_NOW | RTLD_LOCAL);
    if (!lib) {
        fprintf(stderr, "blas_nested: cannot load %s: %s\n", path, dlerror());
        return 4;
    }
    if ((dgemm_lp64 = (dgemm_lp64_fn)dlsym(lib, "cblas_dgemm")))
        dgemm_symbol = "cblas_dgemm";
    else if ((dgemm_ilp64 = (dgemm_ilp64_fn)dlsym(lib, "scipy_cblas_dgemm64_")))
        dgemm_symbol = "scipy_cblas_dgemm64_";
    else if ((dgemm_ilp64 = (dgemm_ilp64_fn)dlsym(lib, "cblas_dgemm64_")))
        dgemm_symbol = "cblas_dgemm64_";
    else {
        fprintf(stderr, "blas_nested: %s has no cblas_dgemm\n", path);
        return 4;
    }

    struct worker *w = calloc((size_t)outer, sizeof *w);
    pthread_barrier_init(&start_barrier, NULL, (unsigned)outer + 1);
    long calls_done = 0;
    for (long t = 0; t < outer; t++) {
        w[t].calls = total / outer + (t < total % outer ? 1 : 0);
        calls_done += w[t].calls;
        w[t].a = matrix(n_size, 1u + (unsigned)t);
        w[t].b = matrix(n_size, 7u + (unsigned)t);
        w[t].c = matrix(n_size, 13u);
    }
    dgemm(w[0].a, w[0].b, w[0].c); /* warm-up: the library starts its threads */
    for (long t = 0; t < outer; t++) {
        if (pthread_create(&w[t].thread, NULL, run_worker, &w[t]) != 0) {
            fputs("blas_nested: pthread_create failed\n", stderr);
            return 2;
        }
    }

    wait_for_go();
    double t0 = now();
    pthread_barrier_wait(&start_barrier);
    int bad = 0;
    for (long t = 0; t < outer; t++) {
        pthread_join(w[t].thread, NULL);
        bad |= w[t].bad;
    }
    double t1 = now();
    if (bad) {
        fputs("blas_nested: wrong dgemm result\n", stderr);
        return 3;
    }
    double flops = 2.0 * (double)n_size * (double)n_size * (double)n_size * (double)calls_done;
    printf("{\"t0\": %.9f, \"t1\": %.9f, \"flops\": %.1f, \"outer_threads\": %ld, "
           "\"inner_threads\": %d, \"symbol\": \"%s\", \"library\": \"%s\"}\n",
           t0, t1, flops, outer, inner_threads(lib), dgemm_symbol, path);
    return 0;
}
