/* signal.c — signal masks and signal waits.
 *
 * Intercepts: sigprocmask, pthread_sigmask (masks); sigsuspend, sigwait, sigwaitinfo,
 *             sigtimedwait, pause (blocking waits).
 * Not intercepted: signal, sigaction and everything else about handlers.
 *
 * Invariants:
 *  - The scheduler's own signals are never blocked by the program: a mask installed with
 *    SIG_BLOCK or SIG_SETMASK (or passed to sigsuspend) is copied and filtered with
 *    cr_sigmask_filter() before the real call; the caller's set is not modified (a managed
 *    thread's sigsuspend mask gets the scheduler's signals added back: they stay blocked while
 *    the thread is BLOCKED, as cr_block_begin() arranges). SIG_UNBLOCK and
 *    queries pass through. The old mask reported is the real one. Return values and errno are
 *    the real call's (EINVAL for a bad `how` included).
 *  - The waits release the core of a managed thread around the real call and are cancellation
 *    points (cleanup handler gives a cancelled thread its core back). sigtimedwait with a zero
 *    timeout is a poll: no scheduling point.
 */
#include "intercept/intercept.h"

#include <signal.h>
#include <unistd.h>

CR_EXPORT int sigprocmask(int how, const sigset_t *restrict set, sigset_t *restrict old)
{
    if (set && how != SIG_UNBLOCK) {
        sigset_t copy = *set;
        cr_sigmask_filter(&copy);
        return REAL(sigprocmask)(how, &copy, old);
    }
    return REAL(sigprocmask)(how, set, old);
}

CR_EXPORT int pthread_sigmask(int how, const sigset_t *restrict set, sigset_t *restrict old)
{
    if (set && how != SIG_UNBLOCK) {
        sigset_t copy = *set;
        cr_sigmask_filter(&copy);
        return REAL(pthread_sigmask)(how, &copy, old);
    }
    return REAL(pthread_sigmask)(how, set, old);
}

__attribute__((noinline)) static int block_sigsuspend(const sigset_t *mask)
{
    sigset_t copy = *mask;
    cr_sigmask_filter(&copy);
    cr_add_sched_signals(&copy);
    return CR_BLOCKING_CANCEL(REAL(sigsuspend)(&copy));
}

CR_EXPORT int sigsuspend(const sigset_t *mask)
{
    if (cr_thread_managed())
        return block_sigsuspend(mask);
    sigset_t copy = *mask;
    cr_sigmask_filter(&copy);
    return REAL(sigsuspend)(&copy);
}

CR_EXPORT int sigwait(const sigset_t *restrict set, int *restrict sig)
{
    if (!cr_thread_managed())
        return REAL(sigwait)(set, sig);
    return CR_BLOCKING_CANCEL(REAL(sigwait)(set, sig));
}

CR_EXPORT int sigwaitinfo(const sigset_t *restrict set, siginfo_t *restrict info)
{
    if (!cr_thread_managed())
        return REAL(sigwaitinfo)(set, info);
    return CR_BLOCKING_CANCEL(REAL(sigwaitinfo)(set, info));
}

CR_EXPORT int sigtimedwait(const sigset_t *restrict set, siginfo_t *restrict info,
                           const struct timespec *restrict tmo)
{
    if (!cr_thread_managed() || (tmo && tmo->tv_sec == 0 && tmo->tv_nsec == 0))
        return REAL(sigtimedwait)(set, info, tmo);
    return CR_BLOCKING_CANCEL(REAL(sigtimedwait)(set, info, tmo));
}

CR_EXPORT int pause(void)
{
    if (!cr_thread_managed())
        return REAL(pause)();
    return CR_BLOCKING_CANCEL(REAL(pause)());
}
