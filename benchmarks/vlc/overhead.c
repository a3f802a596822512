/* overhead.c — Table 4: an OpenBLAS application run serially, plainly or inside one context.
 *   overhead base|vlc LIB WORKLOAD N REPS   WORKLOAD: gemm | cholesky | gesv
 * Prints {"seconds": [wall, per repetition], "cpu_seconds": [process CPU time, per repetition]}. In vlc mode the library is the context's own instance,
 * the context has every CPU of the process, and the calling thread has entered it. */
#define _GNU_SOURCE
#include <corun/vlc.h>

#include <dlfcn.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

typedef void (*dgemm_t)(int, int, int, int, int, int, double, const double *, int, const double *, int, double,
                        double *, int);
typedef void (*dpotrf_t)(const char *, const int *, double *, const int *, int *, size_t);
typedef void (*dgesv_t)(const int *, const int *, double *, const int *, int *, double *, const int *, int *);

static double clock_s(clockid_t id)
{
    struct timespec t;
    clock_gettime(id, &t);
    return t.tv_sec + t.tv_nsec * 1e-9;
}

static void fill(double *a, int n, unsigned seed, int spd)
{
    srand(seed);
    for (int i = 0; i < n * n; i++)
        a[i] = rand() / (double)RAND_MAX - 0.5;
    if (spd)   /* symmetric, diagonally dominant: positive definite */
        for (int i = 0; i < n; i++)
            for (int j = 0; j <= i; j++) {
                double v = i == j ? n : a[i * n + j];
                a[i * n + j] = a[j * n + i] = v;
            }
}

int main(int argc, char **argv)
{
    const char *mode = argv[1], *lib = argv[2], *work = argv[3];
    int n = atoi(argv[4]), reps = atoi(argv[5]);
    void *h;
    corun_vlc *v = NULL;
    if (!strcmp(mode, "vlc")) {
        v = corun_vlc_create(0);
        h = v ? corun_vlc_load(v, lib) : NULL;
        if (h)
            corun_vlc_enter(v);
    } else {
        h = dlopen(lib, RTLD_NOW | RTLD_LOCAL);
    }
    if (!h) {
        fprintf(stderr, "load: %s %s\n", corun_vlc_error(), dlerror());
        return 1;
    }
    dgemm_t dgemm = (dgemm_t)dlsym(h, "cblas_dgemm");
    dpotrf_t dpotrf = (dpotrf_t)dlsym(h, "dpotrf_");
    dgesv_t dgesv = (dgesv_t)dlsym(h, "dgesv_");
    double *a = malloc(sizeof(double) * n * n), *b = malloc(sizeof(double) * n * n);
    double *c = malloc(sizeof(double) * n * n), *a0 = malloc(sizeof(double) * n * n);
    int *ipiv = malloc(sizeof(int) * n);
    fill(a0, n, 1, !strcmp(work, "cholesky"));
    fill(b, n, 2, 0);
    double wall[64], cpu[64];
    if (reps > 64)
        reps = 64;
    for (int r = -1; r < reps; r++) {   /* r = -1: warm-up, not reported */
        memcpy(a, a0, sizeof(double) * n * n);
        int info = 0, nrhs = 64;
        double t0 = clock_s(CLOCK_MONOTONIC), c0 = clock_s(CLOCK_PROCESS_CPUTIME_ID);
        if (!strcmp(work, "gemm"))
            dgemm(101, 111, 111, n, n, n, 1.0, a, n, b, n, 0.0, c, n);
        else if (!strcmp(work, "cholesky"))
            dpotrf("L", &n, a, &n, &info, 1);
        else
            dgesv(&n, &nrhs, a, &n, ipiv, c, &n, &info);
        double t = clock_s(CLOCK_MONOTONIC) - t0, c = clock_s(CLOCK_PROCESS_CPUTIME_ID) - c0;
        if (info)
            return 2;
        if (r >= 0) {
            wall[r] = t;
            cpu[r] = c;
        }
    }
    printf("{\"seconds\": [");
    for (int r = 0; r < reps; r++)
        printf(r ? ", %.6f" : "%.6f", wall[r]);
    printf("], \"cpu_seconds\": [");
    for (int r = 0; r < reps; r++)
        printf(r ? ", %.6f" : "%.6f", cpu[r]);
    printf("]}\n");
    if (v)
        corun_vlc_leave();
    return 0;
}
