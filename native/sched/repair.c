/* repair.c — recovery from processes that died without leaving, and from a lock holder's death.
 *
 * Invariant restored: after cr_shm_reap_dead, every LIVE process slot belongs to a running
 * process, so no core is owned by a dead thread. After cr_shm_repair (run by the next locker
 * when the previous holder died inside a critical section), shm.h's I1-I5 hold again: derived
 * state (queues, masks, counters, free lists, the ring) is rebuilt from the primary fields.
 * Both are slow paths and may scan the whole segment.
 */
#include "sched/internal.h"

#include "common/log.h"
#include "common/sys.h"

#include <string.h>

int cr_shm_reap_dead(struct cr_shm *s, bool holders_only)
{
    struct cr_proc *procs = cr_procs(s);
    int reaped = 0;
    if (s->ring == CR_NONE)
        return 0;
    int p = s->ring;
    int n = s->nlive;
    for (int i = 0; i < n && s->ring != CR_NONE; i++) {
        int next = procs[p].ring_next;
        bool matters = !holders_only || procs[p].nrunning > 0 || procs[p].nready > 0;
        if (matters && procs[p].pid != cr_self.pid && !cr_proc_alive(&procs[p])) {
            cr_log(CR_LOG_INFO, "process %d left the instance without detaching; freeing its cores", procs[p].pid);
            cr_proc_detach_locked(s, p, false);
            reaped++;
        }
        p = next;
    }
    return reaped;
}

void cr_shm_repair(struct cr_shm *s)
{
    struct cr_proc *procs = cr_procs(s);
    struct cr_thread *threads = cr_threads(s);
    struct cr_defer d = {0};

    /* processes: ring and free list from their state */
    s->ring = CR_NONE;
    s->proc_free = CR_NONE;
    s->nlive = 0;
    int prev = CR_NONE, first = CR_NONE;
    for (int p = (int)s->max_procs - 1; p >= 0; p--) {
        struct cr_proc *pr = &procs[p];
        if (atomic_load(&pr->state) == CR_PROC_LIVE && pr->pid > 0) {
            pr->threads = CR_NONE;
            pr->nthreads = pr->nrunning = pr->nready = 0;
            memset(pr->ready_cores, 0, sizeof pr->ready_cores);
            memset(pr->held_cores, 0, sizeof pr->held_cores);
            for (unsigned c = 0; c < s->ncores; c++)
                cr_queue(s, p, (int)c)->head = cr_queue(s, p, (int)c)->tail = CR_NONE;
            if (first == CR_NONE)
                first = p;
            pr->ring_next = prev;
            if (prev != CR_NONE)
                procs[prev].ring_prev = p;
            prev = p;
            s->nlive++;
        } else {
            atomic_store(&pr->state, CR_PROC_FREE);
            pr->free_next = s->proc_free;
            s->proc_free = p;
        }
    }
    if (first != CR_NONE) {
        procs[first].ring_next = prev;
        procs[prev].ring_prev = first;
        s->ring = prev;
    }
    if (s->turn == CR_NONE || atomic_load(&procs[s->turn].state) != CR_PROC_LIVE)
        s->turn = s->ring;

    /* cores: keep an owner only if it agrees it owns the core */
    memset(s->idle, 0, sizeof s->idle);
    for (unsigned c = 0; c < s->ncores; c++) {
        int o = s->core_owner[c];
        if (o != CR_NONE && ((unsigned)o >= s->threads_used || atomic_load(&threads[o].state) != CR_RUNNING ||
                             threads[o].core != (int)c || atomic_load(&procs[threads[o].proc].state) != CR_PROC_LIVE))
            s->core_owner[c] = CR_NONE;
        if (s->core_owner[c] == CR_NONE)
            cr_mask_set(s->idle, (int)c);
    }

    /* threads: relink into their processes, requeue READY ones, free orphans */
    s->thread_free = CR_NONE;
    s->nready = 0;
    for (int t = (int)s->threads_used - 1; t >= 0; t--) {
        struct cr_thread *th = &threads[t];
        int st = atomic_load(&th->state);
        bool live = st != CR_FREE && th->proc >= 0 && (unsigned)th->proc < s->max_procs &&
                    atomic_load(&procs[th->proc].state) == CR_PROC_LIVE;
        if (!live) {
            atomic_store(&th->state, CR_FREE);
            th->qnext = s->thread_free;
            s->thread_free = t;
            continue;
        }
        struct cr_proc *pr = &procs[th->proc];
        th->pprev = CR_NONE;
        th->pnext = pr->threads;
        if (pr->threads != CR_NONE)
            threads[pr->threads].pprev = t;
        pr->threads = t;
        pr->nthreads++;
        if (st == CR_RUNNING) {
            if (th->core != CR_NONE && s->core_owner[th->core] == t) {
                pr->nrunning++;
                cr_mask_set(pr->held_cores, th->core);
            } else {
                th->core = CR_NONE;
                atomic_store(&th->state, CR_STOLEN); /* the safety net brings it back */
            }
        } else if (st == CR_READY && atomic_load(&th->grant) == CR_GRANT_WAIT) {
            cr_make_ready(s, t, &d);
        }
    }
    /* idle cores with waiting threads */
    for (unsigned c = 0; c < s->ncores; c++)
        if (s->core_owner[c] == CR_NONE && s->nready > 0)
            cr_release_core(s, (int)c, &d);
    cr_defer_run(s, &d);
}
