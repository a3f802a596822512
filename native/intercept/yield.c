/* yield.c — sched_yield.
 *
 * Intercepts: sched_yield.
 *
 * Invariant: the scheduler's yield policy (cr_yield) decides whether this yield hands the core to
 * a waiting thread; when it did, the real sched_yield is skipped, otherwise it runs as usual.
 * Always returns 0, like Linux's sched_yield. Unmanaged threads: cr_yield() is false.
 */
#include "intercept/intercept.h"

#include <sched.h>

CR_EXPORT int sched_yield(void)
{
    if (cr_yield())
        return 0;
    return REAL(sched_yield)();
}
