/* Condition variables: signal, broadcast, timeouts, clockwait, process-shared, 64-thread rings. */
#include "harness.h"

#include <sys/mman.h>
#include <sys/wait.h>

static pthread_mutex_t m = PTHREAD_MUTEX_INITIALIZER;
static pthread_cond_t c = PTHREAD_COND_INITIALIZER;
static int waiting, woken, go;

static void *waiter(void *p)
{
    pthread_mutex_lock(&m);
    waiting++;
    pthread_cond_broadcast(&c); /* tell main */
    while (!go)
        pthread_cond_wait(&c, &m);
    go--;
    woken++;
    pthread_mutex_unlock(&m);
    return NULL;
}

static void wait_for_waiters(int n)
{
    pthread_mutex_lock(&m);
    while (waiting < n)
        pthread_cond_wait(&c, &m);
    pthread_mutex_unlock(&m);
}

static void cond_signal_one(void)
{
    pthread_t t[4];
    waiting = woken = go = 0;
    for (int i = 0; i < 4; i++)
        pthread_create(&t[i], NULL, waiter, NULL);
    wait_for_waiters(4);
    msleep(20);
    pthread_mutex_lock(&m);
    go = 1;
    pthread_cond_signal(&c);
    pthread_mutex_unlock(&m);
    /* wait (bounded) for the one wake-up, then give any wrong extra wake-up time to show */
    for (int i = 0; i < 500; i++) {
        pthread_mutex_lock(&m);
        int w = woken;
        pthread_mutex_unlock(&m);
        if (w)
            break;
        msleep(10);
    }
    msleep(50);
    pthread_mutex_lock(&m);
    int w1 = woken;
    go = 3;
    pthread_cond_broadcast(&c);
    pthread_mutex_unlock(&m);
    for (int i = 0; i < 4; i++)
        pthread_join(t[i], NULL);
    CHECK("cond_signal_wakes_one", w1 == 1 && woken == 4, "woken=%d then %d", w1, woken);
}

static void cond_broadcast_all(void)
{
    pthread_t t[16];
    waiting = woken = go = 0;
    for (int i = 0; i < 16; i++)
        pthread_create(&t[i], NULL, waiter, NULL);
    wait_for_waiters(16);
    pthread_mutex_lock(&m);
    go = 16;
    pthread_cond_broadcast(&c);
    pthread_mutex_unlock(&m);
    for (int i = 0; i < 16; i++)
        pthread_join(t[i], NULL);
    CHECK("cond_broadcast_wakes_all", woken == 16, "woken=%d", woken);
}

static void cond_timeouts(void)
{
    pthread_cond_t cc = PTHREAD_COND_INITIALIZER;
    pthread_mutex_lock(&m);
    struct timespec a = abs_in(CLOCK_REALTIME, 150);
    double t0 = now_s();
    int r1 = pthread_cond_timedwait(&cc, &m, &a);
    double e1 = now_s() - t0;
    int own1 = pthread_mutex_trylock(&m); /* EBUSY: re-acquired by the wait */
    a = abs_in(CLOCK_MONOTONIC, 150);
    t0 = now_s();
    int r2 = pthread_cond_clockwait(&cc, &m, CLOCK_MONOTONIC, &a);
    double e2 = now_s() - t0;
    struct timespec bad = {0, -1};
    int r3 = pthread_cond_timedwait(&cc, &m, &bad);
    int r4 = pthread_cond_clockwait(&cc, &m, CLOCK_PROCESS_CPUTIME_ID, &a);
    pthread_mutex_unlock(&m);

    /* monotonic condattr */
    pthread_condattr_t ca;
    pthread_condattr_init(&ca);
    pthread_condattr_setclock(&ca, CLOCK_MONOTONIC);
    pthread_cond_t mc;
    pthread_cond_init(&mc, &ca);
    pthread_mutex_lock(&m);
    a = abs_in(CLOCK_MONOTONIC, 100);
    t0 = now_s();
    int r5 = pthread_cond_timedwait(&mc, &m, &a);
    double e5 = now_s() - t0;
    pthread_mutex_unlock(&m);
    CHECK("cond_timedwait_etimedout", r1 == ETIMEDOUT && TIMED_OK(e1, 150) && own1 == EBUSY, "r=%d own=%d", r1, own1);
    CHECK("cond_clockwait_etimedout", r2 == ETIMEDOUT && TIMED_OK(e2, 150), "r=%d", r2);
    CHECK("cond_timedwait_monotonic_attr", r5 == ETIMEDOUT && TIMED_OK(e5, 100), "r=%d", r5);
    printf("cond_args: timedwait_badns=%d clockwait_badclock=%d\n", r3, r4);
    fprintf(stderr, "DIAG %.3f %.3f %.3f\n", e1, e2, e5);
}

