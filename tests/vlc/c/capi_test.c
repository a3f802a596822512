/* capi_test.c — exercises corun/vlc.h from C, without Python.
 *   capi_test PROBE_LIB   prints one "ok <check>" line per check; exits non-zero at the first failure. */
#define _GNU_SOURCE
#include <corun/vlc.h>

#include <pthread.h>
#include <sched.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#define CHECK(cond, name)                                                                          \
    do {                                                                                           \
        if (!(cond)) {                                                                             \
            printf("FAIL %s (line %d): %s\n", name, __LINE__, corun_vlc_error());                  \
            return 1;                                                                              \
        }                                                                                          \
        printf("ok %s\n", name);                                                                   \
    } while (0)

typedef int (*int_fn)(void);
typedef unsigned long (*ulong_fn)(void);
typedef long (*acc_fn)(long);
typedef const char *(*env_fn)(const char *);

struct job {
    acc_fn acc;
    corun_vlc *v;
    long result;
    unsigned long affinity_inside;
};

static unsigned long my_affinity(void)
{
    cpu_set_t s;
    sched_getaffinity(0, sizeof s, &s);
    unsigned long m = 0;
    for (int i = 0; i < 64; i++)
        if (CPU_ISSET(i, &s))
            m |= 1ul << i;
    return m;
}

static void *worker(void *p)
{
    struct job *j = p;
    corun_vlc_enter(j->v);
    j->affinity_inside = my_affinity();
    j->result = j->acc(300000);
    corun_vlc_leave();
    return NULL;
}

