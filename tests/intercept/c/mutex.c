/* Mutex semantics: every type, robust owner death, timeouts, trylock, process-shared, spin. */
#include "harness.h"

#include <sys/mman.h>
#include <sys/wait.h>

static pthread_mutex_t *make(int type, int robust, int proto, int pshared)
{
    static pthread_mutex_t store[32];
    static int n;
    pthread_mutex_t *m = pshared ? mmap(NULL, sizeof *m, PROT_READ | PROT_WRITE, MAP_SHARED | MAP_ANONYMOUS, -1, 0)
                                 : &store[n++];
    pthread_mutexattr_t a;
    pthread_mutexattr_init(&a);
    pthread_mutexattr_settype(&a, type);
    if (robust)
        pthread_mutexattr_setrobust(&a, PTHREAD_MUTEX_ROBUST);
    pthread_mutexattr_setprotocol(&a, proto);
    if (pshared)
        pthread_mutexattr_setpshared(&a, PTHREAD_PROCESS_SHARED);
    pthread_mutex_init(m, &a);
    pthread_mutexattr_destroy(&a);
    return m;
}

struct hold {
    pthread_mutex_t *m;
    long ms; /* hold this long; -1: until `release` is set */
    int die; /* exit while holding */
    volatile int held;
    volatile int release;
};

static void *holder(void *p)
{
    struct hold *h = p;
    pthread_mutex_lock(h->m);
    __atomic_store_n(&h->held, 1, __ATOMIC_RELEASE);
    if (h->ms >= 0)
        msleep(h->ms);
    else
        while (!__atomic_load_n(&h->release, __ATOMIC_ACQUIRE))
            msleep(2);
    if (!h->die)
        pthread_mutex_unlock(h->m);
    return NULL;
}

static pthread_t start_holder(struct hold *h)
{
    pthread_t t;
    h->held = 0;
    pthread_create(&t, NULL, holder, h);
    while (!__atomic_load_n(&h->held, __ATOMIC_ACQUIRE))
        msleep(1);
    return t;
}

/* Contended counting with N threads: no lost updates, every lock returned 0. */
struct count {
    pthread_mutex_t *m;
    long n, iters;
    int bad;
};

static void *counter(void *p)
{
    struct count *c = p;
    for (long i = 0; i < c->iters; i++) {
        if (pthread_mutex_lock(c->m) != 0)
            __atomic_add_fetch(&c->bad, 1, __ATOMIC_RELAXED);
        c->n++;
        if ((i & 63) == 0)
            sched_yield();
        pthread_mutex_unlock(c->m);
    }
    return NULL;
}

static int count_with(pthread_mutex_t *m, int threads, long iters)
{
    struct count c = {m, 0, iters, 0};
    pthread_t t[64];
    for (int i = 0; i < threads; i++)
        pthread_create(&t[i], NULL, counter, &c);
    for (int i = 0; i < threads; i++)
        pthread_join(t[i], NULL);
    return c.n == threads * iters && c.bad == 0;
}

static void mutex_normal(void)
{
    pthread_mutex_t *m = make(PTHREAD_MUTEX_NORMAL, 0, PTHREAD_PRIO_NONE, 0);
    int r1 = pthread_mutex_lock(m), r2 = pthread_mutex_trylock(m), r3 = pthread_mutex_unlock(m);
    CHECK("mutex_normal", r1 == 0 && r2 == EBUSY && r3 == 0 && count_with(m, 8, 5000), "r=%d,%d,%d", r1, r2, r3);
}

static void mutex_recursive(void)
{
    pthread_mutex_t *m = make(PTHREAD_MUTEX_RECURSIVE, 0, PTHREAD_PRIO_NONE, 0);
    int ok = pthread_mutex_lock(m) == 0 && pthread_mutex_lock(m) == 0 && pthread_mutex_trylock(m) == 0;
    struct hold h = {m, 0, 0, 0};
    (void)h;
    ok = ok && pthread_mutex_unlock(m) == 0 && pthread_mutex_unlock(m) == 0 && pthread_mutex_unlock(m) == 0;
    ok = ok && pthread_mutex_unlock(m) == EPERM;
    CHECK("mutex_recursive", ok && count_with(m, 8, 5000), "sequence");
}

