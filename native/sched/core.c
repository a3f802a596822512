/* core.c — thread state transitions of the cooperative scheduler (states: see sched.h).
 *
 *   (new) --begin--> READY --grant--> RUNNING --block_begin--> BLOCKED --block_end--> READY ...
 *   RUNNING --preempt (quantum, turn)--> READY
 *   RUNNING --safety net sees it asleep in the kernel--> STOLEN --wakes/signal--> READY
 *   any --end/exit/exec--> (free)
 *
 * Invariants (with shm.h's I1-I5): a thread changes its own state only under the instance lock;
 * another thread may only grant it a core (READY -> RUNNING, then store CR_GRANT_CORE into its
 * futex word and wake it) or take a core from it (RUNNING -> STOLEN, safety net). A grant is
 * published before the wake, and a parked thread re-checks its word before sleeping, so no
 * wake-up is lost. Futex wakes and signals decided under the lock are issued after it.
 */
#include "sched/internal.h"

#include "common/log.h"
#include "common/sys.h"

#include <errno.h>
#include <string.h>

struct cr_process_local cr_self = {.proc = CR_NONE};
__thread struct cr_thread_local cr_tls = {.slot = CR_NONE};

/* ---- deferred work ---------------------------------------------------------------------- */

void cr_defer_add_wake(struct cr_defer *d, _Atomic uint32_t *addr)
{
    if (d->nwake < CR_DEFER_MAX)
        d->wake[d->nwake++] = addr;
    else
        cr_futex_wake(addr, 1);
}

void cr_defer_add_signal(struct cr_defer *d, int pid, int tid)
{
    if (d->nsig < CR_DEFER_MAX) {
        d->sig_pid[d->nsig] = pid;
        d->sig_tid[d->nsig++] = tid;
    } else {
        cr_tgkill(pid, tid, CR_PREEMPT_SIGNAL);
    }
}

/* Move a parked thread to the CPU of the core it was just granted before waking it: woken on
 * its old CPU, it would wait in that CPU's run queue behind the old CPU's owner while its new
 * core stays idle. */
static void repin(struct cr_thread *th, int cpu)
{
    cpu_set_t set;
    CPU_ZERO(&set);
    CPU_SET(cpu, &set);
    if (cr_set_affinity_raw(th->tid, sizeof set, &set) == 0)
        th->pinned_cpu = cpu;
}

void cr_defer_run(struct cr_shm *s, struct cr_defer *d)
{
    for (int i = 0; i < d->nrepin; i++)
        repin(d->repin[i], d->repin_cpu[i]);
    for (int i = 0; i < d->nwake; i++)
        cr_futex_wake(d->wake[i], 1);
    for (int i = 0; i < d->nsig; i++)
        cr_tgkill(d->sig_pid[i], d->sig_tid[i], CR_PREEMPT_SIGNAL);
    if (d->epoch) {
        atomic_fetch_add(&s->waiting_epoch, 1);
        cr_futex_wake(&s->waiting_epoch, 1 << 30);
    }
    d->nwake = d->nsig = d->nrepin = 0;
    d->epoch = false;
}

/* ---- queues ------------------------------------------------------------------------------ */

static void queue_push(struct cr_shm *s, int t, int core)
{
    struct cr_thread *th = &cr_threads(s)[t];
    struct cr_proc *pr = &cr_procs(s)[th->proc];
    struct cr_queue *q = cr_queue(s, th->proc, core);
    th->qnext = CR_NONE;
    th->queued_on = core;
    if (q->tail == CR_NONE)
        q->head = t;
    else
        cr_threads(s)[q->tail].qnext = t;
    q->tail = t;
    cr_mask_set(pr->ready_cores, core);
    pr->nready++;
    s->nready++;
}

/* Remove t from its queue. Policies pick a head or one of the first few entries (pick_next
 * passes over spinners), so the walk to t's predecessor is short. */
static void queue_remove(struct cr_shm *s, int t)
{
    struct cr_thread *threads = cr_threads(s);
    struct cr_thread *th = &threads[t];
    struct cr_proc *pr = &cr_procs(s)[th->proc];
    struct cr_queue *q = cr_queue(s, th->proc, th->queued_on);
    int prev = CR_NONE;
    for (int u = q->head; u != t && u != CR_NONE; u = threads[u].qnext)
        prev = u;
    if (prev == CR_NONE)
        q->head = th->qnext;
    else
        threads[prev].qnext = th->qnext;
    if (q->tail == t)
        q->tail = prev;
    if (q->head == CR_NONE) {
        q->tail = CR_NONE;
        cr_mask_clear(pr->ready_cores, th->queued_on);
    }
    th->qnext = th->queued_on = CR_NONE;
    pr->nready--;
    s->nready--;
}

