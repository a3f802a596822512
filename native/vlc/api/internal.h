/* internal.h — the context object behind corun/vlc.h.
 *
 * Invariant: a context's namespace holds the root object first, configured with the context's CPUs
 * BEFORE any library is loaded into it, so library constructors (which size thread pools) already
 * see the virtual view. `lock` guards every field below it; `inside` counts threads between enter
 * and leave, and destroy refuses while it is non-zero.
 */
#ifndef CORUN_VLC_API_INTERNAL_H
#define CORUN_VLC_API_INTERNAL_H

#include "include/corun/vlc.h"

#include <dlfcn.h>
#include <pthread.h>
#include <sched.h>
#include <stdatomic.h>

#define API __attribute__((visibility("default")))

/* A linker namespace headed by the root object, and the root's entry points. */
struct vlc_ns {
    Lmid_t lmid;
    void *root;                         /* root handle; NULL for a service context */
    int base_objects;                   /* objects in the namespace right after creation */
    int (*configure)(const void *, size_t);
    int (*setenv)(const char *, const char *);
    const char *(*getenv)(const char *);
    int (*threads)(int *, int, long *);
    void (*reset)(char *const *);
    void (*ctype_init)(void);           /* the namespace libc's per-thread locale tables */
};

struct corun_vlc {
    unsigned flags;
    atomic_int inside;
    pthread_mutex_t lock;
    struct vlc_ns ns;
    cpu_set_t cpus;
    void **libs;                        /* one entry per successful load, for dlclose */
    int nlibs, caplibs;
};

/* Record a failure for corun_vlc_error() and return code. */
int vlc_fail(int code, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
/* A namespace for a new context: a pooled one (reset to the process environment) or a new one.
 * Returns 0 or a CORUN_VLC_E* code (ELIMIT names the limit and the fix). */
int vlc_ns_acquire(struct vlc_ns *ns);
/* Give back a namespace whose libraries have been dlclose()d: pooled when nothing but the root and
 * its dependencies is left in it (so the next context still gets fresh library instances), else
 * unloaded. Pooling matters because glibc reclaims a namespace's static TLS only when it is the
 * most recently allocated block: closing contexts in any other order would leak that space and
 * lower the namespace limit for the rest of the process. */
void vlc_ns_release(struct vlc_ns *ns);
int vlc_ns_alive(void);
/* Load a private file copy of a library (CORUN_VLC_COPY contexts, copy.c). */
void *vlc_copy_load(corun_vlc *v, const char *name);
int vlc_is_limit_error(const char *msg);
/* The CPUs this process may run on now (the real affinity of the base namespace). */
int vlc_process_cpus(cpu_set_t *out);

#endif
