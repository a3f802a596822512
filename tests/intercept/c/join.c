/* pthread_join and its timed/try forms; thread attributes as the thread sees them; pthread_exit. */
#include "harness.h"

static void *sleeper(void *p)
{
    msleep((long)p);
    return (void *)0x5a;
}

static volatile int join_release;
static void *held_thread(void *p)
{
    while (!__atomic_load_n(&join_release, __ATOMIC_ACQUIRE))
        msleep(2);
    msleep(20);
    return (void *)0x5a;
}

static void *detached_gated(void *p)
{
    volatile int *gate = p;
    while (!*gate)
        msleep(2);
    return NULL;
}

static void *exiter(void *p)
{
    pthread_exit((void *)0x77);
    return NULL;
}

static void join_values(void)
{
    pthread_t t;
    void *v = NULL;
    pthread_create(&t, NULL, sleeper, (void *)10L);
    int r1 = pthread_join(t, &v);
    void *v2 = NULL;
    pthread_create(&t, NULL, exiter, NULL);
    int r2 = pthread_join(t, &v2);
    CHECK("join_returns_value", r1 == 0 && v == (void *)0x5a, "r=%d", r1);
    CHECK("join_pthread_exit_value", r2 == 0 && v2 == (void *)0x77, "r=%d", r2);
}

static void join_try_timed(void)
{
    pthread_t t;
    void *v = NULL;
    pthread_create(&t, NULL, held_thread, NULL);
    int r1 = pthread_tryjoin_np(t, &v);
    struct timespec a = abs_in(CLOCK_REALTIME, 120);
    double t0 = now_s();
    int r2 = pthread_timedjoin_np(t, &v, &a);
    double e2 = now_s() - t0;
    a = abs_in(CLOCK_MONOTONIC, 120);
    t0 = now_s();
    int r3 = pthread_clockjoin_np(t, &v, CLOCK_MONOTONIC, &a);
    double e3 = now_s() - t0;
    int r4 = pthread_clockjoin_np(t, &v, CLOCK_PROCESS_CPUTIME_ID, &a);
    a = abs_in(CLOCK_REALTIME, 10000);
    __atomic_store_n(&join_release, 1, __ATOMIC_RELEASE);
    int r5 = pthread_timedjoin_np(t, &v, &a);
    CHECK("join_tryjoin_ebusy", r1 == EBUSY, "r=%d", r1);
    CHECK("join_timedjoin_etimedout", r2 == ETIMEDOUT && TIMED_OK(e2, 120), "r=%d", r2);
    CHECK("join_clockjoin_etimedout", r3 == ETIMEDOUT && TIMED_OK(e3, 120), "r=%d", r3);
    CHECK("join_timedjoin_succeeds", r5 == 0 && v == (void *)0x5a, "r=%d", r5);
    printf("join_args: clockjoin_badclock=%d\n", r4);

    pthread_create(&t, NULL, sleeper, (void *)1L);
    int r6 = EBUSY;
    for (int i = 0; i < 500 && r6 == EBUSY; i++) { /* until it has exited (bounded: 5 s) */
        msleep(10);
        r6 = pthread_tryjoin_np(t, &v);
    }
    CHECK("join_tryjoin_finished", r6 == 0 && v == (void *)0x5a, "r=%d", r6);
}

static void join_errors(void)
{
    int r1 = pthread_join(pthread_self(), NULL);
    pthread_attr_t at;
    pthread_attr_init(&at);
    pthread_attr_setdetachstate(&at, PTHREAD_CREATE_DETACHED);
    pthread_t t;
    static volatile int gate, finished;
    pthread_create(&t, &at, detached_gated, (void *)&gate);
    int r2 = pthread_join(t, NULL); /* it cannot have exited: it waits for the gate */
    gate = 1;
    (void)finished;
    msleep(50);
    CHECK("join_self_edeadlk", r1 == EDEADLK, "r=%d", r1);
    CHECK("join_detached_einval", r2 == EINVAL, "r=%d", r2);
}

/* Attributes a new thread observes: detach state, stack size, guard size, own stack. */
struct seen {
    int detach;
    size_t stack, guard;
    void *stackaddr;
    volatile int done;
};

