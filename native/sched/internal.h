/* internal.h — state and operations shared by the files of native/sched (not an API).
 *
 * Process-local state is a cache: the shared segment is the truth. A thread's TLS names its slot
 * together with the process generation it registered under; detaching a process (exit, exec,
 * fork child) bumps the generation, which turns every stale thread unmanaged at once.
 */
#ifndef CORUN_SCHED_INTERNAL_H
#define CORUN_SCHED_INTERNAL_H

#include "sched/policy.h"
#include "sched/shm.h"

#include <signal.h>
#include <stdatomic.h>
#include <stdbool.h>
#include <stdint.h>

#define CR_PREEMPT_SIGNAL (SIGRTMAX - 2)
#define CR_SPIN_REGS 15 /* general registers a spin sample compares (preempt.c) */

struct cr_process_local {
    struct cr_shm *shm;           /* NULL: not attached (unmanaged) */
    int proc;                     /* our slot in the segment */
    int pid;
    _Atomic uint32_t gen;         /* bumped on detach */
    char instance[72];
    unsigned quantum_us;
    unsigned yield_slice_us;
    unsigned tick_us;
    unsigned slice_us;            /* round-robin slice among one process's threads */
    unsigned probe_us;            /* spin probes: period while own threads wait (0: off) */
};
extern struct cr_process_local cr_self;

struct cr_thread_local {
    int slot;                     /* CR_NONE: unmanaged */
    uint32_t gen;                 /* cr_self.gen at registration */
    volatile sig_atomic_t in_sched;  /* inside a scheduler operation: the signal handler defers */
    volatile sig_atomic_t pending;   /* a preemption signal arrived while in_sched */
    /* last spin sample (preempt.c): where the preemption signal found the thread in user code */
    uintptr_t sample_ip, sample_sp;
    uint64_t sample_regs[CR_SPIN_REGS]; /* the other general registers */
    bool have_sample;
};
extern __thread struct cr_thread_local cr_tls;

/* Work decided under the lock, done after it: futex wakes and signals. */
#define CR_DEFER_MAX 32
struct cr_defer {
    int nwake, nsig, nrepin;
    struct cr_thread *repin[CR_DEFER_MAX];
    int repin_cpu[CR_DEFER_MAX];
    _Atomic uint32_t *wake[CR_DEFER_MAX];
    int sig_pid[CR_DEFER_MAX], sig_tid[CR_DEFER_MAX];
    bool epoch;
};
void cr_defer_add_wake(struct cr_defer *d, _Atomic uint32_t *addr);
void cr_defer_add_signal(struct cr_defer *d, int pid, int tid);
void cr_defer_run(struct cr_shm *s, struct cr_defer *d);

/* The calling thread's slot, or NULL when unmanaged or stale. */
struct cr_thread *cr_me(void);

/* With the instance lock held, after cr_me() returned a slot: true if the slot is still the
 * caller's. Another thread of the process may have left the instance (exit, _exit, exec, last
 * thread) between cr_me() and the lock; it freed every slot of the process, which may already
 * belong to another process. On false the caller unlocks and acts as unmanaged. */
static inline bool cr_me_still_valid(void)
{
    if (cr_tls.slot != CR_NONE && cr_tls.gen == atomic_load_explicit(&cr_self.gen, memory_order_relaxed))
        return true;
    cr_tls.slot = CR_NONE;
    return false;
}

/* Mechanisms (lock held). */
void cr_grant(struct cr_shm *s, int t, int core, struct cr_defer *d);
void cr_release_core(struct cr_shm *s, int core, struct cr_defer *d);
void cr_make_ready(struct cr_shm *s, int t, struct cr_defer *d);
void cr_take_core(struct cr_shm *s, int t);       /* RUNNING -> no core (caller sets the new state) */
/* If t is RUNNING: RUNNING -> `state` (BLOCKED or STOLEN), its core to the next ready thread.
 * Returns the core it had, or CR_NONE. */
int cr_hand_over_core(struct cr_shm *s, int t, int state, struct cr_defer *d);
void cr_preempt_request(struct cr_shm *s, int t, struct cr_defer *d);
/* Spin probe: signal RUNNING thread t without asking it to give its core up; its handler samples
 * where it runs and yields only if it is spinning (preempt.c). */
void cr_probe(struct cr_shm *s, int t, struct cr_defer *d);
/* A thread of process p just queued after a wake-up: if p has more threads wanting a core than
 * there are cores, probe its running threads last seen spinning, so a spinner leaves its core to
 * the woken thread now rather than at slice end. */
void cr_probe_spinners(struct cr_shm *s, int p, struct cr_defer *d);
/* Forget the calling thread's spin sample (it reached a blocking scheduling point). */
void cr_spin_forget(struct cr_thread *th);
void cr_maybe_rotate(struct cr_shm *s, uint64_t now, struct cr_defer *d);
int cr_thread_alloc(struct cr_shm *s, int proc, int tid);
void cr_thread_free(struct cr_shm *s, int t);
void cr_proc_detach_locked(struct cr_shm *s, int p, bool wake_threads);

/* Thread-side operations (no lock held on entry). */
void cr_wait_for_core(struct cr_thread *th);      /* park until granted; pins the thread */
void cr_acquire(void);                            /* BLOCKED/STOLEN -> RUNNING */
bool cr_yield_core(bool only_if_waiting);         /* RUNNING -> READY -> RUNNING; false: kept the core */
void cr_sched_enter(void);
void cr_sched_leave(void);                        /* runs deferred preemptions */

/* Process lifecycle (process.c). */
bool cr_ensure_attached(void);
void cr_process_leave(void);
void cr_affinity_after_fork(void);                      /* exit, exec, fatal signal: leave the instance */
void cr_watchdog_start(void);
void cr_watchdog_stop(void);                      /* waits (bounded) until it has let go */
void cr_signal_install(void);
void cr_block_signal(bool block);

/* Learned wait sites (trap.c). */
void cr_trap_install(void);
bool cr_trap_learn(uintptr_t ip);

#endif
