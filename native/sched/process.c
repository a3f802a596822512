/* process.c — how a process joins and leaves an instance: constructor, lazy attach, fork, exec,
 * exit, and thread registration.
 *
 * Invariants:
 * - A process is managed iff CORUN_MANAGED=1 and CORUN_INSTANCE are set (by `corun run`) and attaching succeeded; a failure to attach
 *   leaves the program running unmanaged with one warning, never stops it.
 * - Attaching happens once, on the first scheduling point or in our constructor, whichever comes
 *   first (other libraries' constructors may create threads before ours runs).
 * - Leaving (exit, exec) releases every core the process holds and lets its parked threads run
 *   on unmanaged, so no exit path can wait on a thread we parked. The last process to leave
 *   unlinks the segment.
 * - A fork child starts a new registration for its single thread; a vfork child (which shares
 *   the parent's memory) never touches the parent's registration.
 */
#include "sched/internal.h"
#include "sched/sched.h"

#include "common/env.h"
#include "common/log.h"
#include "common/real.h"
#include "common/sys.h"

#include <errno.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/prctl.h>
#include <unistd.h>

static pthread_mutex_t attach_lock = PTHREAD_MUTEX_INITIALIZER;
static _Atomic int attach_state; /* 0 not tried, 1 attached, 2 unmanaged */

int cr_parse_cpus(const char *text, int *out, int max)
{
    int n = 0;
    const char *p = text;
    while (p && *p) {
        char *end;
        long a = strtol(p, &end, 10), b = a;
        if (end == p || a < 0)
            return -1;
        p = end;
        if (*p == '-') {
            b = strtol(p + 1, &end, 10);
            if (end == p + 1 || b < a)
                return -1;
            p = end;
        }
        for (long c = a; c <= b; c++) {
            if (n >= max)
                return -1;
            out[n++] = (int)c;
        }
        if (*p == ',')
            p++;
        else if (*p)
            return -1;
    }
    return n;
}

static void proc_register_locked(struct cr_shm *s, int p)
{
    struct cr_proc *procs = cr_procs(s);
    struct cr_proc *pr = &procs[p];
    memset(pr, 0, offsetof(struct cr_proc, free_next));
    pr->pid = cr_getpid();
    pr->starttime = cr_proc_starttime(pr->pid);
    pr->threads = CR_NONE;
    prctl(PR_GET_NAME, pr->comm);
    if (s->ring == CR_NONE) {
        pr->ring_next = pr->ring_prev = p;
        s->ring = p;
    } else {
        int head = s->ring, tail = procs[head].ring_prev;
        pr->ring_next = head;
        pr->ring_prev = tail;
        procs[tail].ring_next = p;
        procs[head].ring_prev = p;
    }
    if (s->turn == CR_NONE) {
        s->turn = p;
        s->turn_start_ns = cr_now_ns();
    }
    s->nlive++;
    atomic_store(&pr->state, CR_PROC_LIVE);
}

