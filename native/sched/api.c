/* api.c — the scheduling points the interposers call (declared in sched.h).
 *
 * Invariant: a managed thread runs user code only while RUNNING. Every function here leaves the
 * calling thread either RUNNING (block_end, yield, thread_begin) or BLOCKED without a core
 * (block_begin), and is a no-op for unmanaged threads. Our preemption signal is blocked between
 * block_begin and block_end, so it never interrupts the program's own blocking call.
 */
#include "sched/sched.h"

#include "common/sys.h"
#include "sched/internal.h"

#include <errno.h>

bool cr_thread_managed(void)
{
    return cr_me() != NULL;
}

void cr_block_begin(void)
{
    struct cr_thread *th = cr_me();
    if (!th)
        return;
    int saved = errno;
    struct cr_shm *s = cr_self.shm;
    struct cr_defer d = {0};
    cr_sched_enter();
    cr_block_signal(true);
    cr_spin_forget(th); /* it waits by blocking now, whatever it did before */
    cr_shm_lock(s);
    int st = cr_me_still_valid() ? atomic_load(&th->state) : CR_BLOCKED;
    if (st == CR_RUNNING) {
        cr_hand_over_core(s, cr_tls.slot, CR_BLOCKED, &d);
        cr_maybe_rotate(s, th->since_ns, &d);
    } else if (st == CR_STOLEN) {
        atomic_store(&th->state, CR_BLOCKED);
    }
    cr_shm_unlock(s);
    cr_defer_run(s, &d);
    cr_tls.pending = 0;
    cr_tls.in_sched--; /* stay BLOCKED: no deferred preemption to run */
    errno = saved;
}

void cr_block_end(void)
{
    struct cr_thread *th = cr_me();
    if (!th)
        return;
    int saved = errno;
    cr_acquire();
    cr_block_signal(false);
    errno = saved;
}

bool cr_yield(void)
{
    struct cr_thread *th = cr_me();
    if (!th)
        return false;
    int saved = errno;
    int st = atomic_load(&th->state);
    bool scheduled = false;
    if (st == CR_STOLEN) {
        cr_acquire();
        scheduled = true;
    } else if (st == CR_RUNNING) {
        /* A thread that yields is waiting for something: mark it a spinner (pick_next passes
         * over it while other threads of its process wait; a wake-up probes it). */
        if (atomic_load_explicit(&th->spin, memory_order_relaxed) != 1)
            atomic_store_explicit(&th->spin, 1, memory_order_relaxed);
        /* Spin-with-yield loops usually wait for a thread of their own process: hand the core
         * over only when such a thread is queued and this one has had the core for a while, so
         * that a yield storm does not turn into a handoff storm. */
        struct cr_shm *s = cr_self.shm;
        struct cr_proc *pr = &cr_procs(s)[th->proc];
        /* the clock only when someone waits: spin-with-yield loops call this 10^5-10^6 times
         * a second (Debian OpenBLAS, libomp) */
        if (atomic_load(&th->preempt) ||
            (pr->nready > 0 && cr_now_ns() - th->since_ns >= (uint64_t)cr_self.yield_slice_us * 1000u)) {
            cr_yield_core(true);
            scheduled = true;
        }
    }
    errno = saved;
    return scheduled;
}
