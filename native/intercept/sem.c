/* sem.c — POSIX semaphores, named (sem_open) and unnamed (sem_init), process-private or shared.
 *
 * Intercepts: sem_wait, sem_timedwait, sem_clockwait.
 * Not intercepted: sem_trywait (never blocks), sem_post (the woken waiter queues for a core
 *             itself in cr_block_end()), sem_getvalue.
 *
 * Invariant: a managed thread first calls sem_trywait; success is final, a failure other than
 * EAGAIN (EINVAL) is final too, and on EAGAIN errno is restored before the thread releases its
 * core around the real wait. Results and errno (EINTR, ETIMEDOUT, EINVAL) are glibc's. The waits
 * are cancellation points; a cleanup handler gives the cancelled thread its core back. Timed
 * forms with an argument glibc rejects go straight to the real call.
 */
#include "intercept/intercept.h"

#include <semaphore.h>

/* 1: acquired without blocking; 0: must block (errno preserved); -1: final error (errno set). */
static inline int sem_probe(sem_t *s)
{
    int saved = errno;
    if (REAL(sem_trywait)(s) == 0)
        return 1;
    if (errno != EAGAIN)
        return -1;
    errno = saved;
    return 0;
}

CR_EXPORT int sem_wait(sem_t *s)
{
    if (!cr_thread_managed())
        return REAL(sem_wait)(s);
    int p = sem_probe(s);
    if (p != 0)
        return p > 0 ? 0 : -1;
    return CR_BLOCKING_CANCEL(REAL(sem_wait)(s));
}

CR_EXPORT int sem_timedwait(sem_t *restrict s, const struct timespec *restrict abstime)
{
    if (!cr_thread_managed() || !cr_ts_ok(abstime))
        return REAL(sem_timedwait)(s, abstime);
    int p = sem_probe(s);
    if (p != 0)
        return p > 0 ? 0 : -1;
    return CR_BLOCKING_CANCEL(REAL(sem_timedwait)(s, abstime));
}

CR_EXPORT int sem_clockwait(sem_t *restrict s, clockid_t clk, const struct timespec *restrict abstime)
{
    if (!cr_thread_managed() || !cr_clock_ok(clk) || !cr_ts_ok(abstime))
        return REAL(sem_clockwait)(s, clk, abstime);
    int p = sem_probe(s);
    if (p != 0)
        return p > 0 ? 0 : -1;
    return CR_BLOCKING_CANCEL(REAL(sem_clockwait)(s, clk, abstime));
}
