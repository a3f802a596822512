/* watchdog.c — the safety net: one unmanaged thread per managed process (Go's sysmon, in spirit).
 *
 * It sleeps on the instance's waiting_epoch futex while no thread anywhere waits for a core, so an
 * instance without contention costs nothing. While threads wait it ticks (CORUN_TICK_US, default
 * 200 us, while this process holds cores, 50 us right after a steal, backing off to 2 ms while
 * its looks find every core busy; 5 ms otherwise) and, for this process only:
 *   - passes the turn when the quantum has expired (threads that spin without ever reaching a
 *     scheduling point are preempted by signal, see preempt.c);
 *   - steals the core of a RUNNING thread whose CPU clock did not advance over a tick and whose
 *     kernel state is sleeping (S or D): a wait corun cannot intercept (raw futex, blocking I/O)
 *     must not hold a core idle; the thread is signalled and rescued (preempt.c);
 *   - signals a STOLEN thread seen consuming CPU again, so it queues for a core;
 *   - round-robins its own threads when more of them are ready than cores it holds, every
 *     CORUN_SLICE_US (default and at most the quantum): threads that spin without a
 *     scheduling point (BLIS barriers) still progress, one slice at a time;
 *   - while more of its threads want a core than there are cores, probes its running threads
 *     every CORUN_PROBE_US (500 us; the tick stays at that period while it probes): a probed
 *     thread found spinning — same instruction and stack as
 *     at its previous sample — gives its core to a waiting thread at once (preempt.c), so a
 *     spinner holds a core for about one probe period instead of a whole slice;
 * frees the slot (and core) of a thread that ended without telling us (raw SYS_exit);
 * and, for the whole instance (one watchdog per period, a timestamp in the segment says which):
 * every 20 ms removes processes that own cores or wait for one and died without leaving
 * (kill -9), which frees their cores — the bound on a peer's delay after a SIGKILL — and every
 * second every dead process. Each look is O(cores + waiting processes), not O(processes).
 * Invariant: it never owns a core and never runs user code; all its decisions take the lock.
 */
#include "sched/internal.h"

#include "common/log.h"
#include "common/real.h"
#include "common/sys.h"

#include <errno.h>
#include <fcntl.h>
#include <pthread.h>
#include <stdio.h>
#include <string.h>
#include <sys/prctl.h>
#include <unistd.h>

#define REAP_PERIOD_NS 20000000ull       /* processes holding cores or waiting */
#define FULL_REAP_PERIOD_NS 1000000000ull /* every process */
#define MAX_SUSPECTS 64
#define FAST_TICK_US 50
#define CALM_TICK_US 2000

static char thread_state(int tid)
{
    char path[64], buf[512];
    snprintf(path, sizeof path, "/proc/self/task/%d/stat", tid);
    int fd = open(path, O_RDONLY | O_CLOEXEC);
    if (fd < 0)
        return '?';
    ssize_t n = read(fd, buf, sizeof buf - 1);
    close(fd);
    if (n <= 0)
        return '?';
    buf[n] = 0;
    char *p = strrchr(buf, ')');
    return p && p[1] == ' ' ? p[2] : '?';
}

static void sleep_us(unsigned us)
{
    struct timespec ts = {us / 1000000, (long)(us % 1000000) * 1000};
    cr_syscall6(SYS_nanosleep, (long)&ts, 0, 0, 0, 0, 0);
}

/* One look at this process's threads. Returns true if this process holds cores; *stole tells
 * whether it took a core from a sleeping thread (the next tick then comes sooner). */