static void mutex_errorcheck(void)
{
    pthread_mutex_t *m = make(PTHREAD_MUTEX_ERRORCHECK, 0, PTHREAD_PRIO_NONE, 0);
    int r1 = pthread_mutex_lock(m), r2 = pthread_mutex_lock(m), r3 = pthread_mutex_trylock(m);
    int r4 = pthread_mutex_unlock(m), r5 = pthread_mutex_unlock(m);
    struct timespec t = abs_in(CLOCK_REALTIME, 50);
    pthread_mutex_lock(m);
    int r6 = pthread_mutex_timedlock(m, &t);
    pthread_mutex_unlock(m);
    CHECK("mutex_errorcheck", r1 == 0 && r2 == EDEADLK && r3 == EBUSY && r4 == 0 && r5 == EPERM && r6 == EDEADLK &&
          count_with(m, 8, 5000), "r=%d,%d,%d,%d,%d,%d", r1, r2, r3, r4, r5, r6);
}

static void mutex_pi(void)
{
    pthread_mutex_t *m = make(PTHREAD_MUTEX_NORMAL, 0, PTHREAD_PRIO_INHERIT, 0);
    int r1 = pthread_mutex_lock(m), r2 = pthread_mutex_trylock(m), r3 = pthread_mutex_unlock(m);
    CHECK("mutex_pi", r1 == 0 && r2 == EBUSY && r3 == 0 && count_with(m, 8, 3000), "r=%d,%d,%d", r1, r2, r3);
    pthread_mutex_t *e = make(PTHREAD_MUTEX_ERRORCHECK, 0, PTHREAD_PRIO_INHERIT, 0);
    r1 = pthread_mutex_lock(e), r2 = pthread_mutex_lock(e), r3 = pthread_mutex_unlock(e);
    CHECK("mutex_pi_errorcheck", r1 == 0 && r2 == EDEADLK && r3 == 0, "r=%d,%d,%d", r1, r2, r3);
}

static void mutex_robust(void)
{
    /* owner thread dies holding it; the next lock (uncontended) reports EOWNERDEAD */
    pthread_mutex_t *m = make(PTHREAD_MUTEX_NORMAL, 1, PTHREAD_PRIO_NONE, 0);
    struct hold h = {m, 0, 1, 0};
    pthread_join(start_holder(&h), NULL);
    int r1 = pthread_mutex_lock(m);
    int r2 = pthread_mutex_consistent(m);
    int r3 = pthread_mutex_unlock(m);
    int r4 = pthread_mutex_lock(m);
    pthread_mutex_unlock(m);
    CHECK("mutex_robust_ownerdead", r1 == EOWNERDEAD && r2 == 0 && r3 == 0 && r4 == 0, "r=%d,%d,%d,%d", r1, r2, r3, r4);

    /* contended: a waiter blocked in lock is woken by the owner's death with EOWNERDEAD */
    m = make(PTHREAD_MUTEX_ERRORCHECK, 1, PTHREAD_PRIO_NONE, 0);
    struct hold h2 = {m, 100, 1, 0};
    pthread_t t = start_holder(&h2);
    int r5 = pthread_mutex_lock(m);
    pthread_join(t, NULL);
    /* not made consistent: unlocking makes it unrecoverable */
    int r6 = pthread_mutex_unlock(m);
    int r7 = pthread_mutex_lock(m);
    int r8 = pthread_mutex_trylock(m);
    CHECK("mutex_robust_contended_notrecoverable", r5 == EOWNERDEAD && r6 == 0 && r7 == ENOTRECOVERABLE &&
          r8 == ENOTRECOVERABLE, "r=%d,%d,%d,%d", r5, r6, r7, r8);

    /* robust + PI */
    m = make(PTHREAD_MUTEX_NORMAL, 1, PTHREAD_PRIO_INHERIT, 0);
    struct hold h3 = {m, 50, 1, 0};
    t = start_holder(&h3);
    int r9 = pthread_mutex_lock(m);
    pthread_join(t, NULL);
    pthread_mutex_consistent(m);
    pthread_mutex_unlock(m);
    CHECK("mutex_robust_pi", r9 == EOWNERDEAD, "r=%d", r9);
}

