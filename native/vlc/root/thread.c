/* thread.c — threads and nested loads inside the namespace.
 *
 * Invariant: a thread created by library code of this namespace runs none of its own code before it
 * is pinned to the context's CPUs (the start routine is wrapped; the pin is the wrapper's first
 * action), and it stays in the registry from then until it exits, so a later reconfiguration re-pins
 * every live one. dlopen(RTLD_GLOBAL) from inside a namespace crashes glibc 2.36's dynamic linker,
 * so the flag is dropped: the library still loads, into this namespace, with local scope.
 *
 * Routed Python contexts (src/corun/vlc/_py_router.py): calls that an extension module makes through
 * its GOT go through trampolines that read the calling thread's routing table (initial-exec TLS of
 * libcorun_vlc_route.so in the base namespace). A worker thread started by this namespace's copy of
 * a parallel runtime (libgomp's team threads) runs the extension's outlined code, whose
 * omp_get_thread_num, GOMP_barrier, ... calls go through the same GOT: so, once the context's route
 * is set here, every thread started in this namespace gets the context's table in its TLS slot
 * before it runs any of its own code, and those calls reach this namespace's instance (and not the
 * base one, which would not know the thread and deadlock in its barrier).
 */
#include "vlc/root/root.h"

#include "common/real.h"

#include <dlfcn.h>
#include <errno.h>
#include <pthread.h>
#include <stdlib.h>
#include <sys/syscall.h>
#include <unistd.h>

#define VR_MAX_THREADS 4096

/* Thread-pointer offset of corun_route_table (0: no route) and the context's routing table. */
static _Atomic long route_tpoff;
static _Atomic(void *) route_table;

VR_API void corun_vlc_root_set_route(long tpoff, void *table)
{
    atomic_store(&route_table, table);
    atomic_store(&route_tpoff, table ? tpoff : 0);
}

static void route_inherit(void)
{
    long off = atomic_load(&route_tpoff);
    void *table = atomic_load(&route_table);
    if (!off || !table)
        return;
    char *tp;
    __asm__("mov %%fs:0, %0" : "=r"(tp));
    *(void **)(tp + off) = table;
}

void vr_route_reset(void)
{
    corun_vlc_root_set_route(0, NULL);
}

static pthread_mutex_t reg_lock = PTHREAD_MUTEX_INITIALIZER;
static pid_t reg_tids[VR_MAX_THREADS];
static int reg_count;
static long started_total;

/* Register and pin under the lock that vr_threads_repin holds: a thread either registers before a
 * reconfiguration's re-pin (and is re-pinned) or after it (and reads the new configuration). */
static void reg_add_and_pin(pid_t tid)
{
    pthread_mutex_lock(&reg_lock);
    struct vr_cfg *c = vr_cfg();
    if (c)
        vr_pin_self(c);
    if (reg_count < VR_MAX_THREADS)
        reg_tids[reg_count++] = tid;
    started_total++;
    pthread_mutex_unlock(&reg_lock);
}

static void reg_remove(void *arg)
{
    pid_t tid = (pid_t)(long)arg;
    pthread_mutex_lock(&reg_lock);
    for (int i = 0; i < reg_count; i++)
        if (reg_tids[i] == tid) {
            reg_tids[i] = reg_tids[--reg_count];
            break;
        }
    pthread_mutex_unlock(&reg_lock);
}

void vr_threads_repin(const struct vr_cfg *c)
{
    pthread_mutex_lock(&reg_lock);
    for (int i = 0; i < reg_count; i++)
        syscall(SYS_sched_setaffinity, reg_tids[i], sizeof c->set, &c->set);
    pthread_mutex_unlock(&reg_lock);
}

/* Live threads started in this namespace (and, in *total, all ever started); tids up to cap. */
VR_API int corun_vlc_root_threads(int *tids, int cap, long *total)
{
    pthread_mutex_lock(&reg_lock);
    int n = reg_count;
    for (int i = 0; i < n && i < cap; i++)
        tids[i] = reg_tids[i];
    if (total)
        *total = started_total;
    pthread_mutex_unlock(&reg_lock);
    return n;
}

void vr_threads_reset(void)
{
    pthread_mutex_lock(&reg_lock);
    started_total = 0;
    pthread_mutex_unlock(&reg_lock);
}

struct start {
    void *(*fn)(void *);
    void *arg;
};

static void thread_end(void *arg)
{
    vr_tsd_thread_exit();
    reg_remove(arg);
}

static void *start_pinned(void *p)
{
    struct start s = *(struct start *)p;
    free(p);
    pid_t tid = (pid_t)syscall(SYS_gettid);
    reg_add_and_pin(tid);
    route_inherit();
    void *ret;
    pthread_cleanup_push(thread_end, (void *)(long)tid);
    ret = s.fn(s.arg);
    pthread_cleanup_pop(1);
    return ret;
}

VR_API int pthread_create(pthread_t *th, const pthread_attr_t *attr, void *(*fn)(void *), void *arg)
{
    struct start *s = malloc(sizeof *s);
    if (!s)
        return EAGAIN;
    s->fn = fn;
    s->arg = arg;
    int r = REAL_V(pthread_create, "GLIBC_2.34")(th, attr, start_pinned, s);
    if (r)
        free(s);
    return r;
}

VR_API void *dlopen(const char *file, int mode)
{
    return REAL_V(dlopen, "GLIBC_2.34")(file, mode & ~RTLD_GLOBAL);
}
