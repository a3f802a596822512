/* policy_coop.c — SCHED_COOP (USF paper, section 4.1).
 *
 * - A woken thread takes its last core if idle, else an idle core on the same NUMA node, else any
 *   idle core; otherwise it waits in its process's FIFO for its last core.
 * - A free core runs the turn process's first queued thread that is not spinning (a bounded look
 *   at the front of its queues, shm.h `spin`), else the head of its queue for that core, else of
 *   another of its queues (same node first), else the same from the following processes in ring
 *   order.
 * - Processes take turns by quantum, checked at scheduling points (and by the safety net for
 *   threads that never reach one). The turn passes early when its process has nothing to run.
 * - A thread of the turn process that finds no idle core preempts a core held by another process,
 *   so a process's threads run together during its turn (coscheduling spin-waiting runtimes).
 * Invariant: every decision is O(processes + cores/64).
 */
#include "sched/policy.h"

#include "common/sys.h"

#include <stdatomic.h>
#include <stdlib.h>
#include <string.h>

static int queue_head(struct cr_shm *s, int p, int c)
{
    return cr_queue(s, p, c)->head;
}

#define PASS_OVER_SCAN 8   /* queue entries looked at for a thread that is not spinning */
#define PASS_OVER_QUEUES 8 /* queues looked at for one */

/* How much a queued thread is worth a core: 0 (best) or 1 (marked spinning, shm.h `spin`).
 * Spinners wait for the others, so they go after them; among themselves they stay in FIFO order
 * (ranking probe-detected spinners below yielders was measured slower: a team's sched_yield
 * spinners are sampled as both). A thread queued for a quantum already counts as not spinning:
 * one marked by mistake is late by at most a quantum. */
static int rank(struct cr_shm *s, const struct cr_thread *th, uint64_t now)
{
    int spin = atomic_load_explicit(&th->spin, memory_order_relaxed);
    if (!spin || now - th->since_ns >= (uint64_t)s->quantum_us * 1000u)
        return 0;
    return 1;
}

/* Best thread among the first entries of p's queue for core q (the first of equals): lowest
 * rank, then q on c's NUMA node. *best is lowered to its key; CR_NONE if none beats *best. */
static int best_in_queue(struct cr_shm *s, int p, int q, int c, uint64_t now, int *best)
{
    struct cr_thread *threads = cr_threads(s);
    int far = s->node_of_core[q] != s->node_of_core[c];
    int n = 0, pick = CR_NONE;
    for (int t = queue_head(s, p, q); t != CR_NONE && n < PASS_OVER_SCAN && *best > far; t = threads[t].qnext, n++) {
        int key = 2 * rank(s, &threads[t], now) + far;
        if (key < *best) {
            *best = key;
            pick = t;
        }
    }
    return pick;
}

/* The thread of p to run on core c: the least spinning one near the front of p's queues, c's own
 * queue first, then c's NUMA node. A spinner waits for a thread that does not spin, so running
 * that one first shortens the wait (nested teams: a woken team member queued behind the
 * spinning outer threads of other teams). CR_NONE if p has nothing queued. */
static int pick_from_proc(struct cr_shm *s, int p, int c)
{
    struct cr_proc *pr = &cr_procs(s)[p];
    if (pr->nready <= 0)
        return CR_NONE;
    uint64_t now = cr_now_ns();
    int best = 4, pick = best_in_queue(s, p, c, c, now, &best), t;
    int first = cr_mask_find(pr->ready_cores, s->ncores, c);
    for (int q = first, n = 0; q != CR_NONE && n < PASS_OVER_QUEUES && best > 0; n++) {
        if (q != c && (t = best_in_queue(s, p, q, c, now, &best)) != CR_NONE)
            pick = t;
        q = cr_mask_find(pr->ready_cores, s->ncores, q + 1);
        if (q == first)
            break;
    }
    return pick;
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