/* Join the instance named by the environment; returns false to stay unmanaged. */
static bool attach_from_env(void)
{
    const char *managed = getenv("CORUN_MANAGED");
    const char *instance = getenv("CORUN_INSTANCE");
    if (!managed || strcmp(managed, "1") != 0 || !instance || !*instance)
        return false; /* set by `corun run` only: loading the library elsewhere changes nothing */
    const char *cpus_text = getenv("CORUN_CPUS");
    static int cpus[CR_MAX_CORES];
    int ncpus;
    if (cpus_text && *cpus_text) {
        ncpus = cr_parse_cpus(cpus_text, cpus, CR_MAX_CORES);
        if (ncpus <= 0) {
            cr_log(CR_LOG_WARNING, "invalid CORUN_CPUS=%s; running unmanaged", cpus_text);
            return false;
        }
    } else {
        cpu_set_t set;
        CPU_ZERO(&set);
        cr_syscall6(SYS_sched_getaffinity, 0, sizeof set, (long)&set, 0, 0, 0); /* not our interposer */
        ncpus = 0;
        for (int c = 0; c < CPU_SETSIZE && ncpus < CR_MAX_CORES; c++)
            if (CPU_ISSET(c, &set))
                cpus[ncpus++] = c;
    }
    cr_self.quantum_us = cr_env_uint("CORUN_QUANTUM_US", 20000, 100, 10000000);
    cr_self.yield_slice_us = cr_env_uint("CORUN_YIELD_SLICE_US", 100, 0, 1000000);
    cr_self.tick_us = cr_env_uint("CORUN_TICK_US", 200, 50, 100000);
    cr_self.slice_us = cr_env_uint("CORUN_SLICE_US", 20000, 100, 10000000);
    cr_self.probe_us = cr_env_uint("CORUN_PROBE_US", 500, 0, 10000000);
    if (cr_self.probe_us && cr_self.probe_us < 50)
        cr_self.probe_us = 50;
    if (cr_self.slice_us > cr_self.quantum_us)
        cr_self.slice_us = cr_self.quantum_us;
    char err[512];
    struct cr_shm *s = cr_shm_open(instance, cpus, ncpus, cr_self.quantum_us, true, err, sizeof err);
    if (!s) {
        cr_log(CR_LOG_WARNING, "%s; running unmanaged", err);
        return false;
    }
    cr_shm_lock(s);
    if (atomic_load(&s->removed)) {
        cr_shm_unlock(s);
        return attach_from_env(); /* raced with the last process leaving */
    }
    int p = s->proc_free;
    if (p == CR_NONE && cr_shm_reap_dead(s, false) > 0)
        p = s->proc_free;
    if (p == CR_NONE) {
        cr_shm_unlock(s);
        cr_log(CR_LOG_WARNING, "instance %s has %d processes, the maximum; running unmanaged", instance, CR_MAX_PROCS);
        return false;
    }
    s->proc_free = cr_procs(s)[p].free_next;
    proc_register_locked(s, p);
    cr_shm_unlock(s);
    snprintf(cr_self.instance, sizeof cr_self.instance, "%s", instance);
    cr_self.shm = s;
    cr_self.proc = p;
    cr_self.pid = cr_getpid();
    CR_DEBUG("attached to instance %s as process slot %d (%d cores)", instance, p, ncpus);
    return true;
}

/* Register the calling thread and wait for a core. */
static void thread_register(void)
{
    struct cr_shm *s = cr_self.shm;
    uint32_t gen = atomic_load(&cr_self.gen);
    if (!s || cr_me() || cr_self.proc == CR_NONE)
        return; /* unmanaged, registered, or the process left (its last managed thread ended) */
    cr_shm_lock(s);
    /* another thread may have left the instance meanwhile (exit under a starting thread): its
     * process slot is free, or another process's already */
    if (atomic_load(&cr_self.gen) != gen || cr_self.proc == CR_NONE) {
        cr_shm_unlock(s);
        return;
    }
    int t = cr_thread_alloc(s, cr_self.proc, cr_gettid());
    if (t != CR_NONE) {
        cr_tls.slot = t;
        cr_tls.gen = gen;
    }
    cr_shm_unlock(s);
    if (t == CR_NONE) {
        cr_log(CR_LOG_WARNING, "instance has %d threads, the maximum; this thread runs unmanaged", CR_MAX_THREADS);
        return;
    }
    cr_acquire();
}

static void at_fork_child(void);

bool cr_ensure_attached(void)
{
    int st = atomic_load_explicit(&attach_state, memory_order_acquire);
    if (st)
        return st == 1;
    REAL(pthread_mutex_lock)(&attach_lock);
    st = atomic_load(&attach_state);
    if (!st) {
        bool ok = attach_from_env();
        if (ok) {
            cr_signal_install();
            cr_trap_install();
            static bool atfork_registered; /* once per image: fork children inherit it */
            if (!atfork_registered) {
                atfork_registered = true;
                pthread_atfork(NULL, NULL, at_fork_child);
            }
        }
        atomic_store_explicit(&attach_state, ok ? 1 : 2, memory_order_release);
        st = ok ? 1 : 2;
        if (ok)
            cr_watchdog_start();
    }
    REAL(pthread_mutex_unlock)(&attach_lock);
    return st == 1;
}

