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

struct corun_vlc {
    unsigned flags;
    atomic_int inside;
    pthread_mutex_t lock;
    Lmid_t lmid;
    void *root;                         /* root handle; NULL for a service context */
    int (*configure)(const void *, size_t);
    int (*setenv)(const char *, const char *);
    const char *(*getenv)(const char *);
    int (*threads)(int *, int, long *);
    cpu_set_t cpus;
    void **libs;                        /* one entry per successful load, for dlclose */
    int nlibs, caplibs;
};

/* Record a failure for corun_vlc_error() and return code. */
int vlc_fail(int code, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
/* The CPUs this process may run on now (the real affinity of the base namespace). */
int vlc_process_cpus(cpu_set_t *out);

#endif
