/* mutex.c — pthread mutexes and spin locks.
 *
 * Intercepts: pthread_mutex_lock, pthread_mutex_timedlock, pthread_mutex_clocklock,
 *             pthread_spin_lock.
 * Not intercepted: pthread_mutex_trylock / pthread_spin_trylock (never block),
 *             pthread_mutex_unlock / pthread_spin_unlock (a woken waiter queues for a core itself
 *             in cr_block_end()).
 *
 * Invariant: the real lock does all the work; corun only adds a scheduling point when the lock
 * is contended. A managed thread first calls pthread_mutex_trylock; every result other than
 * EBUSY is final and is also what pthread_mutex_lock would return at that moment (0, EOWNERDEAD
 * and ENOTRECOVERABLE for robust mutexes, EAGAIN for a recursive count overflow, EINVAL). On
 * EBUSY the thread releases its core and calls the real lock, which returns the exact POSIX
 * result for every type (normal, recursive, error-check: EDEADLK for the owner; robust; PI;
 * PP; process-shared). Unmanaged threads pay one TLS test and a tail call. Measured cost of a
 * managed uncontended lock+unlock: about +3.5 ns over plain in a multi-threaded process (glibc's
 * trylock is slower than its lock fast path). (A peek at the lock word to skip the trylock was
 * tried: no measurable gain, and a racing locker would then wait in the kernel holding a core.)
 *
 * Robust mutexes are never probed: glibc 2.36's pthread_mutex_trylock on a robust mutex that has
 * become unrecoverable returns ENOTRECOVERABLE but leaves the lock word held by the caller
 * (every later lock then hangs or reports EDEADLK), whereas pthread_mutex_lock releases it.
 * Measured here; so a managed thread always calls the real lock of a robust mutex between
 * cr_block_begin() and cr_block_end(). The robust bit is read from the mutex's public
 * __data.__kind field (PTHREAD_MUTEX_ROBUST_NORMAL_NP, 16, in glibc).
 *
 * Spin locks hold no kernel wait, so a contended pthread_spin_lock would spin on a core while the
 * holder may be waiting for one (livelock under SCHED_COOP): a managed spinner yields through
 * the scheduler between short bursts of trylock.
 */
#include "intercept/intercept.h"

#include <sched.h>

#define CR_MUTEX_KIND_ROBUST 16

/* Try the lock without blocking; returns EBUSY also when the mutex must not be probed. */
static inline int mutex_probe(pthread_mutex_t *m)
{
    if (CR_UNLIKELY(__atomic_load_n(&m->__data.__kind, __ATOMIC_RELAXED) & CR_MUTEX_KIND_ROBUST))
        return EBUSY;
    return REAL(pthread_mutex_trylock)(m);
}

CR_EXPORT int pthread_mutex_lock(pthread_mutex_t *m)
{
    if (CR_LIKELY(!cr_thread_managed()))
        return REAL(pthread_mutex_lock)(m);
    int r = mutex_probe(m);
    if (CR_LIKELY(r != EBUSY))
        return r;
    return CR_BLOCKING(REAL(pthread_mutex_lock)(m));
}

CR_EXPORT int pthread_mutex_timedlock(pthread_mutex_t *restrict m, const struct timespec *restrict abstime)
{
    if (!cr_thread_managed() || !cr_ts_ok(abstime))
        return REAL(pthread_mutex_timedlock)(m, abstime);
    int r = mutex_probe(m);
    if (r != EBUSY)
        return r;
    return CR_BLOCKING(REAL(pthread_mutex_timedlock)(m, abstime));
}

CR_EXPORT int pthread_mutex_clocklock(pthread_mutex_t *restrict m, clockid_t clk,
                                      const struct timespec *restrict abstime)
{
    if (!cr_thread_managed() || !cr_clock_ok(clk) || !cr_ts_ok(abstime))
        return REAL(pthread_mutex_clocklock)(m, clk, abstime);
    int r = mutex_probe(m);
    if (r != EBUSY)
        return r;
    return CR_BLOCKING(REAL(pthread_mutex_clocklock)(m, clk, abstime));
}

CR_EXPORT int pthread_spin_lock(pthread_spinlock_t *l)
{
    if (CR_LIKELY(!cr_thread_managed()))
        return REAL(pthread_spin_lock)(l);
    for (;;) {
        for (int i = 0; i < 1000; i++) {
            int r = REAL(pthread_spin_trylock)(l);
            if (r != EBUSY)
                return r;
            cr_cpu_relax();
        }
        if (!cr_yield())
            REAL(sched_yield)();
    }
}
