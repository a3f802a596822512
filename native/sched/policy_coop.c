/* policy_coop.c — SCHED_COOP (USF paper, section 4.1).
 *
 * - A woken thread takes its last core if idle, else an idle core on the same NUMA node, else any
 *   idle core; otherwise it waits in its process's FIFO for its last core.
 * - A free core runs the head of the turn process's queue for that core, else of another of that
 *   process's queues (same node first), else the same from the following processes in ring order.
 * - Processes take turns by quantum, checked at scheduling points (and by the safety net for
 *   threads that never reach one). The turn passes early when its process has nothing to run.
 * - A thread of the turn process that finds no idle core preempts a core held by another process,
 *   so a process's threads run together during its turn (coscheduling spin-waiting runtimes).
 * Invariant: every decision is O(processes + cores/64).
 */
#include "sched/policy.h"

#include <stdlib.h>
#include <string.h>

static int queue_head(struct cr_shm *s, int p, int c)
{
    return cr_queue(s, p, c)->head;
}

/* Head of a non-empty queue of process p, preferring core c, then c's node, then any. */
static int pick_from_proc(struct cr_shm *s, int p, int c)
{
    struct cr_proc *pr = &cr_procs(s)[p];
    if (pr->nready <= 0)
        return CR_NONE;
    int t = queue_head(s, p, c);
    if (t != CR_NONE)
        return t;
    int first = cr_mask_find(pr->ready_cores, s->ncores, c);
    if (first == CR_NONE)
        return CR_NONE;
    int q = first;
    for (int guard = 0; guard < 64 && q != CR_NONE; guard++) { /* bounded look for a same-node queue */
        if (s->node_of_core[q] == s->node_of_core[c])
            return queue_head(s, p, q);
        int nxt = cr_mask_find(pr->ready_cores, s->ncores, q + 1);
        if (nxt == first || nxt == CR_NONE)
            break;
        q = nxt;
    }
    return queue_head(s, p, first);
}

static int coop_pick_next(struct cr_shm *s, int core)
{
    struct cr_proc *procs = cr_procs(s);
    if (s->nready <= 0)
        return CR_NONE;
    int start = s->turn != CR_NONE ? s->turn : s->ring;
    if (start == CR_NONE)
        return CR_NONE;
    int p = start;
    do {
        int t = pick_from_proc(s, p, core);
        if (t != CR_NONE)
            return t;
        p = procs[p].ring_next;
    } while (p != start && p != CR_NONE);
    return CR_NONE;
}

static int coop_place(struct cr_shm *s, int t, int *queue_core)
{
    struct cr_thread *th = &cr_threads(s)[t];
    int last = th->last_core;
    if (last == CR_NONE)
        last = (int)((unsigned)th->tid % s->ncores);
    *queue_core = last;
    if (cr_mask_test(s->idle, last))
        return last;
    int any = cr_mask_find(s->idle, s->ncores, last);
    if (any == CR_NONE)
        return CR_NONE;
    int c = any;
    for (int guard = 0; guard < 64 && c != CR_NONE; guard++) {
        if (s->node_of_core[c] == s->node_of_core[last])
            return c;
        int nxt = cr_mask_find(s->idle, s->ncores, c + 1);
        if (nxt == any || nxt == CR_NONE)
            break;
        c = nxt;
    }
    return any;
}

static int coop_victim(struct cr_shm *s, int t)
{
    struct cr_thread *threads = cr_threads(s);
    struct cr_proc *procs = cr_procs(s);
    int me = threads[t].proc;
    if (me != s->turn)
        return CR_NONE;
    int last = threads[t].last_core;
    if (last != CR_NONE) {
        int o = s->core_owner[last];
        if (o != CR_NONE && threads[o].proc != me && !threads[o].preempt)
            return o;
    }
    for (int p = procs[me].ring_next; p != me && p != CR_NONE; p = procs[p].ring_next) {
        if (procs[p].nrunning <= 0)
            continue;
        for (int c = cr_mask_find(procs[p].held_cores, s->ncores, 0), first = c; c != CR_NONE;) {
            int o = s->core_owner[c];
            if (o != CR_NONE && !threads[o].preempt)
                return o;
            c = cr_mask_find(procs[p].held_cores, s->ncores, c + 1);
            if (c == first)
                break;
        }
    }
    return CR_NONE;
}

static int coop_next_turn(struct cr_shm *s, uint64_t now)
{
    struct cr_proc *procs = cr_procs(s);
    int cur = s->turn;
    if (cur == CR_NONE || procs[cur].state != CR_PROC_LIVE)
        cur = s->ring;
    if (cur == CR_NONE)
        return CR_NONE;
    bool expired = now - s->turn_start_ns >= (uint64_t)s->quantum_us * 1000u;
    bool idle = procs[cur].nrunning == 0 && procs[cur].nready == 0;
    if (cur != s->turn)
        expired = true;
    if (!expired && !idle)
        return CR_NONE;
    for (int p = procs[cur].ring_next; p != cur && p != CR_NONE; p = procs[p].ring_next)
        if (procs[p].nready > 0)
            return p;
    if (cur != s->turn)
        return cur;
    if (expired)
        s->turn_start_ns = now; /* nobody else wants the cores: a new quantum for the same process */
    return CR_NONE;
}

const struct cr_policy cr_policy_coop = {
    .name = "coop",
    .pick_next = coop_pick_next,
    .place = coop_place,
    .victim = coop_victim,
    .next_turn = coop_next_turn,
};

const struct cr_policy *cr_policy(void)
{
    return &cr_policy_coop;
}
