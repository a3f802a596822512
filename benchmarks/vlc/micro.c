/* micro.c — the paper's Table 2 micro-costs through the C API.
 *   micro BENCH_LIB ROUNDS   prints one JSON object: per quantity, the median over ROUNDS of the
 *                            mean per call (ns) of a batch. */
#define _GNU_SOURCE
#include <corun/vlc.h>

#include <dlfcn.h>
#include <sched.h>
#include <stdio.h>
#include <stdlib.h>
#include <time.h>

typedef double (*bench_fn)(long);

static double now_ns(void)
{
    struct timespec t;
    clock_gettime(CLOCK_MONOTONIC, &t);
    return t.tv_sec * 1e9 + t.tv_nsec;
}

static int cmp(const void *a, const void *b)
{
    double x = *(const double *)a, y = *(const double *)b;
    return (x > y) - (x < y);
}

static double median(double *v, int n)
{
    qsort(v, (size_t)n, sizeof *v, cmp);
    return n % 2 ? v[n / 2] : (v[n / 2 - 1] + v[n / 2]) / 2;
}

#define MAXR 64

int main(int argc, char **argv)
{
    const char *lib = argv[1];
    int rounds = argc > 2 ? atoi(argv[2]) : 11;
    if (rounds > MAXR)
        rounds = MAXR;
    double create_new = 0, create[MAXR], destroy[MAXR], enter[MAXR], leave[MAXR], enter_aff[MAXR], leave_aff[MAXR];
    cpu_set_t all;
    sched_getaffinity(0, sizeof all, &all);
    int last = 0;
    for (int i = 0; i < CPU_SETSIZE; i++)
        if (CPU_ISSET(i, &all))
            last = i;
    char one[16];
    snprintf(one, sizeof one, "%d", last);

    for (int r = 0; r < rounds; r++) {
        enum { K = 8 }; /* below the default namespace limit (11) */
        corun_vlc *v[K];
        double t0 = now_ns();
        for (int i = 0; i < K; i++)
            v[i] = corun_vlc_create(0);
        double t1 = now_ns();
        for (int i = 0; i < K; i++)
            corun_vlc_destroy(v[i]);
        double t2 = now_ns();
        create[r] = (t1 - t0) / K;   /* round 0: new namespaces; later rounds: pooled ones */
        if (r == 0)
            create_new = create[r];
        destroy[r] = (t2 - t1) / K;
    }
    corun_vlc *v = corun_vlc_create(0);
    corun_vlc_set_cpus(v, one);
    for (int r = 0; r < rounds; r++) {
        enum { K = 20000 };
        double te = 0, tl = 0;
        for (int i = 0; i < K; i++) {
            double t0 = now_ns();
            corun_vlc_enter_flags(v, CORUN_VLC_NOPIN);
            double t1 = now_ns();
            corun_vlc_leave();
            double t2 = now_ns();
            te += t1 - t0;
            tl += t2 - t1;
        }
        enter[r] = te / K;
        leave[r] = tl / K;
        te = tl = 0;
        for (int i = 0; i < K / 10; i++) {   /* affinity differs from the context's: a real switch */
            double t0 = now_ns();
            corun_vlc_enter(v);
            double t1 = now_ns();
            corun_vlc_leave();
            double t2 = now_ns();
            te += t1 - t0;
            tl += t2 - t1;
        }
        enter_aff[r] = te / (K / 10);
        leave_aff[r] = tl / (K / 10);
    }
    void *in = corun_vlc_load(v, lib);
    void *out = dlopen(lib, RTLD_NOW | RTLD_LOCAL);
    if (!in || !out) {
        fprintf(stderr, "load %s: %s\n", lib, corun_vlc_error());
        return 1;
    }
    static const struct { const char *name; long n; } fns[] = {
        {"bench_sched_getaffinity", 1000000}, {"bench_sysconf", 200000}, {"bench_open_cpuinfo", 5000},
        {"bench_read_cpuinfo", 3000}, {"bench_mmap", 100000},
    };
    printf("{\"create_new_ns\": %.1f, \"create_ns\": %.1f, \"destroy_ns\": %.1f, \"enter_ns\": %.1f, \"leave_ns\": %.1f, "
           "\"enter_affinity_ns\": %.1f, \"leave_affinity_ns\": %.1f",
           create_new, median(create + 1, rounds - 1), median(destroy, rounds), median(enter, rounds), median(leave, rounds),
           median(enter_aff, rounds), median(leave_aff, rounds));
    for (size_t f = 0; f < sizeof fns / sizeof fns[0]; f++) {
        bench_fn fi = (bench_fn)corun_vlc_sym(v, in, fns[f].name), fo = (bench_fn)dlsym(out, fns[f].name);
        double ti[MAXR], to[MAXR];
        for (int r = 0; r < rounds; r++) {
            corun_vlc_enter(v);   /* run on the context's CPU, as a library inside would */
            ti[r] = fi(fns[f].n);
            corun_vlc_leave();
            to[r] = fo(fns[f].n);
        }
        printf(", \"%s_inside_ns\": %.1f, \"%s_outside_ns\": %.1f", fns[f].name + 6, median(ti, rounds),
               fns[f].name + 6, median(to, rounds));
    }
    printf("}\n");
    corun_vlc_destroy(v);
    return 0;
}
