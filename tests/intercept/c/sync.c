/* Barriers, read-write locks and semaphores (unnamed and named, private and process-shared). */
#include "harness.h"

#include <fcntl.h>
#include <semaphore.h>
#include <sys/mman.h>
#include <sys/wait.h>

/* ---- barrier ---- */
#define BT 8
#define BCYCLES 200
static pthread_barrier_t bar;
static int serials[BCYCLES], phase_errors, phase_count[BCYCLES];

static void *bworker(void *p)
{
    for (int cyc = 0; cyc < BCYCLES; cyc++) {
        __atomic_add_fetch(&phase_count[cyc], 1, __ATOMIC_RELAXED);
        int r = pthread_barrier_wait(&bar);
        if (__atomic_load_n(&phase_count[cyc], __ATOMIC_RELAXED) != BT)
            __atomic_add_fetch(&phase_errors, 1, __ATOMIC_RELAXED);
        if (r == PTHREAD_BARRIER_SERIAL_THREAD)
            __atomic_add_fetch(&serials[cyc], 1, __ATOMIC_RELAXED);
        else if (r != 0)
            __atomic_add_fetch(&phase_errors, 1, __ATOMIC_RELAXED);
    }
    return NULL;
}

static void barrier(void)
{
    pthread_barrier_init(&bar, NULL, BT);
    pthread_t t[BT];
    for (int i = 0; i < BT; i++)
        pthread_create(&t[i], NULL, bworker, NULL);
    for (int i = 0; i < BT; i++)
        pthread_join(t[i], NULL);
    int bad = 0;
    for (int c = 0; c < BCYCLES; c++)
        bad += serials[c] != 1;
    CHECK("barrier_one_serial_per_cycle", bad == 0 && phase_errors == 0, "bad=%d errors=%d", bad, phase_errors);
}

/* ---- rwlock ---- */
static pthread_rwlock_t rw = PTHREAD_RWLOCK_INITIALIZER;
static pthread_barrier_t rbar;
static int inside;

static void *reader(void *p)
{
    pthread_rwlock_rdlock(&rw);
    __atomic_add_fetch(&inside, 1, __ATOMIC_RELAXED);
    pthread_barrier_wait(&rbar); /* all readers hold the lock at once */
    pthread_rwlock_unlock(&rw);
    return NULL;
}

struct wr {
    pthread_rwlock_t *l;
    volatile int release; /* holds the lock until the main thread sets this */
    volatile int held;
};

static void *writer_hold(void *p)
{
    struct wr *w = p;
    pthread_rwlock_wrlock(w->l);
    __atomic_store_n(&w->held, 1, __ATOMIC_RELEASE);
    while (!__atomic_load_n(&w->release, __ATOMIC_ACQUIRE))
        msleep(2);
    msleep(20);
    pthread_rwlock_unlock(w->l);
    return NULL;
}

static long rw_value;
static int rw_torn;
static void *rw_mixed(void *p)
{
    long id = (long)p;
    for (int i = 0; i < 3000; i++) {
        if ((i + id) % 4 == 0) {
            pthread_rwlock_wrlock(&rw);
            long v = rw_value;
            rw_value = v + 1;
            pthread_rwlock_unlock(&rw);
        } else {
            pthread_rwlock_rdlock(&rw);
            long a = rw_value;
            if (i % 64 == 0)
                sched_yield();
            if (rw_value != a)
                __atomic_add_fetch(&rw_torn, 1, __ATOMIC_RELAXED);
            pthread_rwlock_unlock(&rw);
        }
    }
    return NULL;
}

