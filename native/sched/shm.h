/* shm.h — the shared segment of one scheduler instance: layout, attach, lock.
 *
 * One POSIX shared-memory object per (user, instance): /dev/shm/corun-<uid>-<instance>, mode 0600.
 * It holds every piece of scheduler state; processes keep only caches of it.
 *
 * Layout (sizes fixed at creation from the managed CPU count N):
 *   struct cr_shm            header, counters, per-core arrays (CR_MAX_CORES entries)
 *   struct cr_proc[MAX_PROCS]
 *   struct cr_thread[MAX_THREADS]
 *   struct cr_queue[MAX_PROCS * N]   one FIFO per (process, core): the paper's per-process
 *                                    per-core ready queues, linked through cr_thread.qnext
 *
 * Invariants, all under `lock` (a robust, process-shared mutex: a holder killed by SIGKILL makes
 * the next locker repair the state from its primary fields, see cr_shm_repair):
 *   I1  core_owner[c] == t  <=>  threads[t].state == CR_RUNNING && threads[t].core == c
 *   I2  at most one owner per core, so at most one managed thread runs per managed core
 *   I3  a thread is in its process's queue for core q  <=>  state == CR_READY && queued_on == q
 *   I4  idle[] has bit c set  <=>  core_owner[c] == CR_NONE
 *   I5  counters (nready, per-process running/ready/held bits) equal what the slots say
 * Primary state is core_owner[] plus each thread's state/core; everything else is derived and can
 * be rebuilt. No operation scans all threads or all cores except repair and snapshots.
 */
#ifndef CORUN_SCHED_SHM_H
#define CORUN_SCHED_SHM_H

#include <pthread.h>
#include <stdatomic.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#define CR_MAGIC 0x636f72756e736368ull /* "corunsch" */
#define CR_LAYOUT_VERSION 4u
#define CR_MAX_CORES 1024
#define CR_MAX_PROCS 512
#define CR_MAX_THREADS 65536
#define CR_MASK_WORDS (CR_MAX_CORES / 64)
#define CR_NONE (-1)

enum cr_thread_state {
    CR_FREE = 0,    /* slot unused */
    CR_RUNNING = 1, /* owns `core`, pinned to it */
    CR_READY = 2,   /* queued for a core, parked on `grant` */
    CR_BLOCKED = 3, /* inside a blocking call, owns no core */
    CR_STOLEN = 4,  /* was running; seen asleep in the kernel, its core given away */
};

enum cr_proc_state { CR_PROC_FREE = 0, CR_PROC_LIVE = 1 };

/* Values of cr_thread.grant, the futex word a parked thread sleeps on. */
#define CR_GRANT_WAIT 0u      /* still waiting */
#define CR_GRANT_CORE 1u      /* granted `core` */
#define CR_GRANT_RELEASE 2u   /* released: run unmanaged (process leaving the instance) */

struct cr_thread {
    int32_t tid;
    int32_t proc;            /* index of its process */
    _Atomic int32_t state;   /* enum cr_thread_state */
    int32_t core;            /* owned core when RUNNING, else CR_NONE */
    int32_t last_core;       /* preferred core (paper: last core it ran on) */
    int32_t queued_on;       /* queue it sits in when READY */
    int32_t qnext;           /* next in that FIFO */
    int32_t pnext, pprev;    /* its process's thread list */
    _Atomic uint32_t grant;  /* futex word, CR_GRANT_* */
    _Atomic uint32_t preempt;/* set by a preempter: give the core up at the next chance */
    uint32_t gen;            /* incremented each time the slot is reused */
    int32_t pinned_cpu;      /* CPU its kernel affinity is set to (-1: never pinned) */
    _Atomic int32_t spin;    /* 0: not seen spinning; 1: calls sched_yield; 2: a probe found it at
                              * the same instruction and stack as its previous sample. Back to 0
                              * after a probe elsewhere or a block. A hint for pick_next (spinners
                              * go last) and for wake-up probes. */
    uint64_t since_ns;       /* when it took its core / entered its state */
    uint64_t cpu_seen_ns;    /* watchdog: CPU time at its last look (owner process only) */
};

struct cr_queue {
    int32_t head, tail;
};

