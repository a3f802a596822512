/* rwlock.c — pthread read-write locks.
 *
 * Intercepts: pthread_rwlock_rdlock, pthread_rwlock_wrlock, pthread_rwlock_timedrdlock,
 *             pthread_rwlock_timedwrlock, pthread_rwlock_clockrdlock, pthread_rwlock_clockwrlock.
 * Not intercepted: the try forms (never block) and unlock.
 *
 * Invariant: a managed thread first tries the matching try form; any result but EBUSY is final
 * and equals what the blocking form returns at that moment (0, EAGAIN for too many readers,
 * EINVAL). On EBUSY (also returned to a thread that already holds the lock, for which the real
 * blocking call then reports EDEADLK) it releases its core around the real call. Reader/writer
 * preference is the real lock's. Timed forms with an invalid clock or time skip the probe (see
 * cr_ts_ok). Not cancellation points.
 */
#include "intercept/intercept.h"

CR_EXPORT int pthread_rwlock_rdlock(pthread_rwlock_t *l)
{
    if (!cr_thread_managed())
        return REAL(pthread_rwlock_rdlock)(l);
    int r = REAL(pthread_rwlock_tryrdlock)(l);
    if (r != EBUSY)
        return r;
    return CR_BLOCKING(REAL(pthread_rwlock_rdlock)(l));
}

CR_EXPORT int pthread_rwlock_wrlock(pthread_rwlock_t *l)
{
    if (!cr_thread_managed())
        return REAL(pthread_rwlock_wrlock)(l);
    int r = REAL(pthread_rwlock_trywrlock)(l);
    if (r != EBUSY)
        return r;
    return CR_BLOCKING(REAL(pthread_rwlock_wrlock)(l));
}

CR_EXPORT int pthread_rwlock_timedrdlock(pthread_rwlock_t *restrict l, const struct timespec *restrict t)
{
    if (!cr_thread_managed() || !cr_ts_ok(t))
        return REAL(pthread_rwlock_timedrdlock)(l, t);
    int r = REAL(pthread_rwlock_tryrdlock)(l);
    if (r != EBUSY)
        return r;
    return CR_BLOCKING(REAL(pthread_rwlock_timedrdlock)(l, t));
}

CR_EXPORT int pthread_rwlock_timedwrlock(pthread_rwlock_t *restrict l, const struct timespec *restrict t)
{
    if (!cr_thread_managed() || !cr_ts_ok(t))
        return REAL(pthread_rwlock_timedwrlock)(l, t);
    int r = REAL(pthread_rwlock_trywrlock)(l);
    if (r != EBUSY)
        return r;
    return CR_BLOCKING(REAL(pthread_rwlock_timedwrlock)(l, t));
}

CR_EXPORT int pthread_rwlock_clockrdlock(pthread_rwlock_t *restrict l, clockid_t clk,
                                         const struct timespec *restrict t)
{
    if (!cr_thread_managed() || !cr_clock_ok(clk) || !cr_ts_ok(t))
        return REAL(pthread_rwlock_clockrdlock)(l, clk, t);
    int r = REAL(pthread_rwlock_tryrdlock)(l);
    if (r != EBUSY)
        return r;
    return CR_BLOCKING(REAL(pthread_rwlock_clockrdlock)(l, clk, t));
}

CR_EXPORT int pthread_rwlock_clockwrlock(pthread_rwlock_t *restrict l, clockid_t clk,
                                         const struct timespec *restrict t)
{
    if (!cr_thread_managed() || !cr_clock_ok(clk) || !cr_ts_ok(t))
        return REAL(pthread_rwlock_clockwrlock)(l, clk, t);
    int r = REAL(pthread_rwlock_trywrlock)(l);
    if (r != EBUSY)
        return r;
    return CR_BLOCKING(REAL(pthread_rwlock_clockwrlock)(l, clk, t));
}
