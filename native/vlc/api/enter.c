/* enter.c — the calling thread's position in contexts.
 *
 * Invariant: each thread has a stack of frames; enter pushes (context, affinity before entering)
 * and leave pops and restores exactly that affinity, so nesting across contexts unwinds correctly.
 * A thread is counted in its context's `inside` from enter to leave.
 */
#include "vlc/api/internal.h"

#include <string.h>
#include <sys/syscall.h>
#include <unistd.h>

#define MAX_DEPTH 32

struct frame {
    corun_vlc *v;
    int pinned;
    cpu_set_t saved;
};

static __thread struct frame stack[MAX_DEPTH];
static __thread int depth;

API int corun_vlc_enter_flags(corun_vlc *v, unsigned flags)
{
    if (!v)
        return vlc_fail(CORUN_VLC_EINVAL, "NULL context");
    if (depth == MAX_DEPTH)
        return vlc_fail(CORUN_VLC_ESTATE, "contexts nested deeper than %d", MAX_DEPTH);
    struct frame *f = &stack[depth];
    f->v = v;
    f->pinned = 0;
    if (!(flags & CORUN_VLC_NOPIN)) {
        pthread_mutex_lock(&v->lock);
        cpu_set_t want = v->cpus;
        pthread_mutex_unlock(&v->lock);
        if (syscall(SYS_sched_getaffinity, 0, sizeof f->saved, &f->saved) < 0)
            return vlc_fail(CORUN_VLC_ESTATE, "sched_getaffinity failed");
        if (!CPU_EQUAL(&want, &f->saved)) {
            if (syscall(SYS_sched_setaffinity, 0, sizeof want, &want) < 0)
                return vlc_fail(CORUN_VLC_ECPU, "cannot run on the context's CPUs (affinity rejected)");
            f->pinned = 1;
        }
    }
    if (v->ns.ctype_init)
        v->ns.ctype_init();
    atomic_fetch_add(&v->inside, 1);
    depth++;
    return 0;
}

API int corun_vlc_enter(corun_vlc *v)
{
    return corun_vlc_enter_flags(v, 0);
}

API int corun_vlc_leave(void)
{
    if (depth == 0)
        return vlc_fail(CORUN_VLC_ESTATE, "leave without enter");
    struct frame *f = &stack[--depth];
    if (f->pinned)
        syscall(SYS_sched_setaffinity, 0, sizeof f->saved, &f->saved);
    atomic_fetch_sub(&f->v->inside, 1);
    return 0;
}

API corun_vlc *corun_vlc_current(void)
{
    return depth ? stack[depth - 1].v : NULL;
}
