/* micro MODE ITERS: scheduler micro-benchmarks (benchmarks/sched/micro.py runs them plain and
 * under corun). Each prints one number: nanoseconds per operation.
 *   futex   two threads ping-pong through raw futex words (one-way handoff = round trip / 2)
 *   cond    two threads ping-pong through a mutex + two condvars (one-way handoff)
 *   sem     two threads ping-pong through two POSIX semaphores (one-way handoff)
 *   mutex   uncontended pthread_mutex_lock + unlock pair
 *   getaff  sched_getaffinity(0, ...)
 *   pgetaff pthread_getaffinity_np(pthread_self(), ...)
 *   rss     no timing: prints VmRSS RssAnon RssFile RssShmem (kB) of this process after start-up
 * For the ping-pongs, pin the process to one CPU (taskset, or corun run --cpus N). */
#define _GNU_SOURCE
#include <linux/futex.h>
#include <pthread.h>
#include <sched.h>
#include <semaphore.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/syscall.h>
#include <time.h>
#include <unistd.h>

static long iters;
static _Atomic unsigned fw[2];
static pthread_mutex_t m = PTHREAD_MUTEX_INITIALIZER;
static pthread_cond_t cv[2] = {PTHREAD_COND_INITIALIZER, PTHREAD_COND_INITIALIZER};
static int turn;
static sem_t sems[2];

static double now(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (double)ts.tv_sec * 1e9 + (double)ts.tv_nsec;
}

static void fwait(_Atomic unsigned *w, unsigned v) { syscall(SYS_futex, w, FUTEX_WAIT_PRIVATE, v, NULL, NULL, 0); }
static void fwake(_Atomic unsigned *w) { syscall(SYS_futex, w, FUTEX_WAKE_PRIVATE, 1, NULL, NULL, 0); }

static void *futex_partner(void *a)
{
    (void)a;
    for (long i = 0; i < iters; i++) {
        while (atomic_load(&fw[1]) == 0)
            fwait(&fw[1], 0);
        atomic_store(&fw[1], 0);
        atomic_store(&fw[0], 1);
        fwake(&fw[0]);
    }
    return NULL;
}

static void *cond_partner(void *a)
{
    (void)a;
    for (long i = 0; i < iters; i++) {
        pthread_mutex_lock(&m);
        while (turn != 1)
            pthread_cond_wait(&cv[1], &m);
        turn = 0;
        pthread_cond_signal(&cv[0]);
        pthread_mutex_unlock(&m);
    }
    return NULL;
}

static void *sem_partner(void *a)
{
    (void)a;
    for (long i = 0; i < iters; i++) {
        sem_wait(&sems[1]);
        sem_post(&sems[0]);
    }
    return NULL;
}

static double pingpong(const char *mode)
{
    pthread_t t;
    sem_init(&sems[0], 0, 0);
    sem_init(&sems[1], 0, 0);
    void *(*fn)(void *) = !strcmp(mode, "futex") ? futex_partner : !strcmp(mode, "cond") ? cond_partner : sem_partner;
    pthread_create(&t, NULL, fn, NULL);
    double t0 = 0;
    for (long i = -1000; i < iters - 1000; i++) { /* 1000 warm-up round trips */
        if (i == 0)
            t0 = now();
        if (fn == futex_partner) {
            atomic_store(&fw[1], 1);
            fwake(&fw[1]);
            while (atomic_load(&fw[0]) == 0)
                fwait(&fw[0], 0);
            atomic_store(&fw[0], 0);
        } else if (fn == cond_partner) {
            pthread_mutex_lock(&m);
            turn = 1;
            pthread_cond_signal(&cv[1]);
            while (turn != 0)
                pthread_cond_wait(&cv[0], &m);
            pthread_mutex_unlock(&m);
        } else {
            sem_post(&sems[1]);
            sem_wait(&sems[0]);
        }
    }
    double el = now() - t0;
    pthread_join(t, NULL);
    return el / (double)(iters - 1000) / 2.0;
}

static void *nothing(void *arg) { return arg; }

/* ns per thread for `iters` rounds of: create `width` threads, then join them (BLIS's pthread
 * build does this on every call). */
static double create_join(int width)
{
    pthread_t t[8];
    for (int i = 0; i < 100; i++) { /* warm-up: stacks, and the thread cache when it is on */
        pthread_create(&t[0], NULL, nothing, NULL);
        pthread_join(t[0], NULL);
    }
    double t0 = now();
    for (long i = 0; i < iters; i++) {
        for (int k = 0; k < width; k++)
            pthread_create(&t[k], NULL, nothing, NULL);
        for (int k = 0; k < width; k++)
            pthread_join(t[k], NULL);
    }
    return (now() - t0) / (double)iters / width;
}

int main(int argc, char **argv)
{
    const char *mode = argc > 1 ? argv[1] : "futex";
    iters = argc > 2 ? atol(argv[2]) : 100000;
    if (!strcmp(mode, "futex") || !strcmp(mode, "cond") || !strcmp(mode, "sem")) {
        printf("%.2f\n", pingpong(mode));
    } else if (!strcmp(mode, "mutex")) {
        pthread_mutex_t mm = PTHREAD_MUTEX_INITIALIZER;
        for (long i = 0; i < iters / 10; i++) {
            pthread_mutex_lock(&mm);
            pthread_mutex_unlock(&mm);
        }
        double t0 = now();
        for (long i = 0; i < iters; i++) {
            pthread_mutex_lock(&mm);
            pthread_mutex_unlock(&mm);
            __asm__ volatile("" ::: "memory");
        }
        printf("%.3f\n", (now() - t0) / (double)iters);
    } else if (!strcmp(mode, "getaff") || !strcmp(mode, "pgetaff")) {
        cpu_set_t s;
        int p = !strcmp(mode, "pgetaff");
        double t0 = now();
        for (long i = 0; i < iters; i++) {
            if (p)
                pthread_getaffinity_np(pthread_self(), sizeof s, &s);
            else
                sched_getaffinity(0, sizeof s, &s);
            __asm__ volatile("" ::: "memory");
        }
        printf("%.2f\n", (now() - t0) / (double)iters);
        if (CPU_COUNT(&s) < 1)
            return 1;
    } else if (!strcmp(mode, "create1") || !strcmp(mode, "create3")) {
        printf("%.1f\n", create_join(mode[6] - '0'));
    } else if (!strcmp(mode, "rss")) {
        /* start a thread and let it finish, so the process has been through registration */
        pthread_t t;
        iters = 1;
        sem_init(&sems[0], 0, 0);
        sem_init(&sems[1], 0, 0);
        pthread_create(&t, NULL, sem_partner, NULL);
        sem_post(&sems[1]);
        sem_wait(&sems[0]);
        pthread_join(t, NULL);
        usleep(20000);
        FILE *f = fopen("/proc/self/status", "r");
        char line[256];
        long v[4] = {0};
        const char *keys[4] = {"VmRSS:", "RssAnon:", "RssFile:", "RssShmem:"};
        while (fgets(line, sizeof line, f))
            for (int k = 0; k < 4; k++)
                if (!strncmp(line, keys[k], strlen(keys[k])))
                    v[k] = atol(line + strlen(keys[k]));
        fclose(f);
        printf("%ld %ld %ld %ld\n", v[0], v[1], v[2], v[3]);
    } else {
        return 2;
    }
    return 0;
}
