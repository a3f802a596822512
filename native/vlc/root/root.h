/* root.h — the namespace root: the first object dlmopen()ed into every VLC linker namespace.
 *
 * Because it is loaded first, the root heads the namespace's global lookup scope, so every library
 * loaded into the namespace afterwards binds its calls to sched_getaffinity, sysconf, get_nprocs,
 * open(/proc/cpuinfo), pthread_create, dlopen, ... to the definitions here instead of to the
 * namespace's own libc copy. Each namespace has its own copy of the root, hence its own state.
 *
 * Invariant: every virtualized answer is computed from ONE immutable configuration snapshot
 * (struct vr_cfg), published with a single atomic pointer store; readers take one acquire load and
 * never lock. Before corun_vlc_root_configure() has run, every wrapper passes straight through to
 * the real function. Old snapshots are never freed (configurations change rarely; a reader may
 * still hold one).
 */
#ifndef CORUN_VLC_ROOT_H
#define CORUN_VLC_ROOT_H

#include <sched.h>
#include <stdatomic.h>
#include <stddef.h>
#include <sys/types.h>

#define VR_API __attribute__((visibility("default")))

/* A memfd kept open with a virtual file's text; opens re-open it through /proc/self/fd (a new
 * file description per open, ~ the cost of a real open) after checking, by inode, that the
 * descriptor still is ours (the program may have closed it and reused the number). */
struct vr_cached {
    _Atomic int fd;      /* -1: none yet */
    _Atomic unsigned long ino;
};

struct vr_cfg {
    cpu_set_t set;      /* the context's CPUs (real CPU numbers) */
    int ncpus;          /* CPU_COUNT(&set) */
    int max_cpu;        /* highest CPU in set */
    char list[1024];    /* "0-3,8\n": contents of the virtual /sys/devices/system/cpu/{online,...} */
    _Atomic(char *) cpuinfo; /* /proc/cpuinfo restricted to the context's processors, built on
                                first open (reading the real file costs ~40 us) */
    struct vr_cached cache[2]; /* memfds holding the cpuinfo / cpulist text, see files.c */
};

extern _Atomic(struct vr_cfg *) vr_current;

static inline struct vr_cfg *vr_cfg(void)
{
    return atomic_load_explicit(&vr_current, memory_order_acquire);
}

/* True when pid names this process or one of its threads (0 = caller). */
int vr_pid_is_ours(pid_t pid);
/* Pin the calling thread (raw syscall) to the context's CPUs. */
void vr_pin_self(const struct vr_cfg *c);
/* Threads started through the wrapped pthread_create, for re-pinning and reporting. */
void vr_threads_repin(const struct vr_cfg *c);
/* The context's /proc/cpuinfo text (NUL-terminated), or NULL when out of memory. */
const char *vr_cpuinfo(struct vr_cfg *c);
/* Run the namespace's thread-specific data destructors for the calling thread (keys.c). */
void vr_tsd_thread_exit(void);
/* Forget the routing table of a routed Python context (thread.c). */
void vr_route_reset(void);
/* Forget the count of threads started (for a namespace reused by a new context). */
void vr_threads_reset(void);
/* Write len bytes to a fresh memfd positioned at 0; returns the fd or -1 (errno set). */
int vr_memfd(const char *name, const char *data, size_t len, int cloexec);
/* Read a whole file with the real open/read into a malloc()ed NUL-terminated buffer. */
char *vr_slurp(const char *path, size_t *len);

#endif
