/* affinity.c — affinity as the program would see it without corun (USF paper 4.3.2).
 *
 * Managed threads are pinned to one core at a time by the scheduler, so the kernel's answer to
 * sched_getaffinity would be a single CPU and runtimes would size their pools to 1 (numpy's
 * OpenBLAS then creates no workers). Instead:
 *   - set calls on a thread of this process store the mask as a hint and change nothing;
 *   - get calls return the thread's hint, or the instance's managed CPU set.
 * Invariant: the kernel affinity of a managed thread is only ever changed by the scheduler.
 * Hints live in a process-local table keyed by tid (not a hot path: pools query at start-up).
 */
#include "sched/internal.h"
#include "sched/sched.h"

#include "common/real.h"
#include "common/sys.h"

#include <pthread.h>
#include <string.h>
#include <sys/mman.h>

#define HINT_SLOTS 4096

struct hint {
    int tid;
    cpu_set_t set;
};

static struct hint *hints;
static pthread_mutex_t hints_lock = PTHREAD_MUTEX_INITIALIZER;

void cr_affinity_after_fork(void)
{
    REAL(pthread_mutex_init)(&hints_lock, NULL);
}

static bool ours(pid_t tid)
{
    return cr_tgkill(cr_self.pid, tid, 0) == 0;
}

static struct hint *lookup(int tid, bool create)
{
    if (!hints) {
        if (!create)
            return NULL;
        void *m = mmap(NULL, sizeof(struct hint) * HINT_SLOTS, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
        if (m == MAP_FAILED)
            return NULL;
        hints = m;
    }
    unsigned h = (unsigned)tid * 2654435761u % HINT_SLOTS;
    for (unsigned i = 0; i < HINT_SLOTS; i++) {
        struct hint *e = &hints[(h + i) % HINT_SLOTS];
        if (e->tid == tid)
            return e;
        if (e->tid == 0)
            return create ? (e->tid = tid, e) : NULL;
    }
    return NULL;
}

/* The thread `tid` names (0: the caller) if it is a thread of this managed process, else 0. */
static pid_t our_tid(pid_t tid)
{
    if (!cr_self.shm || cr_self.proc == CR_NONE)
        return 0;
    if (tid == 0)
        return cr_gettid();
    return ours(tid) ? tid : 0;
}

static void managed_set(cpu_set_t *set)
{
    CPU_ZERO(set);
    for (unsigned c = 0; c < cr_self.shm->ncores; c++)
        if (cr_self.shm->cpu_of_core[c] >= 0 && cr_self.shm->cpu_of_core[c] < CPU_SETSIZE)
            CPU_SET(cr_self.shm->cpu_of_core[c], set);
}

bool cr_affinity_get(pid_t tid, size_t size, cpu_set_t *set)
{
    if (!set || !(tid = our_tid(tid)))
        return false;
    cpu_set_t out;
    cr_sched_enter(); /* no preemption while holding hints_lock */
    REAL(pthread_mutex_lock)(&hints_lock);
    struct hint *h = lookup(tid, false);
    if (h)
        out = h->set;
    else
        managed_set(&out);
    REAL(pthread_mutex_unlock)(&hints_lock);
    cr_sched_leave();
    memset(set, 0, size);
    memcpy(set, &out, size < sizeof out ? size : sizeof out);
    return true;
}

bool cr_affinity_set(pid_t tid, size_t size, const cpu_set_t *set)
{
    if (!set || !(tid = our_tid(tid)))
        return false;
    cpu_set_t in;
    CPU_ZERO(&in);
    memcpy(&in, set, size < sizeof in ? size : sizeof in);
    cr_sched_enter(); /* no preemption while holding hints_lock */
    REAL(pthread_mutex_lock)(&hints_lock);
    struct hint *h = lookup(tid, true);
    if (h)
        h->set = in;
    REAL(pthread_mutex_unlock)(&hints_lock);
    cr_sched_leave();
    return h != NULL;
}
