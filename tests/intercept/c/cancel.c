/* Cancellation points stay cancellation points: a thread cancelled while blocked in an
 * intercepted call runs its cleanup handlers (on a core) and is joined as PTHREAD_CANCELED. */
#include "harness.h"

#include <poll.h>
#include <semaphore.h>
#include <sys/wait.h>

static pthread_mutex_t m;
static pthread_cond_t c = PTHREAD_COND_INITIALIZER;
static sem_t sem;
static volatile int cleaned, unlocked_ok;
static int pfd[2];
static pthread_t join_target;

static void cleanup_flag(void *p) { cleaned = 1; }
static void cleanup_unlock(void *p)
{
    cleaned = 1;
    unlocked_ok = pthread_mutex_unlock(&m) == 0; /* error-check mutex: 0 only if we own it */
}

static void *in_cond(void *p)
{
    pthread_mutex_lock(&m);
    pthread_cleanup_push(cleanup_unlock, NULL);
    for (;;)
        pthread_cond_wait(&c, &m);
    pthread_cleanup_pop(0);
    return NULL;
}

static void *in_condtimed(void *p)
{
    pthread_mutex_lock(&m);
    pthread_cleanup_push(cleanup_unlock, NULL);
    for (;;) {
        struct timespec a = abs_in(CLOCK_REALTIME, 10000);
        pthread_cond_timedwait(&c, &m, &a);
    }
    pthread_cleanup_pop(0);
    return NULL;
}

#define BLOCKER(name, ...)                                                                       \
    static void *name(void *p)                                                                   \
    {                                                                                            \
        pthread_cleanup_push(cleanup_flag, NULL);                                                \
        for (;;) {                                                                               \
            __VA_ARGS__;                                                                         \
        }                                                                                        \
        pthread_cleanup_pop(0);                                                                  \
        return NULL;                                                                             \
    }

static void *forever(void *p)
{
    for (;;)
        pause();
    return NULL;
}

BLOCKER(in_sleep, sleep(100))
BLOCKER(in_usleep, usleep(10000000))
BLOCKER(in_nanosleep, { struct timespec t = {100, 0}; nanosleep(&t, NULL); })
BLOCKER(in_clock_nanosleep, { struct timespec t = {100, 0}; clock_nanosleep(CLOCK_MONOTONIC, 0, &t, NULL); })
BLOCKER(in_sem_wait, sem_wait(&sem))
BLOCKER(in_sem_timedwait, { struct timespec a = abs_in(CLOCK_REALTIME, 100000); sem_timedwait(&sem, &a); })
BLOCKER(in_poll, { struct pollfd f = {pfd[0], POLLIN, 0}; poll(&f, 1, -1); })
BLOCKER(in_join, pthread_join(join_target, NULL))
BLOCKER(in_pause, pause())
BLOCKER(in_waitpid, waitpid(-1, NULL, 0))

static void cancel_one(const char *name, void *(*fn)(void *))
{
    cleaned = unlocked_ok = 0;
    pthread_t t;
    pthread_create(&t, NULL, fn, NULL);
    msleep(80); /* let it block */
    pthread_cancel(t);
    void *v = NULL;
    struct timespec a = abs_in(CLOCK_REALTIME, 10000);
    int r = pthread_timedjoin_np(t, &v, &a);
    int need_unlock = fn == in_cond || fn == in_condtimed;
    CHECK(name, r == 0 && v == PTHREAD_CANCELED && cleaned && (!need_unlock || unlocked_ok),
          "join=%d canceled=%d cleaned=%d unlocked=%d", r, v == PTHREAD_CANCELED, cleaned, unlocked_ok);
}

static void cancels(void)
{
    pthread_mutexattr_t ma;
    pthread_mutexattr_init(&ma);
    pthread_mutexattr_settype(&ma, PTHREAD_MUTEX_ERRORCHECK);
    pthread_mutex_init(&m, &ma);
    sem_init(&sem, 0, 0);
    (void)!pipe(pfd);
    cancel_one("cancel_cond_wait", in_cond);
    cancel_one("cancel_cond_timedwait", in_condtimed);
    cancel_one("cancel_sleep", in_sleep);
    cancel_one("cancel_usleep", in_usleep);
    cancel_one("cancel_nanosleep", in_nanosleep);
    cancel_one("cancel_clock_nanosleep", in_clock_nanosleep);
    cancel_one("cancel_sem_wait", in_sem_wait);
    cancel_one("cancel_sem_timedwait", in_sem_timedwait);
    cancel_one("cancel_poll", in_poll);
    pthread_create(&join_target, NULL, forever, NULL);
    cancel_one("cancel_join", in_join);
    pthread_cancel(join_target);
    pthread_join(join_target, NULL);
    cancel_one("cancel_pause", in_pause);
    pid_t child = fork();
    if (child == 0) {
        sleep(100);
        _exit(0);
    }
    cancel_one("cancel_waitpid", in_waitpid);
    kill(child, SIGKILL);
    int st;
    waitpid(child, &st, 0);
    /* after all that, the process still schedules normally */
    int ok = pthread_mutex_lock(&m) == 0 && pthread_mutex_unlock(&m) == 0;
    CHECK("cancel_then_normal", ok, "mutex");
}

HARNESS_MAIN({ RUN(cancels); })
