/* common.c — helpers shared by the interposers (see intercept.h). Intercepts nothing. */
#include "intercept/intercept.h"

#include <signal.h>
#include <stdatomic.h>

void cr_cancel_block_end(void *unused)
{
    (void)unused;
    cr_block_end();
}

/* The scheduler's own signals: those cr_sigmask_filter() removes from a full set. Computed once
 * (deterministic, so a racing first computation stores the same value). */
static sigset_t sched_sigs;
static atomic_int sched_sigs_ready;

void cr_add_sched_signals(sigset_t *set)
{
    if (!atomic_load_explicit(&sched_sigs_ready, memory_order_acquire)) {
        sigset_t all, kept, mine;
        sigfillset(&all);
        kept = all;
        cr_sigmask_filter(&kept);
        sigemptyset(&mine);
        for (int s = 1; s < NSIG; s++)
            if (sigismember(&all, s) == 1 && sigismember(&kept, s) == 0)
                sigaddset(&mine, s);
        sched_sigs = mine;
        atomic_store_explicit(&sched_sigs_ready, 1, memory_order_release);
    }
    for (int s = 1; s < NSIG; s++)
        if (sigismember(&sched_sigs, s) == 1)
            sigaddset(set, s);
}