/* ---- core ownership ----------------------------------------------------------------------- */

void cr_grant(struct cr_shm *s, int t, int core, struct cr_defer *d)
{
    struct cr_thread *th = &cr_threads(s)[t];
    struct cr_proc *pr = &cr_procs(s)[th->proc];
    s->core_owner[core] = t;
    cr_mask_clear(s->idle, core);
    cr_mask_set(pr->held_cores, core);
    pr->nrunning++;
    th->core = th->last_core = core;
    th->since_ns = cr_now_ns();
    th->cpu_seen_ns = 0;
    atomic_store(&th->preempt, 0);
    atomic_store(&th->state, CR_RUNNING);
    atomic_store_explicit(&th->grant, CR_GRANT_CORE, memory_order_release);
    s->stats_grants++;
    if (t != cr_tls.slot || th->proc != cr_self.proc) {
        int cpu = s->cpu_of_core[core];
        if (th->pinned_cpu != cpu && d->nrepin < CR_DEFER_MAX) {
            d->repin[d->nrepin] = th;
            d->repin_cpu[d->nrepin++] = cpu;
        }
        cr_defer_add_wake(d, &th->grant);
    }
}

void cr_take_core(struct cr_shm *s, int t)
{
    struct cr_thread *th = &cr_threads(s)[t];
    struct cr_proc *pr = &cr_procs(s)[th->proc];
    int core = th->core;
    if (core == CR_NONE)
        return;
    s->core_owner[core] = CR_NONE;
    cr_mask_set(s->idle, core);
    cr_mask_clear(pr->held_cores, core);
    pr->nrunning--;
    th->core = CR_NONE;
}

int cr_hand_over_core(struct cr_shm *s, int t, int state, struct cr_defer *d)
{
    struct cr_thread *th = &cr_threads(s)[t];
    if (atomic_load(&th->state) != CR_RUNNING)
        return CR_NONE;
    int core = th->core;
    cr_take_core(s, t);
    atomic_store(&th->state, state);
    th->since_ns = cr_now_ns();
    cr_release_core(s, core, d);
    return core;
}

void cr_release_core(struct cr_shm *s, int core, struct cr_defer *d)
{
    int t = cr_policy()->pick_next(s, core);
    if (t == CR_NONE)
        return; /* stays idle (cr_take_core set the bit) */
    queue_remove(s, t);
    cr_grant(s, t, core, d);
}

void cr_preempt_request(struct cr_shm *s, int t, struct cr_defer *d)
{
    struct cr_thread *th = &cr_threads(s)[t];
    if (atomic_exchange(&th->preempt, 1))
        return;
    s->stats_preempts++;
    cr_defer_add_signal(d, cr_procs(s)[th->proc].pid, th->tid);
}

void cr_probe(struct cr_shm *s, int t, struct cr_defer *d)
{
    struct cr_thread *th = &cr_threads(s)[t];
    s->stats_probes++;
    cr_defer_add_signal(d, cr_procs(s)[th->proc].pid, th->tid);
}

void cr_probe_spinners(struct cr_shm *s, int p, struct cr_defer *d)
{
    if (cr_self.probe_us == 0)
        return;
    struct cr_proc *pr = &cr_procs(s)[p];
    struct cr_thread *threads = cr_threads(s);
    if (pr->nrunning + pr->nready <= (int)s->ncores)
        return; /* it could run all its threads at once: sharing cores is the turns' business */
    int want = pr->nready;
    for (int c = cr_mask_find(pr->held_cores, s->ncores, 0), first = c; c != CR_NONE && want > 0;) {
        int o = s->core_owner[c];
        if (o != CR_NONE && atomic_load(&threads[o].spin) && !atomic_load(&threads[o].preempt)) {
            cr_probe(s, o, d);
            want--;
        }
        c = cr_mask_find(pr->held_cores, s->ncores, c + 1);
        if (c == first || c == CR_NONE)
            break;
    }
}

void cr_spin_forget(struct cr_thread *th)
{
    cr_tls.have_sample = false;
    if (atomic_load_explicit(&th->spin, memory_order_relaxed))
        atomic_store_explicit(&th->spin, 0, memory_order_relaxed);
}

void cr_make_ready(struct cr_shm *s, int t, struct cr_defer *d)
{
    struct cr_thread *th = &cr_threads(s)[t];
    atomic_store(&th->grant, CR_GRANT_WAIT);
    atomic_store(&th->state, CR_READY);
    th->since_ns = cr_now_ns();
    int qcore;
    int core = cr_policy()->place(s, t, &qcore);
    if (core != CR_NONE) {
        cr_grant(s, t, core, d);
        return;
    }
    if (s->nready == 0)
        d->epoch = true; /* the first waiter wakes the safety nets */
    queue_push(s, t, qcore);
    cr_maybe_rotate(s, th->since_ns, d);
    if (atomic_load(&th->state) == CR_READY) {
        int v = cr_policy()->victim(s, t);
        if (v != CR_NONE)
            cr_preempt_request(s, v, d);
    }
}

