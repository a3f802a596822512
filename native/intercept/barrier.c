/* barrier.c — pthread barriers.
 *
 * Intercepts: pthread_barrier_wait.
 *
 * Invariant: a managed thread releases its core for the real wait and queues for one afterwards;
 * the return value (PTHREAD_BARRIER_SERIAL_THREAD for exactly one thread per cycle, 0 for the
 * others) is glibc's. There is no non-blocking form, so the last thread to arrive also passes
 * through a scheduling point (it usually gets its core straight back). Not a cancellation point.
 */
#include "intercept/intercept.h"

CR_EXPORT int pthread_barrier_wait(pthread_barrier_t *b)
{
    if (!cr_thread_managed())
        return REAL(pthread_barrier_wait)(b);
    return CR_BLOCKING(REAL(pthread_barrier_wait)(b));
}