static void rwlock(void)
{
    pthread_barrier_init(&rbar, NULL, 4);
    pthread_t t[16];
    for (int i = 0; i < 4; i++)
        pthread_create(&t[i], NULL, reader, NULL);
    for (int i = 0; i < 4; i++)
        pthread_join(t[i], NULL);
    CHECK("rwlock_readers_share", inside == 4, "inside=%d", inside);

    struct wr w = {&rw, 0, 0};
    pthread_t wt;
    pthread_create(&wt, NULL, writer_hold, &w);
    while (!__atomic_load_n(&w.held, __ATOMIC_ACQUIRE))
        msleep(1);
    int r1 = pthread_rwlock_tryrdlock(&rw), r2 = pthread_rwlock_trywrlock(&rw);
    struct timespec a = abs_in(CLOCK_REALTIME, 120);
    double t0 = now_s();
    int r3 = pthread_rwlock_timedrdlock(&rw, &a);
    double e3 = now_s() - t0;
    a = abs_in(CLOCK_MONOTONIC, 120);
    t0 = now_s();
    int r4 = pthread_rwlock_clockwrlock(&rw, CLOCK_MONOTONIC, &a);
    double e4 = now_s() - t0;
    a = abs_in(CLOCK_REALTIME, 10000);
    __atomic_store_n(&w.release, 1, __ATOMIC_RELEASE);
    int r5 = pthread_rwlock_timedwrlock(&rw, &a); /* acquired when the writer leaves */
    int r6 = pthread_rwlock_rdlock(&rw);           /* EDEADLK: we hold it for writing */
    int r7 = pthread_rwlock_wrlock(&rw);           /* EDEADLK */
    pthread_rwlock_unlock(&rw);
    pthread_join(wt, NULL);
    pthread_rwlock_rdlock(&rw);
    a = abs_in(CLOCK_MONOTONIC, 50);
    int r8 = pthread_rwlock_clockrdlock(&rw, CLOCK_MONOTONIC, &a); /* second read lock: 0 */
    int r9 = pthread_rwlock_clockrdlock(&rw, CLOCK_PROCESS_CPUTIME_ID, &a);
    pthread_rwlock_unlock(&rw);
    if (r8 == 0)
        pthread_rwlock_unlock(&rw);
    CHECK("rwlock_try_ebusy_under_writer", r1 == EBUSY && r2 == EBUSY, "r=%d,%d", r1, r2);
    CHECK("rwlock_timedrdlock_etimedout", r3 == ETIMEDOUT && TIMED_OK(e3, 120), "r=%d", r3);
    CHECK("rwlock_clockwrlock_etimedout", r4 == ETIMEDOUT && TIMED_OK(e4, 120), "r=%d", r4);
    CHECK("rwlock_timedwrlock_acquires", r5 == 0 && r6 == EDEADLK && r7 == EDEADLK, "r=%d,%d,%d", r5, r6, r7);
    CHECK("rwlock_clockrdlock_shared", r8 == 0, "r=%d", r8);
    printf("rwlock_args: clockrdlock_badclock=%d\n", r9);

    for (long i = 0; i < 16; i++)
        pthread_create(&t[i], NULL, rw_mixed, (void *)i);
    for (int i = 0; i < 16; i++)
        pthread_join(t[i], NULL);
    CHECK("rwlock_16_threads_mixed", rw_torn == 0 && rw_value == 16 * 3000 / 4, "torn=%d value=%ld", rw_torn, rw_value);
}

/* ---- semaphores ---- */
static sem_t s_items, s_done;
static long s_sum;

static void *sem_consumer(void *p)
{
    for (int i = 1; i <= 5000; i++) {
        sem_wait(&s_items);
        s_sum += i;
    }
    sem_post(&s_done);
    return NULL;
}

