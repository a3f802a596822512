/* cond.c — pthread condition variables.
 *
 * Intercepts: pthread_cond_wait, pthread_cond_timedwait, pthread_cond_clockwait (scheduling
 *             points), pthread_cond_signal, pthread_cond_broadcast (pass-through).
 *
 * Invariant: a managed waiter releases its core for the whole real wait, including the
 * re-acquisition of the mutex inside glibc, and queues for a core when the real call returns;
 * return codes (0, ETIMEDOUT, EINVAL, EPERM, EOWNERDEAD on a robust mutex) are glibc's. The waits
 * are cancellation points: if the thread is cancelled inside the real wait, glibc re-acquires
 * the mutex and our cleanup handler (pushed after the program's) runs cr_block_end() before the
 * program's handlers, so they run on a core.
 *
 * glibc exports each of these functions in two versions (GLIBC_2.2.5, the pre-NPTL condvar,
 * and GLIBC_2.3.2); all of them bind here to the current one, GLIBC_2.3.2, so that a program's
 * waits and signals always meet in the same implementation. signal and broadcast are no
 * scheduling point: the woken thread queues for its core itself.
 */
#include "intercept/intercept.h"

#define CR_COND_VERSION "GLIBC_2.3.2"

CR_EXPORT int pthread_cond_wait(pthread_cond_t *restrict c, pthread_mutex_t *restrict m)
{
    if (!cr_thread_managed())
        return REAL_V(pthread_cond_wait, CR_COND_VERSION)(c, m);
    return CR_BLOCKING_CANCEL(REAL_V(pthread_cond_wait, CR_COND_VERSION)(c, m));
}

CR_EXPORT int pthread_cond_timedwait(pthread_cond_t *restrict c, pthread_mutex_t *restrict m,
                                     const struct timespec *restrict abstime)
{
    if (!cr_thread_managed())
        return REAL_V(pthread_cond_timedwait, CR_COND_VERSION)(c, m, abstime);
    return CR_BLOCKING_CANCEL(REAL_V(pthread_cond_timedwait, CR_COND_VERSION)(c, m, abstime));
}

CR_EXPORT int pthread_cond_clockwait(pthread_cond_t *restrict c, pthread_mutex_t *restrict m,
                                     clockid_t clk, const struct timespec *restrict abstime)
{
    if (!cr_thread_managed())
        return REAL(pthread_cond_clockwait)(c, m, clk, abstime);
    return CR_BLOCKING_CANCEL(REAL(pthread_cond_clockwait)(c, m, clk, abstime));
}

CR_EXPORT int pthread_cond_signal(pthread_cond_t *c)
{
    return REAL_V(pthread_cond_signal, CR_COND_VERSION)(c);
}

CR_EXPORT int pthread_cond_broadcast(pthread_cond_t *c)
{
    return REAL_V(pthread_cond_broadcast, CR_COND_VERSION)(c);
}