static bool tick(struct cr_shm *s, uint64_t now, uint64_t *last_thread_reap, bool *stole, bool *probing)
{
    struct cr_defer d = {0};
    struct cr_thread *threads = cr_threads(s);
    int suspects[MAX_SUSPECTS];
    uint32_t suspect_gen[MAX_SUSPECTS];
    int nsus = 0;
    bool holding;

    *stole = false;
    *probing = false;
    cr_shm_lock(s);
    int me = cr_self.proc;
    if (me == CR_NONE || cr_procs(s)[me].pid != cr_self.pid) {
        cr_shm_unlock(s);
        return false;
    }
    if (now - s->last_reap_ns >= REAP_PERIOD_NS) { /* one reaper per period for the instance */
        bool full = now - s->last_full_reap_ns >= FULL_REAP_PERIOD_NS;
        s->last_reap_ns = now;
        if (full)
            s->last_full_reap_ns = now;
        cr_shm_reap_dead(s, !full);
    }
    cr_maybe_rotate(s, now, &d);
    struct cr_proc *pr = &cr_procs(s)[me];
    uint64_t slice_ns = (uint64_t)cr_self.slice_us * 1000u;
    uint64_t probe_ns = (uint64_t)cr_self.probe_us * 1000u;
    /* more of its threads want a core than there are cores: some of them wait whatever the
     * other processes do, and a spinner among the running ones wastes what they could use */
    bool oversubscribed = pr->nready > 0 && pr->nrunning + pr->nready > (int)s->ncores;
    bool reap_threads = now - *last_thread_reap >= REAP_PERIOD_NS;
    if (reap_threads)
        *last_thread_reap = now;
    for (int t = pr->threads, next; t != CR_NONE; t = next) {
        struct cr_thread *th = &threads[t];
        int st = atomic_load(&th->state);
        next = th->pnext;
        if (st != CR_READY && (st != CR_BLOCKED || reap_threads) &&
            cr_thread_cputime_ns(th->tid) == CR_NO_SUCH_THREAD) {
            /* it ended without passing through cr_thread_end (raw SYS_exit): free its slot */
            cr_hand_over_core(s, t, CR_BLOCKED, &d);
            cr_thread_free(s, t);
            continue;
        }
        if (st == CR_RUNNING) {
            uint64_t cpu = cr_thread_cputime_ns(th->tid);
            if (s->nready > 0 && th->cpu_seen_ns && cpu == th->cpu_seen_ns && nsus < MAX_SUSPECTS) {
                suspects[nsus] = t;
                suspect_gen[nsus++] = th->gen;
            } else if (pr->nready > 0 && s->turn == me && now - th->since_ns > slice_ns) {
                cr_preempt_request(s, t, &d); /* more ready threads than cores: round-robin */
            } else if (oversubscribed && probe_ns && th->cpu_seen_ns && cpu != th->cpu_seen_ns &&
                       now - th->since_ns >= probe_ns && !atomic_load(&th->preempt)) {
                cr_probe(s, t, &d); /* its own threads wait: is this one only spinning? */
                *probing = true;
            }
            th->cpu_seen_ns = cpu ? cpu : 1;
        } else if (st == CR_STOLEN) {
            uint64_t cpu = cr_thread_cputime_ns(th->tid);
            if (th->cpu_seen_ns && cpu != th->cpu_seen_ns)
                cr_defer_add_signal(&d, cr_self.pid, th->tid);
            th->cpu_seen_ns = cpu ? cpu : 1;
        }
    }
    holding = pr->nrunning > 0;
    cr_shm_unlock(s);
    cr_defer_run(s, &d);
    *stole = nsus > 0; /* someone sat on a core without using it: keep looking closely */

    /* Suspects: confirm they sleep in the kernel (outside the lock: /proc reads are slow). */
    int steal[MAX_SUSPECTS], nsteal = 0;
    for (int i = 0; i < nsus; i++) {
        char c = thread_state(threads[suspects[i]].tid);
        if (c == 'S' || c == 'D')
            steal[nsteal++] = i;
    }
    if (!nsteal)
        return holding;
    cr_shm_lock(s);
    for (int k = 0; k < nsteal; k++) {
        int i = steal[k], t = suspects[i];
        struct cr_thread *th = &threads[t];
        if (th->gen != suspect_gen[i] || atomic_load(&th->state) != CR_RUNNING || s->nready == 0)
            continue;
        th->cpu_seen_ns = cr_thread_cputime_ns(th->tid);
        s->stats_steals++;
        *stole = true;
        cr_hand_over_core(s, t, CR_STOLEN, &d);
        cr_defer_add_signal(&d, cr_self.pid, th->tid);
    }
    cr_shm_unlock(s);
    cr_defer_run(s, &d);
    return holding;
}

static _Atomic int watchdog_alive; /* this process's watchdog is inside its loop */

