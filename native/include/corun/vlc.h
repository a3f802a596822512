/* corun/vlc.h — Virtual Library Contexts for C and C++ (link with -lcorun_vlc; no Python needed).
 *
 * A context (corun_vlc) is a linker namespace of its own: every library loaded into it is a separate
 * instance (own static state, own thread pool), even if the same file is loaded elsewhere in the
 * process. Inside it, libraries see only the context's CPUs (sched_getaffinity, sysconf, get_nprocs,
 * /proc/cpuinfo, /proc/self/status, /sys/devices/system/cpu/{online,possible,present}) and the
 * context's environment; threads they create are pinned to the context's CPUs.
 *
 *     corun_vlc *v = corun_vlc_create(0);
 *     corun_vlc_set_cpus(v, "0-3");                       // before loading: pools are sized at load
 *     corun_vlc_setenv(v, "OPENBLAS_NUM_THREADS", "4");
 *     void *blas = corun_vlc_load(v, "libopenblas.so.0");
 *     void (*dgemm)(...) = corun_vlc_sym(v, blas, "cblas_dgemm");
 *     corun_vlc_enter(v);  dgemm(...);  corun_vlc_leave(); // the caller runs on the context's CPUs
 *     corun_vlc_destroy(v);
 *
 * Functions returning int return 0 on success or a negative CORUN_VLC_E* code; functions returning
 * pointers return NULL on failure. corun_vlc_error() then describes the failure (per thread).
 * All functions are thread-safe; enter/leave act on the calling thread only.
 */
#ifndef CORUN_VLC_H
#define CORUN_VLC_H

#include <stddef.h>

#ifdef __cplusplus
extern "C" {
#endif

typedef struct corun_vlc corun_vlc;

enum {
    CORUN_VLC_EINVAL = -1,   /* bad argument (malformed CPU list, NULL, ...) */
    CORUN_VLC_ECPU = -2,     /* a CPU outside this process's allowed set */
    CORUN_VLC_ELIMIT = -3,   /* no linker namespace left (see corun_vlc_error for the fix) */
    CORUN_VLC_ENOTFOUND = -4, /* library not found or not loadable */
    CORUN_VLC_ENOSYM = -5,   /* symbol not found */
    CORUN_VLC_EBUSY = -6,    /* destroy while threads are inside */
    CORUN_VLC_ESTATE = -7,   /* operation not valid now (leave without enter, depth exceeded, ...) */
    CORUN_VLC_ENOMEM = -8,
};

/* Flags of corun_vlc_create. */
#define CORUN_VLC_SERVICE 1u  /* no namespace: libraries are shared from the base namespace */
#define CORUN_VLC_COPY 2u     /* no namespace: each load is a private file copy of the library, loaded
                                 RTLD_DEEPBIND while the caller is pinned to the context's CPUs
                                 (own instance, pools sized from that affinity; nothing else is
                                 virtualized, dependencies are shared). For beyond the namespace limit. */
/* Flags of corun_vlc_enter_flags. */
#define CORUN_VLC_NOPIN 1u    /* mark the thread as inside without changing its affinity */

/* New context on all CPUs this process may use. NULL on failure (e.g. CORUN_VLC_ELIMIT). */
corun_vlc *corun_vlc_create(unsigned flags);
/* Create up to n namespaces ahead of time (the paper's "initialize"), so that later creates take
 * one from the pool (~15 us instead of the ~100-200 us glibc needs to load a libc copy). Pooled
 * namespaces count against the namespace limit but are handed to the next creates. Returns how
 * many were made, or an error if none could be. */
int corun_vlc_prewarm(int n);
/* Unload the context's libraries and free it. CORUN_VLC_EBUSY while a thread is inside. */
int corun_vlc_destroy(corun_vlc *v);

/* The context's CPUs as a list ("0-3,8") or as a cpu_set_t-style mask of `size` bytes. Every CPU
 * must be in the process's allowed set. Threads already started in the context are re-pinned. */
int corun_vlc_set_cpus(corun_vlc *v, const char *cpulist);
int corun_vlc_set_cpumask(corun_vlc *v, const void *mask, size_t size);
/* Copy the context's CPUs into mask (size bytes); returns their number or an error. */
int corun_vlc_get_cpumask(corun_vlc *v, void *mask, size_t size);

/* The context's own environment (read by libraries inside, typically when they load). */
int corun_vlc_setenv(corun_vlc *v, const char *name, const char *value);
int corun_vlc_unsetenv(corun_vlc *v, const char *name);
const char *corun_vlc_getenv(corun_vlc *v, const char *name);

/* Load a library (name searched like dlopen, or path) into the context: a handle for corun_vlc_sym
 * and dlsym/dlinfo. Loading the same library twice in one context returns the same instance. */
void *corun_vlc_load(corun_vlc *v, const char *name_or_path);
void *corun_vlc_sym(corun_vlc *v, void *lib, const char *name);

/* Enter the context on the calling thread: its affinity becomes the context's CPUs until the
 * matching leave restores it. Nestable (also across contexts) up to 32 deep. */
int corun_vlc_enter(corun_vlc *v);
int corun_vlc_enter_flags(corun_vlc *v, unsigned flags);
int corun_vlc_leave(void);
/* Innermost context the calling thread is in, or NULL. */
corun_vlc *corun_vlc_current(void);

/* Linker namespace id (Lmid_t) of the context; 0 for a service context. */
long corun_vlc_lmid(corun_vlc *v);
/* Threads started by libraries of the context that are alive now; tids (up to cap) and, if
 * started is not NULL, how many were started in total. */
int corun_vlc_threads(corun_vlc *v, int *tids, int cap, long *started);
/* Contexts alive in the process now, and linker namespaces in use by them. */
int corun_vlc_count(void);

/* Description of the calling thread's last failure. */
const char *corun_vlc_error(void);

#ifdef __cplusplus
}
#endif
#endif