struct shared {
    pthread_mutex_t m;
    pthread_cond_t c;
    int flag, ack;
};

static void cond_pshared(void)
{
    struct shared *s = mmap(NULL, sizeof *s, PROT_READ | PROT_WRITE, MAP_SHARED | MAP_ANONYMOUS, -1, 0);
    pthread_mutexattr_t ma;
    pthread_condattr_t ca;
    pthread_mutexattr_init(&ma);
    pthread_mutexattr_setpshared(&ma, PTHREAD_PROCESS_SHARED);
    pthread_condattr_init(&ca);
    pthread_condattr_setpshared(&ca, PTHREAD_PROCESS_SHARED);
    pthread_mutex_init(&s->m, &ma);
    pthread_cond_init(&s->c, &ca);
    pid_t pid = fork();
    if (pid == 0) {
        for (int i = 1; i <= 50; i++) {
            pthread_mutex_lock(&s->m);
            while (s->ack != i - 1)
                pthread_cond_wait(&s->c, &s->m);
            s->flag = i;
            pthread_cond_broadcast(&s->c);
            pthread_mutex_unlock(&s->m);
        }
        _exit(0);
    }
    int ok = 1;
    for (int i = 1; i <= 50; i++) {
        pthread_mutex_lock(&s->m);
        while (s->flag != i)
            pthread_cond_wait(&s->c, &s->m);
        s->ack = i;
        pthread_cond_broadcast(&s->c);
        pthread_mutex_unlock(&s->m);
    }
    int st;
    waitpid(pid, &st, 0);
    CHECK("cond_pshared_fork_pingpong", ok && s->flag == 50 && WIFEXITED(st) && WEXITSTATUS(st) == 0, "flag=%d", s->flag);
}

/* Ring of 64 threads: each waits on its own condvar for the token, passes it on. */
#define RING 64
#define ROUNDS 60
static pthread_cond_t ring_c[RING];
static int token, passes;

static void *ring(void *p)
{
    long id = (long)p;
    for (int r = 0; r < ROUNDS; r++) {
        pthread_mutex_lock(&m);
        while (token != id)
            pthread_cond_wait(&ring_c[id], &m);
        passes++;
        token = (id + 1) % RING;
        pthread_cond_signal(&ring_c[token]);
        pthread_mutex_unlock(&m);
    }
    return NULL;
}

static void cond_ring64(void)
{
    pthread_t t[RING];
    for (int i = 0; i < RING; i++)
        pthread_cond_init(&ring_c[i], NULL);
    token = passes = 0;
    for (long i = 0; i < RING; i++)
        pthread_create(&t[i], NULL, ring, (void *)i);
    for (int i = 0; i < RING; i++)
        pthread_join(t[i], NULL);
    CHECK("cond_ring_64_threads", passes == RING * ROUNDS, "passes=%d", passes);
}

/* Bounded queue, 32 producers and 32 consumers: no lost wake-ups, every item consumed once. */
#define QCAP 4
static int q[QCAP], qh, qt, qn;
static long consumed_sum, produced_sum;
static pthread_cond_t notfull = PTHREAD_COND_INITIALIZER, notempty = PTHREAD_COND_INITIALIZER;

static void *producer(void *p)
{
    long id = (long)p;
    for (int i = 1; i <= 200; i++) {
        pthread_mutex_lock(&m);
        while (qn == QCAP)
            pthread_cond_wait(&notfull, &m);
        q[qt] = (int)(id * 1000 + i);
        qt = (qt + 1) % QCAP;
        qn++;
        produced_sum += id * 1000 + i;
        pthread_cond_signal(&notempty);
        pthread_mutex_unlock(&m);
    }
    return NULL;
}

static void *consumer(void *p)
{
    for (int i = 0; i < 200; i++) {
        pthread_mutex_lock(&m);
        while (qn == 0)
            pthread_cond_wait(&notempty, &m);
        consumed_sum += q[qh];
        qh = (qh + 1) % QCAP;
        qn--;
        pthread_cond_signal(&notfull);
        pthread_mutex_unlock(&m);
    }
    return NULL;
}

static void cond_queue64(void)
{
    pthread_t t[64];
    for (long i = 0; i < 32; i++) {
        pthread_create(&t[i], NULL, producer, (void *)i);
        pthread_create(&t[32 + i], NULL, consumer, NULL);
    }
    for (int i = 0; i < 64; i++)
        pthread_join(t[i], NULL);
    CHECK("cond_queue_64_threads", consumed_sum == produced_sum && qn == 0, "sum %ld vs %ld", consumed_sum, produced_sum);
}

HARNESS_MAIN({
    RUN(cond_signal_one);
    RUN(cond_broadcast_all);
    RUN(cond_timeouts);
    RUN(cond_pshared);
    RUN(cond_ring64);
    RUN(cond_queue64);
})