struct cr_proc {
    int32_t pid;
    _Atomic int32_t state;   /* enum cr_proc_state */
    uint64_t starttime;      /* /proc/<pid>/stat field 22, to tell a reused pid */
    int32_t ring_next, ring_prev; /* ring of live processes, the order turns go in */
    int32_t threads;         /* head of its thread list */
    int32_t nthreads, nrunning, nready;
    uint64_t ready_cores[CR_MASK_WORDS]; /* cores whose queue of this process is non-empty */
    uint64_t held_cores[CR_MASK_WORDS];  /* cores its threads own */
    int32_t free_next;
    char comm[16];
};

struct cr_shm {
    uint64_t magic;          /* written last at creation */
    uint32_t version;
    uint32_t uid;
    uint64_t total_size;
    uint32_t ncores;
    uint32_t max_procs, max_threads;
    uint32_t quantum_us;
    uint32_t header_check;   /* checksum of the fields above, to refuse a corrupt header */
    _Atomic uint32_t removed;/* set under lock when the last process left and the name was unlinked */
    pthread_mutex_t lock;    /* robust, process-shared */

    /* scheduling state, under lock */
    int32_t nlive;           /* live processes */
    int32_t nready;          /* READY threads, all processes */
    int32_t ring;            /* any live process (ring entry point) or CR_NONE */
    int32_t turn;            /* process whose turn it is, or CR_NONE */
    uint64_t turn_start_ns;
    int32_t proc_free, thread_free;
    uint32_t threads_used;   /* high-water mark of thread slots handed out */
    uint64_t idle[CR_MASK_WORDS];
    int32_t core_owner[CR_MAX_CORES];
    int32_t cpu_of_core[CR_MAX_CORES];
    int16_t node_of_core[CR_MAX_CORES];
    _Atomic uint32_t waiting_epoch; /* futex: bumped when the first thread starts waiting */
    uint64_t last_reap_ns, last_full_reap_ns; /* one safety net reaps for the whole instance */
    uint64_t stats_grants, stats_steals, stats_preempts, stats_rotations;
    uint64_t stats_probes;   /* spin probes sent (watchdog and wake-ups) */
    _Atomic uint64_t stats_spin_yields; /* probes that found a spinner and moved it off its core */
};

static inline struct cr_proc *cr_procs(struct cr_shm *s)
{
    return (struct cr_proc *)((char *)s + ((sizeof(struct cr_shm) + 63) & ~(size_t)63));
}
static inline struct cr_thread *cr_threads(struct cr_shm *s)
{
    return (struct cr_thread *)(cr_procs(s) + s->max_procs);
}
static inline struct cr_queue *cr_queue(struct cr_shm *s, int proc, int core)
{
    return (struct cr_queue *)(cr_threads(s) + s->max_threads) + (size_t)proc * s->ncores + (size_t)core;
}
size_t cr_shm_size(unsigned ncores, unsigned max_procs, unsigned max_threads);

/* Bit helpers for the core masks. */
static inline void cr_mask_set(uint64_t *m, int c) { m[c >> 6] |= 1ull << (c & 63); }
static inline void cr_mask_clear(uint64_t *m, int c) { m[c >> 6] &= ~(1ull << (c & 63)); }
static inline bool cr_mask_test(const uint64_t *m, int c) { return m[c >> 6] >> (c & 63) & 1; }
/* First set bit at or after `from` (wrapping), or CR_NONE. Cost: ncores/64 words. */
int cr_mask_find(const uint64_t *m, unsigned ncores, int from);

/* Open or create the instance's segment for CPUs `cpus` (ncpus entries). On failure returns NULL
 * and writes a one-line reason into err. `create` false: attach only. */
struct cr_shm *cr_shm_open(const char *instance, const int *cpus, int ncpus, unsigned quantum_us,
                           bool create, char *err, size_t errlen);
void cr_shm_name(const char *instance, char *buf, size_t len);

/* The instance lock. cr_shm_lock repairs state after a holder died. */
void cr_shm_lock(struct cr_shm *s);
void cr_shm_unlock(struct cr_shm *s);
void cr_shm_repair(struct cr_shm *s);

/* Remove processes whose pid is gone (or reused); called under lock. Returns how many.
 * holders_only: look only at processes that own cores or have queued threads (at most
 * ncores + waiting processes: the frequent check); otherwise at every process (rare). */
int cr_shm_reap_dead(struct cr_shm *s, bool holders_only);
bool cr_proc_alive(const struct cr_proc *p);
uint64_t cr_proc_starttime(int pid);

#endif
