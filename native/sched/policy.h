/* policy.h — the scheduling decisions, behind one small interface.
 *
 * A policy only decides; native/sched/core.c performs (grants, queues, preempts). Every hook runs
 * with the instance lock held and must not scan all threads or all cores: per-process masks,
 * per-(process, core) queues and the process ring are what it may walk.
 * SCHED_COOP (policy_coop.c) is the first implementation; another policy is one more file.
 */
#ifndef CORUN_SCHED_POLICY_H
#define CORUN_SCHED_POLICY_H

#include "sched/shm.h"

struct cr_policy {
    const char *name;
    /* The free core `core` should run which READY thread? Must return one of the first few
     * entries (a bounded walk: core.c unlinks it by walking from the head) of one of the
     * per-(process, core) queues, or CR_NONE to leave the core idle. */
    int (*pick_next)(struct cr_shm *s, int core);
    /* Thread `t` became ready: return an idle core for it to take now, or CR_NONE and set
     * *queue_core to the core whose queue (of t's process) it should wait in. */
    int (*place)(struct cr_shm *s, int t, int *queue_core);
    /* Thread `t` was queued: return a RUNNING thread to preempt for it, or CR_NONE. */
    int (*victim)(struct cr_shm *s, int t);
    /* Scheduling point at time `now`: return the process whose turn starts now, or CR_NONE to
     * keep the current turn. */
    int (*next_turn)(struct cr_shm *s, uint64_t now);
};

extern const struct cr_policy cr_policy_coop;

/* The policy in use (fixed per instance build; CORUN_POLICY may select among linked ones). */
const struct cr_policy *cr_policy(void);

#endif