void cr_process_leave(void)
{
    struct cr_shm *s = cr_self.shm;
    if (!s || cr_self.pid != cr_getpid() || cr_self.proc == CR_NONE)
        return;
    cr_shm_lock(s);
    atomic_fetch_add(&cr_self.gen, 1);
    cr_proc_detach_locked(s, cr_self.proc, true);
    cr_self.proc = CR_NONE; /* under the lock: the watchdog's next look sees it */
    if (s->nlive > 0)
        cr_shm_reap_dead(s, false); /* peers killed by a signal (Pool.terminate) never left */
    bool last = s->nlive == 0;
    if (last) {
        char name[128];
        atomic_store(&s->removed, 1);
        cr_shm_name(cr_self.instance, name, sizeof name);
        shm_unlink(name);
    }
    cr_shm_unlock(s);
    cr_tls.slot = CR_NONE;
    cr_watchdog_stop(); /* an exit must not kill it while it holds the instance lock */
    CR_DEBUG("left instance %s%s", cr_self.instance, last ? " (last process: segment removed)" : "");
}

void cr_thread_begin(void)
{
    if (!cr_ensure_attached())
        return;
    thread_register();
}

void cr_thread_end(void)
{
    struct cr_thread *th = cr_me();
    if (!th)
        return;
    struct cr_shm *s = cr_self.shm;
    struct cr_defer d = {0};
    cr_sched_enter();
    cr_block_signal(true);
    cr_shm_lock(s);
    if (!cr_me_still_valid()) {
        cr_shm_unlock(s);
        cr_tls.in_sched--;
        return;
    }
    cr_hand_over_core(s, cr_tls.slot, CR_BLOCKED, &d);
    cr_thread_free(s, cr_tls.slot);
    /* The last managed thread ends (main left by pthread_exit before): nothing of this process
     * will run managed again, and the watchdog must not keep the process alive. */
    bool none_left = cr_self.proc != CR_NONE && cr_procs(s)[cr_self.proc].nthreads == 0;
    cr_shm_unlock(s);
    cr_defer_run(s, &d);
    cr_tls.slot = CR_NONE;
    cr_tls.in_sched--;
    if (none_left)
        cr_process_leave();
}

void cr_exec_before(void)
{
    if (!cr_self.shm || cr_self.pid != cr_getpid())
        return; /* unmanaged, or a vfork child */
    cr_process_leave();
}

void cr_exec_failed(void)
{
    if (!cr_self.shm || cr_self.pid != cr_getpid() || cr_self.proc != CR_NONE)
        return;
    atomic_store(&attach_state, 0);
    cr_self.shm = NULL;
    if (cr_ensure_attached())
        thread_register();
}

static void at_fork_child(void)
{
    /* The child has one thread (this one) and a copy of our memory: the parent's registration is
     * the parent's. Start over: new process slot, new watchdog, this thread registered anew. */
    if (!cr_self.shm)
        return;
    atomic_fetch_add(&cr_self.gen, 1);
    cr_tls.slot = CR_NONE;
    cr_tls.in_sched = 0;
    cr_tls.pending = 0;
    cr_self.shm = NULL;
    cr_self.proc = CR_NONE;
    atomic_store(&attach_state, 0);
    REAL(pthread_mutex_init)(&attach_lock, NULL);
    cr_affinity_after_fork(); /* its lock may have been held by a thread the child does not have */
    if (cr_ensure_attached())
        thread_register();
    cr_block_signal(false);
}

__attribute__((constructor)) static void corun_init(void)
{
    if (cr_ensure_attached())
        thread_register();
}

__attribute__((destructor)) static void corun_fini(void)
{
    cr_process_leave();
}

/* _exit and _Exit skip destructors (multiprocessing children and fork-then-exit code use them):
 * leave the instance here too, so the process's slot and cores are freed at once rather than
 * when the safety net notices the pid is gone. */
__attribute__((visibility("default"), noreturn)) void _exit(int status)
{
    cr_process_leave();
    REAL(_exit)(status);
    __builtin_unreachable();
}

__attribute__((visibility("default"), noreturn)) void _Exit(int status)
{
    cr_process_leave();
    REAL(_Exit)(status);
    __builtin_unreachable();
}
