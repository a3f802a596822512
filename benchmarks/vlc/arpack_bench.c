/* arpack_bench.c — Fig. 10: two ARPACK eigensolves (the driver of tests/vlc/c/arpack_driver.c, which
 * links libarpack) concurrently in two contexts, against the same two solves serialized.
 *   arpack_bench DRIVER MODE N NEV NCV   MODE: serial | contexts
 *   serial    the driver loaded plainly (one ARPACK, not thread-safe): solve A, then solve B
 *   contexts  one context per solve, CPUs split in halves, one thread in each, concurrently
 * Prints {"seconds": ..., "info": [a, b], "top": [largest eigenvalue of each]}. */
#define _GNU_SOURCE
#include <corun/vlc.h>

#include <dlfcn.h>
#include <pthread.h>
#include <sched.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

typedef int (*solve_t)(int, int, int, double *, int *);

static double now(void)
{
    struct timespec t;
    clock_gettime(CLOCK_MONOTONIC, &t);
    return t.tv_sec + t.tv_nsec * 1e-9;
}

struct job {
    solve_t solve;
    corun_vlc *ctx;
    int n, nev, ncv, info;
    double vals[64];
};

static void *run(void *p)
{
    struct job *j = p;
    int mv;
    if (j->ctx)
        corun_vlc_enter(j->ctx);
    j->info = j->solve(j->n, j->nev, j->ncv, j->vals, &mv);
    if (j->ctx)
        corun_vlc_leave();
    return NULL;
}

int main(int argc, char **argv)
{
    const char *driver = argv[1], *mode = argv[2];
    int n = atoi(argv[3]), nev = atoi(argv[4]), ncv = atoi(argv[5]);
    struct job jobs[2] = {{0, 0, n, nev, ncv, 0, {0}}, {0, 0, n + 1, nev, ncv, 0, {0}}};
    double t0;
    if (!strcmp(mode, "contexts")) {
        cpu_set_t all, half[2];
        sched_getaffinity(0, sizeof all, &all);
        CPU_ZERO(&half[0]);
        CPU_ZERO(&half[1]);
        int total = CPU_COUNT(&all), seen = 0;
        for (int i = 0; i < CPU_SETSIZE; i++)
            if (CPU_ISSET(i, &all))
                CPU_SET(i, &half[seen++ < (total + 1) / 2 ? 0 : 1]);
        for (int i = 0; i < 2; i++) {
            corun_vlc *v = corun_vlc_create(0);
            if (!v || corun_vlc_set_cpumask(v, &half[i], sizeof half[i]))
                return fprintf(stderr, "%s\n", corun_vlc_error()), 1;
            void *h = corun_vlc_load(v, driver);
            if (!h)
                return fprintf(stderr, "%s\n", corun_vlc_error()), 1;
            jobs[i].solve = (solve_t)corun_vlc_sym(v, h, "arpack_solve");
            jobs[i].ctx = v;
        }
        t0 = now();
        pthread_t t[2];
        for (int i = 0; i < 2; i++)
            pthread_create(&t[i], NULL, run, &jobs[i]);
        for (int i = 0; i < 2; i++)
            pthread_join(t[i], NULL);
    } else {
        void *h = dlopen(driver, RTLD_NOW | RTLD_LOCAL);
        if (!h)
            return fprintf(stderr, "%s\n", dlerror()), 1;
        jobs[0].solve = jobs[1].solve = (solve_t)dlsym(h, "arpack_solve");
        t0 = now();
        run(&jobs[0]);
        run(&jobs[1]);
    }
    double secs = now() - t0;
    printf("{\"seconds\": %.6f, \"info\": [%d, %d], \"top\": [%.12f, %.12f]}\n", secs, jobs[0].info, jobs[1].info,
           jobs[0].vals[nev - 1], jobs[1].vals[nev - 1]);
    return 0;
}
