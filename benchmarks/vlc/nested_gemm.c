/* nested_gemm.c — Fig. 9: one large GEMM and many small ones (equal total work by default).
 *   nested_gemm LIB MODE NL NS K    MODE: peak | sequential | threads | contexts
 *   peak        one NL GEMM on all CPUs: the machine's GEMM rate (flop/s), best of 3
 *   sequential  one instance on all CPUs, the large GEMM then the K small ones
 *   threads     one instance, two threads: one runs the large GEMM, the other the small ones
 *   contexts    two contexts splitting the CPUs (first half / rest), one thread in each
 *   calibrate   in a context on the first half of the CPUs: seconds of one large and one small GEMM
 *               (to choose K so that both halves have equal work time)
 * Prints {"seconds": makespan, "flops": total work, "rate": flop/s (peak mode)}. */
#define _GNU_SOURCE
#include <corun/vlc.h>

#include <dlfcn.h>
#include <pthread.h>
#include <sched.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

typedef void (*dgemm_t)(int, int, int, int, int, int, double, const double *, int, const double *, int, double,
                        double *, int);

static double now(void)
{
    struct timespec t;
    clock_gettime(CLOCK_MONOTONIC, &t);
    return t.tv_sec + t.tv_nsec * 1e-9;
}

struct task {
    dgemm_t gemm;
    corun_vlc *ctx;   /* entered by the thread that runs the task, if set */
    int n, count;
    double *a, *b, *c;
};

static double *matrix(int n)
{
    double *m = malloc(sizeof(double) * n * n);
    for (int i = 0; i < n * n; i++)
        m[i] = (i % 7) * 0.25 - 0.5;
    return m;
}

static void *run(void *p)
{
    struct task *t = p;
    if (t->ctx)
        corun_vlc_enter(t->ctx);
    for (int i = 0; i < t->count; i++)
        t->gemm(101, 111, 111, t->n, t->n, t->n, 1.0, t->a, t->n, t->b, t->n, 0.0, t->c, t->n);
    if (t->ctx)
        corun_vlc_leave();
    return NULL;
}

int main(int argc, char **argv)
{
    const char *lib = argv[1], *mode = argv[2];
    int nl = atoi(argv[3]), ns = atoi(argv[4]), k = atoi(argv[5]);
    double flops = 2.0 * nl * nl * nl + 2.0 * k * ns * ns * ns;
    struct task big = {0, 0, nl, 1, matrix(nl), matrix(nl), matrix(nl)};
    struct task small = {0, 0, ns, k, matrix(ns), matrix(ns), matrix(ns)};
    if (!strcmp(mode, "contexts") || !strcmp(mode, "calibrate")) {
        cpu_set_t all;
        sched_getaffinity(0, sizeof all, &all);
        int cpus[CPU_SETSIZE], n = 0;
        for (int i = 0; i < CPU_SETSIZE; i++)
            if (CPU_ISSET(i, &all))
                cpus[n++] = i;
        cpu_set_t half[2];
        CPU_ZERO(&half[0]);
        CPU_ZERO(&half[1]);
        for (int i = 0; i < n; i++)
            CPU_SET(cpus[i], &half[i < (n + 1) / 2 ? 0 : 1]);
        struct task *tasks[2] = {&big, &small};
        for (int i = 0; i < 2; i++) {
            corun_vlc *v = corun_vlc_create(0);
            if (!v || corun_vlc_set_cpumask(v, &half[i], sizeof half[i]))
                return fprintf(stderr, "%s\n", corun_vlc_error()), 1;
            void *h = corun_vlc_load(v, lib);
            if (!h)
                return fprintf(stderr, "%s\n", corun_vlc_error()), 1;
            tasks[i]->gemm = (dgemm_t)corun_vlc_sym(v, h, "cblas_dgemm");
            tasks[i]->ctx = v;
        }
    } else {
        void *h = dlopen(lib, RTLD_NOW | RTLD_LOCAL);
        if (!h)
            return fprintf(stderr, "%s\n", dlerror()), 1;
        big.gemm = small.gemm = (dgemm_t)dlsym(h, "cblas_dgemm");
    }
    /* warm-up: thread pools started, buffers allocated */
    struct task wb = big, ws = small;
    wb.count = 1;
    ws.count = 1;
    if (!strcmp(mode, "calibrate")) {
        run(&ws);
        double s0 = now();
        run(&wb);
        double tl = now() - s0;
        ws.count = 20;
        s0 = now();
        run(&ws);
        printf("{\"large_s\": %.6f, \"small_s\": %.6f}\n", tl, (now() - s0) / 20);
        return 0;
    }
    if (strcmp(mode, "contexts")) {
        wb.n = ws.n = ns;
        run(&wb);
    } else {
        pthread_t w1, w2;
        wb.n = ns;
        pthread_create(&w1, NULL, run, &wb);
        pthread_create(&w2, NULL, run, &ws);
        pthread_join(w1, NULL);
        pthread_join(w2, NULL);
    }
    double t0 = now(), secs;
    if (!strcmp(mode, "peak")) {
        double best = 1e30;
        for (int i = 0; i < 3; i++) {
            double s0 = now();
            run(&big);
            double s = now() - s0;
            best = s < best ? s : best;
        }
        printf("{\"rate\": %.6e, \"seconds\": %.6f, \"flops\": %.6e}\n", 2.0 * nl * nl * nl / best, best,
               2.0 * nl * nl * nl);
        return 0;
    } else if (!strcmp(mode, "sequential")) {
        run(&big);
        run(&small);
    } else {
        pthread_t t1, t2;
        pthread_create(&t1, NULL, run, &big);
        pthread_create(&t2, NULL, run, &small);
        pthread_join(t1, NULL);
        pthread_join(t2, NULL);
    }
    secs = now() - t0;
    printf("{\"seconds\": %.6f, \"flops\": %.6e}\n", secs, flops);
    return 0;
}
