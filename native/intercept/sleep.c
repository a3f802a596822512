/* sleep.c — sleeps.
 *
 * Intercepts: sleep, usleep, nanosleep, clock_nanosleep.
 *
 * Invariant: a managed thread releases its core for the real sleep and queues for one when it
 * ends, so the sleep lasts at least as long as without corun (plus the wait for a core). A zero
 * duration (sleep(0), usleep(0), a zero relative timespec) and an invalid timespec are no
 * scheduling point: the real call runs directly. Return values, errno (EINTR, EINVAL) and the
 * remaining time written to `rem` are the real call's. All four are cancellation points; a
 * cleanup handler gives a cancelled sleeper its core back. glibc's sleep and usleep call its
 * internal nanosleep, so each sleep passes through exactly one interposer.
 */
#include "intercept/intercept.h"

#include <unistd.h>

CR_EXPORT unsigned int sleep(unsigned int s)
{
    if (s == 0 || !cr_thread_managed())
        return REAL(sleep)(s);
    return CR_BLOCKING_CANCEL(REAL(sleep)(s));
}

CR_EXPORT int usleep(useconds_t us)
{
    if (us == 0 || !cr_thread_managed())
        return REAL(usleep)(us);
    return CR_BLOCKING_CANCEL(REAL(usleep)(us));
}

static inline int zero_or_bad(const struct timespec *t)
{
    return !cr_ts_ok(t) || t->tv_sec < 0 || (t->tv_sec == 0 && t->tv_nsec == 0);
}

CR_EXPORT int nanosleep(const struct timespec *req, struct timespec *rem)
{
    if (zero_or_bad(req) || !cr_thread_managed())
        return REAL(nanosleep)(req, rem);
    return CR_BLOCKING_CANCEL(REAL(nanosleep)(req, rem));
}

CR_EXPORT int clock_nanosleep(clockid_t clk, int flags, const struct timespec *req, struct timespec *rem)
{
    if (!cr_ts_ok(req) || (!(flags & TIMER_ABSTIME) && zero_or_bad(req)) || !cr_thread_managed())
        return REAL(clock_nanosleep)(clk, flags, req, rem);
    return CR_BLOCKING_CANCEL(REAL(clock_nanosleep)(clk, flags, req, rem));
}