void cr_maybe_rotate(struct cr_shm *s, uint64_t now, struct cr_defer *d)
{
    int next = cr_policy()->next_turn(s, now);
    if (next == CR_NONE || next == s->turn)
        return;
    struct cr_proc *procs = cr_procs(s);
    struct cr_thread *threads = cr_threads(s);
    s->turn = next;
    s->turn_start_ns = now;
    s->stats_rotations++;
    /* Make room for the new turn's ready threads: preempt cores held by other processes. */
    int want = procs[next].nready;
    for (int p = procs[next].ring_next; want > 0 && p != next && p != CR_NONE; p = procs[p].ring_next) {
        if (procs[p].nrunning <= 0)
            continue;
        for (int c = cr_mask_find(procs[p].held_cores, s->ncores, 0); c != CR_NONE && want > 0;) {
            int o = s->core_owner[c];
            if (o != CR_NONE) {
                cr_preempt_request(s, o, d);
                want--;
            }
            int nxt = cr_mask_find(procs[p].held_cores, s->ncores, c + 1);
            if (nxt <= c)
                break;
            c = nxt;
        }
    }
}

/* ---- slots -------------------------------------------------------------------------------- */

int cr_thread_alloc(struct cr_shm *s, int proc, int tid)
{
    struct cr_thread *threads = cr_threads(s);
    int t = s->thread_free;
    if (t != CR_NONE) {
        s->thread_free = threads[t].qnext;
    } else if (s->threads_used < s->max_threads) {
        t = (int)s->threads_used++;
    } else {
        return CR_NONE;
    }
    struct cr_thread *th = &threads[t];
    struct cr_proc *pr = &cr_procs(s)[proc];
    uint32_t gen = th->gen + 1;
    memset(th, 0, sizeof *th);
    th->gen = gen;
    th->tid = tid;
    th->proc = proc;
    th->core = th->last_core = th->queued_on = th->qnext = CR_NONE;
    th->pinned_cpu = -1;
    atomic_store(&th->state, CR_BLOCKED);
    th->pprev = CR_NONE;
    th->pnext = pr->threads;
    if (pr->threads != CR_NONE)
        threads[pr->threads].pprev = t;
    pr->threads = t;
    pr->nthreads++;
    return t;
}

void cr_thread_free(struct cr_shm *s, int t)
{
    struct cr_thread *threads = cr_threads(s);
    struct cr_thread *th = &threads[t];
    struct cr_proc *pr = &cr_procs(s)[th->proc];
    if (th->pprev != CR_NONE)
        threads[th->pprev].pnext = th->pnext;
    else
        pr->threads = th->pnext;
    if (th->pnext != CR_NONE)
        threads[th->pnext].pprev = th->pprev;
    pr->nthreads--;
    atomic_store(&th->state, CR_FREE);
    th->tid = 0;
    th->qnext = s->thread_free;
    s->thread_free = t;
}

/* Remove process p and all its threads; their cores go to other processes' ready threads.
 * wake_threads: p is alive (exit/exec): parked threads are released to run unmanaged. */
void cr_proc_detach_locked(struct cr_shm *s, int p, bool wake_threads)
{
    struct cr_proc *procs = cr_procs(s);
    struct cr_thread *threads = cr_threads(s);
    struct cr_proc *pr = &procs[p];
    struct cr_defer d = {0};
    /* drop its queues first so its threads are not picked for the cores it frees */
    for (int c = cr_mask_find(pr->ready_cores, s->ncores, 0); c != CR_NONE; c = cr_mask_find(pr->ready_cores, s->ncores, 0)) {
        struct cr_queue *q = cr_queue(s, p, c);
        q->head = q->tail = CR_NONE;
        cr_mask_clear(pr->ready_cores, c);
    }
    s->nready -= pr->nready;
    pr->nready = 0;
    while (pr->threads != CR_NONE) {
        int t = pr->threads;
        struct cr_thread *th = &threads[t];
        cr_hand_over_core(s, t, CR_BLOCKED, &d);
        if (wake_threads) {
            atomic_store(&th->grant, CR_GRANT_RELEASE);
            cr_futex_wake(&th->grant, 1);
        }
        cr_thread_free(s, t);
    }
    if (pr->ring_next == p) {
        s->ring = CR_NONE;
    } else {
        procs[pr->ring_prev].ring_next = pr->ring_next;
        procs[pr->ring_next].ring_prev = pr->ring_prev;
        if (s->ring == p)
            s->ring = pr->ring_next;
    }
    if (s->turn == p) {
        s->turn = s->ring;
        s->turn_start_ns = cr_now_ns();
    }
    atomic_store(&pr->state, CR_PROC_FREE);
    pr->pid = 0;
    pr->free_next = s->proc_free;
    s->proc_free = p;
    s->nlive--;
    cr_defer_run(s, &d); /* rare path: wake under the lock */
}

