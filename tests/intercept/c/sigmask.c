/* Signal masks: a program that blocks every signal keeps working (threads, locks, waits), its
 * own signals stay blocked and pending, sigwait collects them; masks in thread attributes too. */
#include "harness.h"

#include <signal.h>

static pthread_mutex_t m = PTHREAD_MUTEX_INITIALIZER;
static pthread_cond_t c = PTHREAD_COND_INITIALIZER;
static int turn, rounds;

static void *pinger(void *p)
{
    long id = (long)p;
    for (int i = 0; i < 500; i++) {
        pthread_mutex_lock(&m);
        while (turn != id)
            pthread_cond_wait(&c, &m);
        rounds++;
        turn = !id;
        pthread_cond_broadcast(&c);
        pthread_mutex_unlock(&m);
    }
    return NULL;
}

static int mask_has(int sig)
{
    sigset_t cur;
    pthread_sigmask(SIG_BLOCK, NULL, &cur);
    return sigismember(&cur, sig);
}

static void *check_mask(void *p)
{
    int *out = p;
    *out = mask_has(SIGUSR1) * 10 + mask_has(SIGUSR2);
    return NULL;
}

static void sigmasks(void)
{
    sigset_t all, old;
    sigfillset(&all);
    int r1 = sigprocmask(SIG_BLOCK, &all, &old);
    int blocked = mask_has(SIGUSR1) && mask_has(SIGTERM) && mask_has(SIGINT) && mask_has(SIGUSR2);
    /* the program keeps working with everything blocked */
    pthread_t t[2];
    for (long i = 0; i < 2; i++)
        pthread_create(&t[i], NULL, pinger, (void *)i);
    for (int i = 0; i < 2; i++)
        pthread_join(t[i], NULL);
    msleep(30);
    CHECK("sigmask_block_all_keeps_working", r1 == 0 && blocked && rounds == 1000, "r=%d blocked=%d rounds=%d", r1,
          blocked, rounds);

    /* threads inherit the mask */
    int seen = 0;
    pthread_create(&t[0], NULL, check_mask, &seen);
    pthread_join(t[0], NULL);
    CHECK("sigmask_inherited_by_threads", seen == 11, "seen=%d", seen);

    /* a blocked signal stays pending and sigwait takes it */
    raise(SIGUSR1);
    sigset_t pend;
    sigpending(&pend);
    int pending = sigismember(&pend, SIGUSR1);
    sigset_t one;
    sigemptyset(&one);
    sigaddset(&one, SIGUSR1);
    int sig = 0;
    int r2 = sigwait(&one, &sig);
    struct timespec z = {0, 0}, hundred = {0, 100000000L};
    errno = 0;
    int r3 = sigtimedwait(&one, NULL, &z), e3 = errno;
    double t0 = now_s();
    errno = 0;
    int r4 = sigtimedwait(&one, NULL, &hundred), e4 = errno;
    double el = now_s() - t0;
    CHECK("sigmask_pending_sigwait", pending && r2 == 0 && sig == SIGUSR1, "pending=%d r=%d sig=%d", pending, r2, sig);
    CHECK("sigtimedwait_eagain", r3 == -1 && e3 == EAGAIN && r4 == -1 && e4 == EAGAIN && TIMED_OK(el, 100),
          "r=%d/%d,%d/%d", r3, e3, r4, e4);

    /* pthread_sigmask SETMASK and UNBLOCK */
    sigset_t empty;
    sigemptyset(&empty);
    int r5 = pthread_sigmask(SIG_SETMASK, &empty, NULL);
    int after_set = mask_has(SIGUSR1);
    pthread_sigmask(SIG_BLOCK, &one, NULL);
    int r6 = pthread_sigmask(SIG_UNBLOCK, &one, NULL);
    int after_unblock = mask_has(SIGUSR1);
    int r7 = pthread_sigmask(12345, &one, NULL);
    errno = 0;
    int r8 = sigprocmask(12345, &one, NULL), e8 = errno;
    CHECK("sigmask_setmask_unblock", r5 == 0 && !after_set && r6 == 0 && !after_unblock, "r=%d,%d", r5, r6);
    printf("sigmask_args: pthread_bad_how=%d sigprocmask_bad_how=%d/%d\n", r7, r8, e8);

    /* a mask in thread attributes */
    pthread_attr_t a;
    pthread_attr_init(&a);
    pthread_attr_setsigmask_np(&a, &all);
    seen = 0;
    pthread_create(&t[0], &a, check_mask, &seen);
    pthread_join(t[0], NULL);
    CHECK("sigmask_attr_mask", seen == 11, "seen=%d", seen);

    sigprocmask(SIG_SETMASK, &old, NULL);
}

static volatile int got_usr2;
static void on_usr2(int s) { got_usr2 = 1; }
static void *send_usr2(void *p)
{
    msleep(80);
    kill(getpid(), SIGUSR2);
    return NULL;
}

static void suspend(void)
{
    signal(SIGUSR2, on_usr2);
    sigset_t all, wait_mask;
    sigfillset(&all);
    pthread_sigmask(SIG_BLOCK, &all, NULL);
    pthread_t t;
    pthread_create(&t, NULL, send_usr2, NULL);
    sigfillset(&wait_mask);
    sigdelset(&wait_mask, SIGUSR2);
    errno = 0;
    int r = 0, e = 0;
    while (!got_usr2) {
        r = sigsuspend(&wait_mask);
        e = errno;
    }
    pthread_join(t, NULL);
    int still = mask_has(SIGUSR2);
    CHECK("sigsuspend_wakes", r == -1 && e == EINTR && got_usr2 && still, "r=%d errno=%d still=%d", r, e, still);
}

HARNESS_MAIN({
    RUN(sigmasks);
    RUN(suspend);
})