static void semaphores(void)
{
    sem_init(&s_items, 0, 0);
    sem_init(&s_done, 0, 0);
    pthread_t t;
    pthread_create(&t, NULL, sem_consumer, NULL);
    for (int i = 0; i < 5000; i++) {
        sem_post(&s_items);
        if (i % 100 == 0)
            msleep(1);
    }
    sem_wait(&s_done);
    pthread_join(t, NULL);
    CHECK("sem_unnamed_threads", s_sum == 5000L * 5001 / 2, "sum=%ld", s_sum);

    sem_t s;
    sem_init(&s, 0, 0);
    errno = 0;
    int r1 = sem_trywait(&s), e1 = errno;
    struct timespec a = abs_in(CLOCK_REALTIME, 120);
    double t0 = now_s();
    errno = 0;
    int r2 = sem_timedwait(&s, &a), e2 = errno;
    double el2 = now_s() - t0;
    a = abs_in(CLOCK_MONOTONIC, 120);
    t0 = now_s();
    errno = 0;
    int r3 = sem_clockwait(&s, CLOCK_MONOTONIC, &a), e3 = errno;
    double el3 = now_s() - t0;
    CHECK("sem_trywait_eagain", r1 == -1 && e1 == EAGAIN, "r=%d errno=%d", r1, e1);
    CHECK("sem_timedwait_etimedout", r2 == -1 && e2 == ETIMEDOUT && TIMED_OK(el2, 120), "r=%d errno=%d", r2, e2);
    CHECK("sem_clockwait_etimedout", r3 == -1 && e3 == ETIMEDOUT && TIMED_OK(el3, 120), "r=%d errno=%d", r3, e3);

    /* errno untouched on success, both when the value is available and after blocking */
    sem_post(&s);
    errno = EXDEV;
    int r4 = sem_wait(&s), e4 = errno;
    struct wr dummy;
    (void)dummy;
    errno = EXDEV;
    a = abs_in(CLOCK_REALTIME, 10000);
    pthread_t poster;
    pthread_create(&poster, NULL, (void *(*)(void *))(void *)sem_post, &s); /* posts once */
    int r5 = sem_timedwait(&s, &a), e5 = errno;
    pthread_join(poster, NULL);
    CHECK("sem_errno_preserved", r4 == 0 && e4 == EXDEV && r5 == 0 && e5 == EXDEV, "r=%d,%d errno=%d,%d", r4, r5, e4, e5);

    struct timespec bad = {0, 1000000000L};
    errno = 0;
    int r6 = sem_timedwait(&s, &bad), e6 = errno;
    sem_post(&s);
    errno = 0;
    int r7 = sem_timedwait(&s, &bad), e7 = errno; /* glibc checks the time first */
    errno = 0;
    int r8 = sem_clockwait(&s, CLOCK_PROCESS_CPUTIME_ID, &a), e8 = errno;
    printf("sem_args: badns=%d/%d badns_avail=%d/%d badclock=%d/%d\n", r6, e6, r7, e7, r8, e8);

    /* process-shared unnamed semaphore across fork */
    sem_t *ps = mmap(NULL, 2 * sizeof(sem_t), PROT_READ | PROT_WRITE, MAP_SHARED | MAP_ANONYMOUS, -1, 0);
    sem_init(&ps[0], 1, 0);
    sem_init(&ps[1], 1, 0);
    pid_t pid = fork();
    if (pid == 0) {
        for (int i = 0; i < 100; i++) {
            sem_wait(&ps[0]);
            sem_post(&ps[1]);
        }
        _exit(0);
    }
    int ok = 1;
    for (int i = 0; i < 100; i++) {
        sem_post(&ps[0]);
        a = abs_in(CLOCK_REALTIME, 10000);
        ok &= sem_timedwait(&ps[1], &a) == 0;
    }
    int st;
    waitpid(pid, &st, 0);
    CHECK("sem_pshared_fork", ok && WIFEXITED(st) && WEXITSTATUS(st) == 0, "ok=%d", ok);

    /* named semaphore across fork */
    char name[64];
    snprintf(name, sizeof name, "/corun-test-%d", (int)getpid());
    sem_t *ns = sem_open(name, O_CREAT | O_EXCL, 0600, 0);
    pid = fork();
    if (pid == 0) {
        sem_t *cs = sem_open(name, 0);
        for (int i = 0; i < 20; i++) {
            msleep(1);
            sem_post(cs);
        }
        _exit(0);
    }
    ok = ns != SEM_FAILED;
    for (int i = 0; i < 20 && ok; i++)
        ok &= sem_wait(ns) == 0;
    errno = 0;
    int r9 = sem_trywait(ns), e9 = errno;
    waitpid(pid, &st, 0);
    sem_close(ns);
    sem_unlink(name);
    CHECK("sem_named_fork", ok && r9 == -1 && e9 == EAGAIN && WEXITSTATUS(st) == 0, "ok=%d r=%d", ok, r9);
}

HARNESS_MAIN({
    RUN(barrier);
    RUN(rwlock);
    RUN(semaphores);
})