/* ---- thread side --------------------------------------------------------------------------- */

struct cr_thread *cr_me(void)
{
    if (cr_tls.slot == CR_NONE || cr_self.shm == NULL)
        return NULL;
    if (cr_tls.gen != atomic_load_explicit(&cr_self.gen, memory_order_relaxed)) {
        cr_tls.slot = CR_NONE;
        return NULL;
    }
    return &cr_threads(cr_self.shm)[cr_tls.slot];
}

void cr_sched_enter(void)
{
    cr_tls.in_sched++;
}

void cr_sched_leave(void)
{
    while (cr_tls.in_sched == 1 && cr_tls.pending) {
        cr_tls.pending = 0;
        struct cr_thread *th = cr_me();
        if (th && atomic_load(&th->state) == CR_RUNNING && atomic_load(&th->preempt))
            cr_yield_core(true); /* nested enter/leave: in_sched is 2 inside */
        else if (th && atomic_load(&th->state) == CR_STOLEN)
            cr_acquire();
    }
    cr_tls.in_sched--;
}

void cr_wait_for_core(struct cr_thread *th)
{
    for (;;) {
        uint32_t g = atomic_load_explicit(&th->grant, memory_order_acquire);
        if (g == CR_GRANT_CORE)
            break;
        if (g == CR_GRANT_RELEASE) {
            cr_tls.slot = CR_NONE;
            return;
        }
        /* Timed: the granter sets `grant` under the lock and wakes us after it, so a granter
         * killed (kill -9) between the two leaves a granted thread asleep while nobody waits
         * for a core, which no safety net would notice. Looking again every 50 ms bounds that. */
        static const struct timespec recheck = {0, 50 * 1000 * 1000};
        cr_futex_wait(&th->grant, CR_GRANT_WAIT, &recheck);
    }
    int cpu = cr_self.shm->cpu_of_core[th->core];
    if (cpu != th->pinned_cpu && cpu >= 0) {
        if (cr_pin_to_cpu(cpu) == 0)
            th->pinned_cpu = cpu;
    }
}

/* BLOCKED or STOLEN -> RUNNING (waits). */
void cr_acquire(void)
{
    struct cr_thread *th = cr_me();
    if (!th)
        return;
    int st = atomic_load(&th->state);
    if (st == CR_RUNNING)
        return;
    struct cr_shm *s = cr_self.shm;
    struct cr_defer d = {0};
    cr_sched_enter();
    cr_shm_lock(s);
    if (!cr_me_still_valid()) {
        cr_shm_unlock(s);
        cr_tls.in_sched--;
        return;
    }
    if (atomic_load(&th->state) != CR_RUNNING) {
        cr_make_ready(s, cr_tls.slot, &d);
        if (atomic_load(&th->state) == CR_READY)
            cr_probe_spinners(s, th->proc, &d); /* woken with no core free: a spinner may give its own */
    }
    cr_shm_unlock(s);
    cr_defer_run(s, &d);
    cr_wait_for_core(th);
    cr_sched_leave();
}

/* Give the core to a waiting thread and queue behind it. only_if_waiting: keep the core when
 * nobody would get it. */
bool cr_yield_core(bool only_if_waiting)
{
    struct cr_thread *th = cr_me();
    if (!th)
        return false;
    struct cr_shm *s = cr_self.shm;
    struct cr_defer d = {0};
    cr_sched_enter();
    cr_shm_lock(s);
    if (!cr_me_still_valid() || atomic_load(&th->state) != CR_RUNNING) {
        cr_shm_unlock(s);
        cr_sched_leave();
        return false;
    }
    atomic_store(&th->preempt, 0);
    int core = th->core;
    int next = cr_policy()->pick_next(s, core);
    if (next == CR_NONE && only_if_waiting) {
        cr_shm_unlock(s);
        cr_sched_leave();
        return false;
    }
    cr_hand_over_core(s, cr_tls.slot, CR_BLOCKED, &d);
    th->last_core = core;
    cr_make_ready(s, cr_tls.slot, &d);
    cr_shm_unlock(s);
    cr_defer_run(s, &d);
    cr_wait_for_core(th);
    cr_sched_leave();
    return true;
}