static void *observe(void *p)
{
    struct seen *s = p;
    pthread_attr_t a;
    pthread_getattr_np(pthread_self(), &a);
    pthread_attr_getdetachstate(&a, &s->detach);
    pthread_attr_getstacksize(&a, &s->stack);
    pthread_attr_getguardsize(&a, &s->guard);
    size_t sz;
    pthread_attr_getstack(&a, &s->stackaddr, &sz);
    pthread_attr_destroy(&a);
    __atomic_store_n(&s->done, 1, __ATOMIC_RELEASE);
    return NULL;
}

static void join_attrs(void)
{
    pthread_attr_t a;
    pthread_attr_init(&a);
    pthread_attr_setstacksize(&a, 1 << 20);
    pthread_attr_setguardsize(&a, 3 * 4096);
    cpu_set_t cs;
    CPU_ZERO(&cs);
    CPU_SET(0, &cs);
    pthread_attr_setaffinity_np(&a, sizeof cs, &cs); /* stripped by corun, must not change the rest */
    pthread_attr_setinheritsched(&a, PTHREAD_EXPLICIT_SCHED);
    pthread_attr_setschedpolicy(&a, SCHED_OTHER);
    struct seen s = {0};
    pthread_t t;
    int r = pthread_create(&t, &a, observe, &s);
    pthread_join(t, NULL);
    CHECK("attr_stack_guard_kept", r == 0 && s.detach == PTHREAD_CREATE_JOINABLE && s.stack >= (1 << 20) &&
          s.stack < (1 << 20) + (64 << 10) && s.guard == 3 * 4096, "r=%d stack=%zu guard=%zu", r, s.stack, s.guard);

    /* a stack the program provides */
    size_t sz = 256 << 10;
    void *mem = aligned_alloc(4096, sz);
    pthread_attr_t b;
    pthread_attr_init(&b);
    pthread_attr_setstack(&b, mem, sz);
    pthread_attr_setaffinity_np(&b, sizeof cs, &cs);
    struct seen s2 = {0};
    r = pthread_create(&t, &b, observe, &s2);
    pthread_join(t, NULL);
    CHECK("attr_user_stack_kept", r == 0 && s2.stackaddr == mem && s2.stack == sz, "r=%d", r);

    /* detached via attributes */
    pthread_attr_t c;
    pthread_attr_init(&c);
    pthread_attr_setdetachstate(&c, PTHREAD_CREATE_DETACHED);
    pthread_attr_setaffinity_np(&c, sizeof cs, &cs);
    struct seen s3 = {0};
    r = pthread_create(&t, &c, observe, &s3);
    for (int i = 0; i < 1000 && !__atomic_load_n(&s3.done, __ATOMIC_ACQUIRE); i++)
        msleep(10); /* detached: wait for its report (bounded: 10 s) */
    msleep(10);
    CHECK("attr_detached_kept", r == 0 && s3.detach == PTHREAD_CREATE_DETACHED, "r=%d detach=%d", r, s3.detach);
}

static int nthreads_done;
static void *tiny(void *p)
{
    __atomic_add_fetch(&nthreads_done, 1, __ATOMIC_RELAXED);
    return p;
}

static void join_many(void)
{
    int ok = 1;
    for (int round = 0; round < 20; round++) {
        pthread_t t[50];
        for (long i = 0; i < 50; i++)
            ok &= pthread_create(&t[i], NULL, tiny, (void *)i) == 0;
        for (long i = 0; i < 50; i++) {
            void *v;
            ok &= pthread_join(t[i], &v) == 0 && v == (void *)i;
        }
    }
    CHECK("join_1000_threads", ok && nthreads_done == 1000, "done=%d", nthreads_done);
}

static void *main_exit_worker(void *p)
{
    msleep(50);
    printf("main_pthread_exit: ok\n");
    exit(0);
}

HARNESS_MAIN({
    RUN(join_values);
    RUN(join_try_timed);
    RUN(join_errors);
    RUN(join_attrs);
    RUN(join_many);
    if (h_selected("main_exit") && h_failures == 0) {
        /* main leaves with pthread_exit; a worker finishes the process */
        pthread_t t;
        pthread_create(&t, NULL, main_exit_worker, NULL);
        pthread_exit(NULL);
    }
})