static void mutex_timed(void)
{
    pthread_mutex_t *m = make(PTHREAD_MUTEX_NORMAL, 0, PTHREAD_PRIO_NONE, 0);
    struct hold h = {m, -1, 0, 0, 0};
    pthread_t t = start_holder(&h);
    double t0 = now_s();
    struct timespec a = abs_in(CLOCK_REALTIME, 150);
    int r1 = pthread_mutex_timedlock(m, &a);
    double e1 = now_s() - t0;
    t0 = now_s();
    a = abs_in(CLOCK_MONOTONIC, 150);
    int r2 = pthread_mutex_clocklock(m, CLOCK_MONOTONIC, &a);
    double e2 = now_s() - t0;
    int r3 = pthread_mutex_trylock(m);
    a = abs_in(CLOCK_REALTIME, 10000);
    __atomic_store_n(&h.release, 1, __ATOMIC_RELEASE);
    int r4 = pthread_mutex_timedlock(m, &a); /* succeeds when the holder lets go */
    pthread_mutex_unlock(m);
    pthread_join(t, NULL);
    CHECK("mutex_timedlock_etimedout", r1 == ETIMEDOUT && TIMED_OK(e1, 150), "r=%d", r1);
    CHECK("mutex_clocklock_etimedout", r2 == ETIMEDOUT && TIMED_OK(e2, 150), "r=%d", r2);
    CHECK("mutex_trylock_ebusy", r3 == EBUSY, "r=%d", r3);
    CHECK("mutex_timedlock_acquires", r4 == 0, "r=%d", r4);
    fprintf(stderr, "DIAG timedlock %.3f clocklock %.3f\n", e1, e2);

    /* argument errors are glibc's */
    struct timespec bad = {0, 2000000000L};
    int r5 = pthread_mutex_clocklock(m, CLOCK_PROCESS_CPUTIME_ID, &a);
    int r6 = pthread_mutex_timedlock(m, &bad);
    if (r6 == 0)
        pthread_mutex_unlock(m);
    pthread_mutex_lock(m);
    int r7 = -1;
    struct hold h2 = {m, 0, 0, 0};
    (void)h2;
    pthread_mutex_unlock(m);
    printf("mutex_args: clocklock_badclock=%d timedlock_badns_free=%d\n", r5, r6);
    (void)r7;
}

static void mutex_pshared(void)
{
    pthread_mutex_t *m = make(PTHREAD_MUTEX_NORMAL, 0, PTHREAD_PRIO_NONE, 1);
    long *n = mmap(NULL, 4096, PROT_READ | PROT_WRITE, MAP_SHARED | MAP_ANONYMOUS, -1, 0);
    pid_t pid = fork();
    for (int i = 0; i < 20000; i++) {
        pthread_mutex_lock(m);
        (*n)++;
        pthread_mutex_unlock(m);
    }
    if (pid == 0)
        _exit(0);
    int st;
    waitpid(pid, &st, 0);
    CHECK("mutex_pshared_fork", *n == 40000 && WIFEXITED(st) && WEXITSTATUS(st) == 0, "n=%ld", *n);

    /* robust process-shared: the child dies holding it */
    pthread_mutex_t *r = make(PTHREAD_MUTEX_NORMAL, 1, PTHREAD_PRIO_NONE, 1);
    pid = fork();
    if (pid == 0) {
        pthread_mutex_lock(r);
        _exit(3);
    }
    waitpid(pid, &st, 0);
    int r1 = pthread_mutex_lock(r);
    pthread_mutex_consistent(r);
    pthread_mutex_unlock(r);
    CHECK("mutex_pshared_robust_fork", r1 == EOWNERDEAD && WEXITSTATUS(st) == 3, "r=%d", r1);
}

static pthread_spinlock_t spin;
static long spin_n;
static void *spinner(void *p)
{
    for (int i = 0; i < 20000; i++) {
        pthread_spin_lock(&spin);
        spin_n++;
        pthread_spin_unlock(&spin);
    }
    return NULL;
}

static void mutex_spin(void)
{
    pthread_spin_init(&spin, PTHREAD_PROCESS_PRIVATE);
    pthread_t t[6];
    for (int i = 0; i < 6; i++)
        pthread_create(&t[i], NULL, spinner, NULL);
    for (int i = 0; i < 6; i++)
        pthread_join(t[i], NULL);
    pthread_spin_lock(&spin);
    int r = pthread_spin_trylock(&spin);
    pthread_spin_unlock(&spin);
    CHECK("spin_lock_count", spin_n == 6 * 20000 && r == EBUSY, "n=%ld r=%d", spin_n, r);
}

static void mutex_many(void)
{
    pthread_mutex_t *m = make(PTHREAD_MUTEX_NORMAL, 0, PTHREAD_PRIO_NONE, 0);
    CHECK("mutex_64_threads", count_with(m, 64, 2000), "lost updates");
}

HARNESS_MAIN({
    RUN(mutex_normal);
    RUN(mutex_recursive);
    RUN(mutex_errorcheck);
    RUN(mutex_pi);
    RUN(mutex_robust);
    RUN(mutex_timed);
    RUN(mutex_pshared);
    RUN(mutex_spin);
    RUN(mutex_many);
})