int main(int argc, char **argv)
{
    if (argc < 2)
        return 2;
    const char *probe = argv[1];
    cpu_set_t all;
    sched_getaffinity(0, sizeof all, &all);
    int first = -1, last = -1;
    for (int i = 0; i < CPU_SETSIZE; i++)
        if (CPU_ISSET(i, &all)) {
            if (first < 0)
                first = i;
            last = i;
        }
    char c0[16], c1[16];
    snprintf(c0, sizeof c0, "%d", first);
    snprintf(c1, sizeof c1, "%d", last);

    corun_vlc *a = corun_vlc_create(0), *b = corun_vlc_create(0);
    CHECK(a && b && corun_vlc_count() == 2, "create");
    CHECK(corun_vlc_lmid(a) > 0 && corun_vlc_lmid(a) != corun_vlc_lmid(b), "own namespaces");
    CHECK(corun_vlc_set_cpus(a, c0) == 0 && corun_vlc_set_cpus(b, c1) == 0, "set cpus");
    CHECK(corun_vlc_set_cpus(a, "4096") == CORUN_VLC_EINVAL, "cpu list out of range");
    char far[16];
    snprintf(far, sizeof far, "%d", last + 1);
    CHECK(corun_vlc_set_cpus(a, far) == CORUN_VLC_ECPU && strstr(corun_vlc_error(), "allowed set"), "cpu outside");
    CHECK(corun_vlc_set_cpus(a, "1-0") == CORUN_VLC_EINVAL, "malformed list");
    CHECK(corun_vlc_setenv(a, "CORUN_CAPI", "A") == 0 && corun_vlc_setenv(b, "CORUN_CAPI", "B") == 0, "setenv");

    void *la = corun_vlc_load(a, probe), *lb = corun_vlc_load(b, probe);
    CHECK(la && lb && la != lb, "load");
    CHECK(!corun_vlc_load(a, "libcorun-missing.so") && strstr(corun_vlc_error(), "libcorun-missing.so"),
          "missing library");
    CHECK(!corun_vlc_sym(a, la, "no_such_symbol") && strstr(corun_vlc_error(), "no_such_symbol"), "unknown symbol");

    int_fn nprocs_a = (int_fn)corun_vlc_sym(a, la, "probe_get_nprocs");
    ulong_fn aff_a = (ulong_fn)corun_vlc_sym(a, la, "probe_sched_getaffinity");
    ulong_fn thr_b = (ulong_fn)corun_vlc_sym(b, lb, "probe_thread_affinity");
    env_fn env_a = (env_fn)corun_vlc_sym(a, la, "probe_getenv"), env_b = (env_fn)corun_vlc_sym(b, lb, "probe_getenv");
    CHECK(nprocs_a() == 1 && aff_a() == 1ul << first, "virtual cpu view");
    CHECK(thr_b() == 1ul << last, "new threads pinned");
    CHECK(!strcmp(env_a("CORUN_CAPI"), "A") && !strcmp(env_b("CORUN_CAPI"), "B") && !getenv("CORUN_CAPI"),
          "own environment");
    CHECK(corun_vlc_unsetenv(a, "CORUN_CAPI") == 0 && env_a("CORUN_CAPI") == NULL, "unsetenv");

    unsigned long before = my_affinity();
    CHECK(corun_vlc_enter(a) == 0 && my_affinity() == 1ul << first && corun_vlc_current() == a, "enter pins");
    CHECK(corun_vlc_enter(b) == 0 && my_affinity() == 1ul << last && corun_vlc_current() == b, "nested enter");
    CHECK(corun_vlc_destroy(b) == CORUN_VLC_EBUSY, "destroy while inside refused");
    CHECK(corun_vlc_leave() == 0 && my_affinity() == 1ul << first, "leave restores");
    CHECK(corun_vlc_leave() == 0 && my_affinity() == before && !corun_vlc_current(), "leave restores outer");
    CHECK(corun_vlc_leave() == CORUN_VLC_ESTATE, "leave without enter");
    CHECK(corun_vlc_enter_flags(a, CORUN_VLC_NOPIN) == 0 && my_affinity() == before && corun_vlc_leave() == 0,
          "enter without pinning");

    struct job ja = {(acc_fn)corun_vlc_sym(a, la, "probe_accumulate"), a, 0, 0};
    struct job jb = {(acc_fn)corun_vlc_sym(b, lb, "probe_accumulate"), b, 0, 0};
    pthread_t ta, tb;
    pthread_create(&ta, NULL, worker, &ja);
    pthread_create(&tb, NULL, worker, &jb);
    pthread_join(ta, NULL);
    pthread_join(tb, NULL);
    CHECK(ja.result == 300000 && jb.result == 300000, "thread-unsafe library, concurrent contexts");
    CHECK(ja.affinity_inside == 1ul << first && jb.affinity_inside == 1ul << last, "workers ran on context cpus");

    corun_vlc *s = corun_vlc_create(CORUN_VLC_SERVICE);
    CHECK(s && corun_vlc_lmid(s) == 0 && corun_vlc_setenv(s, "X", "1") == CORUN_VLC_ESTATE, "service context");
    void *ls = corun_vlc_load(s, probe);
    int_fn nprocs_s = (int_fn)corun_vlc_sym(s, ls, "probe_get_nprocs");
    CHECK(nprocs_s() == CPU_COUNT(&all), "service context is not virtualized");

    corun_vlc *cp = corun_vlc_create(CORUN_VLC_COPY);
    CHECK(cp && corun_vlc_set_cpus(cp, c1) == 0 && corun_vlc_setenv(cp, "X", "1") == CORUN_VLC_ESTATE, "copy context");
    void *lc = corun_vlc_load(cp, probe);
    typedef const void *(*addr_fn)(void);
    addr_fn addr_c = (addr_fn)corun_vlc_sym(cp, lc, "probe_state_address");
    addr_fn addr_a = (addr_fn)corun_vlc_sym(a, la, "probe_state_address");
    addr_fn addr_s = (addr_fn)corun_vlc_sym(s, ls, "probe_state_address");
    CHECK(lc && addr_c() != addr_a() && addr_c() != addr_s(), "copy context has its own instance");
    ulong_fn thr_c = (ulong_fn)corun_vlc_sym(cp, lc, "probe_thread_affinity");
    corun_vlc_enter(cp);
    unsigned long pinned = thr_c();
    corun_vlc_leave();
    CHECK(pinned == 1ul << last, "copy context: threads created inside inherit its CPUs");
    CHECK(corun_vlc_destroy(cp) == 0, "destroy copy context");

    CHECK(corun_vlc_destroy(a) == 0 && corun_vlc_destroy(b) == 0 && corun_vlc_destroy(s) == 0, "destroy");
    CHECK(corun_vlc_count() == 0, "count");
    puts("ALL OK");
    return 0;
}