static void *watchdog_main(void *arg)
{
    /* the segment it serves is its argument: by the time it runs, the process may already have
     * left that instance (a failed exec re-attaches) and cr_self may name another one */
    struct cr_shm *s = arg;
    atomic_store(&watchdog_alive, 1);
    sigset_t all;
    sigfillset(&all);
    cr_syscall6(SYS_rt_sigprocmask, SIG_BLOCK, (long)&all, 0, _NSIG / 8, 0, 0);
    prctl(PR_SET_NAME, "corun-watchdog");
    cpu_set_t cpus; /* not its creator's single pinned CPU: it must run where a core is idle */
    CPU_ZERO(&cpus);
    for (unsigned c = 0; c < s->ncores; c++)
        if (s->cpu_of_core[c] >= 0 && s->cpu_of_core[c] < CPU_SETSIZE)
            CPU_SET(s->cpu_of_core[c], &cpus);
    cr_set_affinity_raw(0, sizeof cpus, &cpus);
    int pid = cr_getpid();
    uint64_t last_thread_reap = 0;
    bool holding = true, stole = false, probing = false;
    unsigned calm_us = cr_self.tick_us;
    unsigned calm_max = cr_self.tick_us > CALM_TICK_US ? cr_self.tick_us : CALM_TICK_US;
    while (cr_self.shm == s && cr_self.pid == pid && cr_self.proc != CR_NONE) {
        uint32_t epoch = atomic_load(&s->waiting_epoch);
        if (atomic_load((_Atomic int32_t *)&s->nready) == 0) {
            struct timespec idle = {0, 50 * 1000 * 1000};
            cr_futex_wait(&s->waiting_epoch, epoch, &idle);
            uint64_t now = cr_now_ns();
            if (now - s->last_full_reap_ns >= FULL_REAP_PERIOD_NS) {
                cr_shm_lock(s);
                if (cr_self.proc != CR_NONE && now - s->last_full_reap_ns >= FULL_REAP_PERIOD_NS) {
                    s->last_full_reap_ns = s->last_reap_ns = now;
                    cr_shm_reap_dead(s, false);
                }
                cr_shm_unlock(s);
            }
            continue;
        }
        /* Threads that just slept in an uninterceptable wait tend to do it again (barriers):
         * look again sooner after a steal or a suspect. While every look finds the cores busy
         * (compute-bound turns), back off to CALM_TICK_US: each wake-up of this thread costs the
         * managed thread on its CPU two context switches. */
        unsigned us;
        if (!holding)
            us = 5000;
        else if (stole)
            us = FAST_TICK_US, calm_us = cr_self.tick_us;
        else
            us = calm_us, calm_us = calm_us * 2 > calm_max ? calm_max : calm_us * 2;
        if (probing && us > cr_self.probe_us)
            us = cr_self.probe_us; /* its threads wait for its cores: keep probing at the period */
        sleep_us(us);
        if (cr_self.proc == CR_NONE)
            break;
        holding = tick(s, cr_now_ns(), &last_thread_reap, &stole, &probing);
    }
    atomic_store(&watchdog_alive, 0);
    return NULL;
}

void cr_watchdog_start(void)
{
    atomic_store(&watchdog_alive, 0); /* a fork child's copy says its parent's was running */
    pthread_t t;
    pthread_attr_t a;
    pthread_attr_init(&a);
    pthread_attr_setdetachstate(&a, PTHREAD_CREATE_DETACHED);
    pthread_attr_setstacksize(&a, 64 * 1024);
    int r = REAL(pthread_create)(&t, &a, watchdog_main, cr_self.shm);
    pthread_attr_destroy(&a);
    if (r != 0)
        cr_log(CR_LOG_WARNING, "cannot start the safety-net thread: %s (uninterceptable waits may stall)", strerror(r));
}

void cr_watchdog_stop(void)
{
    struct cr_shm *s = cr_self.shm;
    if (s) { /* wake it from its idle wait */
        atomic_fetch_add(&s->waiting_epoch, 1);
        cr_futex_wake(&s->waiting_epoch, 1 << 30);
    }
    for (int i = 0; i < 200 && atomic_load(&watchdog_alive); i++)
        sleep_us(100); /* at most 20 ms: it lets go within one tick */
}
