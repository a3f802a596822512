/* thread.c — thread creation, exit, join, detach, cancel and kill.
 *
 * Intercepts: pthread_create, pthread_exit, pthread_join, pthread_tryjoin_np,
 *             pthread_timedjoin_np, pthread_clockjoin_np, pthread_detach, pthread_cancel,
 *             pthread_kill, pthread_getattr_np.
 *
 * Invariants:
 *  - Every thread started through pthread_create runs its start routine inside a trampoline that
 *    calls cr_thread_begin() first (the thread registers and waits for its first core) and
 *    cr_thread_end() when it ends for real (its routine returns, it calls pthread_exit or is
 *    cancelled: a cleanup handler pushed around the start routine). The routine's argument and
 *    return value (and the value given to pthread_exit) are passed through untouched; the start
 *    record is malloc'ed by the creator and freed by the new thread before the routine runs.
 *  - A thread created by a managed thread with no stack of the program's own is a *carrier* of
 *    the thread cache (thread_cache.c): a later pthread_create may run on it once its routine
 *    ended and it was joined or detached. Joins, detach, cancel, kill and getattr on the
 *    pthread_t of a carrier are answered by the cache until the carrier ends for real; then,
 *    and for every other thread, by glibc. A carrier is always created joinable (a detached
 *    logical thread is the cache's bookkeeping).
 *  - The thread attributes keep everything a program can observe of a fresh thread (detach
 *    state, stack address or size, guard size, scope, signal mask) but lose a CPU set and
 *    explicit scheduling (policy, priority): the scheduler pins threads itself, and glibc would
 *    otherwise make the new thread wait, with all signals blocked, for its creator to apply them.
 *    The CPU set becomes the thread's affinity hint (cr_affinity_set) right after
 *    cr_thread_begin(); for a thread corun does not manage it is applied for real instead. A
 *    signal mask in the attributes is filtered with cr_sigmask_filter(). Attributes without
 *    any of the three are passed on unchanged. Without a CPU set in the attributes, a thread
 *    created by a managed thread gets its creator's view (cr_affinity_get) as its hint, as a
 *    thread inherits its creator's affinity without corun.
 *  - The main thread has no trampoline: pthread_exit from it calls cr_thread_end() first and
 *    tells the cache that idle carriers must not keep the process alive.
 *  - Joins: a managed thread first tries pthread_tryjoin_np; anything but EBUSY (0, EINVAL,
 *    ESRCH) is final and is what the join would return at that moment; on EBUSY it releases its
 *    core around the real join (EDEADLK for a self-join comes from there). Joins are cancellation
 *    points; a cleanup handler gives a cancelled joiner its core back.
 *  - A registry maps each live pthread_t (threads started here, and the main thread) to its
 *    kernel tid, for pthread_{get,set}affinity_np on other threads (affinity.c). Its nodes live
 *    in the threads' own TLS; after fork the child keeps only the forking thread.
 */
#include "intercept/affinity.h"
#include "intercept/intercept.h"
#include "intercept/thread_cache.h"
#include "common/sys.h"

#include <sched.h>
#include <signal.h>
#include <stdatomic.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

/* ---- pthread_t -> tid registry ------------------------------------------------------------ */

struct reg_node {
    pthread_t self;
    pid_t tid;
    bool linked;
    bool trampoline; /* started through our trampoline (its cleanup handler ends it) */
    struct reg_node *next;
};

#define REG_BUCKETS 1024u
static struct reg_node *reg_table[REG_BUCKETS];
static atomic_flag reg_lock = ATOMIC_FLAG_INIT;
static __thread struct reg_node reg_self;

static inline unsigned reg_hash(pthread_t th)
{
    uintptr_t x = (uintptr_t)th;
    x ^= x >> 21;
    x *= 0x9e3779b97f4a7c15ull;
    return (unsigned)(x >> 40) & (REG_BUCKETS - 1);
}

static inline void reg_acquire(void)
{
    while (atomic_flag_test_and_set_explicit(&reg_lock, memory_order_acquire))
        cr_cpu_relax();
}

static inline void reg_release(void)
{
    atomic_flag_clear_explicit(&reg_lock, memory_order_release);
}

/* Unlink whatever node holds `self` (a stale one after fork or stack reuse included). */
static void reg_unlink_locked(pthread_t self)
{
    struct reg_node **pp = &reg_table[reg_hash(self)];
    while (*pp) {
        if (pthread_equal((*pp)->self, self)) {
            (*pp)->linked = false;
            *pp = (*pp)->next;
        } else {
            pp = &(*pp)->next;
        }
    }
}

static void reg_add_self(bool trampoline)
{
    struct reg_node *n = &reg_self;
    n->self = pthread_self();
    n->tid = gettid();
    n->trampoline = trampoline;
    reg_acquire();
    reg_unlink_locked(n->self);
    unsigned h = reg_hash(n->self);
    n->next = reg_table[h];
    reg_table[h] = n;
    n->linked = true;
    reg_release();
}

static void reg_remove_self(void)
{
    struct reg_node *n = &reg_self;
    if (!n->linked)
        return;
    reg_acquire();
    if (n->linked)
        reg_unlink_locked(n->self);
    reg_release();
}

pid_t cr_tid_of(pthread_t th)
{
    if (pthread_equal(th, pthread_self()))
        return 0;
    pid_t tid = -1;
    reg_acquire();
    for (struct reg_node *n = reg_table[reg_hash(th)]; n; n = n->next)
        if (pthread_equal(n->self, th)) {
            tid = n->tid;
            break;
        }
    reg_release();
    return tid;
}

static void reg_atfork_prepare(void) { reg_acquire(); }
static void reg_atfork_parent(void) { reg_release(); }
static void reg_atfork_child(void)
{
    /* Only the forking thread exists in the child; other nodes live in stacks glibc will reuse. */
    memset(reg_table, 0, sizeof reg_table);
    bool was = reg_self.linked;
    reg_self.linked = false;
    reg_release();
    if (was)
        reg_add_self(reg_self.trampoline);
}

__attribute__((constructor)) static void reg_init(void)
{
    pthread_atfork(reg_atfork_prepare, reg_atfork_parent, reg_atfork_child);
    if (getpid() == gettid())
        reg_add_self(false);
}

/* ---- creation ------------------------------------------------------------------------------ */

void cr_thread_finish(void)
{
    reg_remove_self();
    cr_thread_end();
}

static void thread_finish_cleanup(void *unused)
{
    (void)unused;
    cr_thread_finish();
}

void cr_thread_apply_hint(const struct cr_start *st)
{
    if (st->hint_size) {
        if (!cr_affinity_hint(0, st->hint_size, (const cpu_set_t *)st->hint) && st->hint_is_attr)
            REAL(sched_setaffinity)(0, st->hint_size, (const cpu_set_t *)st->hint);
    }
}

static void *cr_trampoline(void *p)
{
    struct cr_start *st = p;
    cr_thread_begin();
    reg_add_self(true);
    if (st->pooled)
        return cr_tcache_carrier_main(st);

    void *(*fn)(void *) = st->fn;
    void *arg = st->arg;
    cr_thread_apply_hint(st);
    free(st);

    void *ret;
    pthread_cleanup_push(thread_finish_cleanup, NULL);
    ret = fn(arg);
    pthread_cleanup_pop(0);
    cr_thread_finish();
    return ret;
}

/* Reads the CPU set of `attr` into a malloc'ed buffer. Returns its size, 0 when the attributes
 * carry none (glibc then reports a set with every bit on). */
static size_t attr_cpuset(const pthread_attr_t *attr, unsigned char **out)
{
    for (size_t sz = 128; sz <= 65536; sz *= 8) {
        unsigned char *buf = malloc(sz);
        if (!buf)
            return 0;
        if (pthread_attr_getaffinity_np(attr, sz, (cpu_set_t *)buf) == 0) {
            size_t i = 0;
            while (i < sz && buf[i] == 0xff)
                i++;
            if (i == sz) {
                free(buf);
                return 0;
            }
            *out = buf;
            return sz;
        }
        free(buf);
    }
    return 0;
}

/* Builds in `out` a copy of `in` without CPU set and explicit scheduling, and with a filtered
 * signal mask (and joinable when `joinable`, for a carrier). Returns 1 if `out` was built (caller destroys it), 0 if `in` can be used as is. */
static int attr_rewrite(const pthread_attr_t *in, pthread_attr_t *out, unsigned char **cpus, size_t *ncpus,
                        bool joinable)
{
    int inherit = PTHREAD_INHERIT_SCHED;
    pthread_attr_getinheritsched(in, &inherit);
    *ncpus = attr_cpuset(in, cpus);
    sigset_t mask, filt;
    bool has_mask = pthread_attr_getsigmask_np(in, &mask) == 0;
    bool mask_changes = false;
    if (has_mask) {
        filt = mask;
        cr_sigmask_filter(&filt);
        mask_changes = memcmp(&filt, &mask, sizeof mask) != 0;
    }
    int detach = PTHREAD_CREATE_JOINABLE;
    pthread_attr_getdetachstate(in, &detach);
    bool detach_changes = joinable && detach == PTHREAD_CREATE_DETACHED;
    if (inherit != PTHREAD_EXPLICIT_SCHED && *ncpus == 0 && !mask_changes && !detach_changes)
        return 0;

    pthread_attr_t fresh;
    if (pthread_attr_init(out) != 0 || pthread_attr_init(&fresh) != 0)
        return 0; /* cannot happen with glibc; fall back to the caller's attributes */
    int v;
    size_t s, fs;
    if (pthread_attr_getdetachstate(in, &v) == 0)
        pthread_attr_setdetachstate(out, joinable ? PTHREAD_CREATE_JOINABLE : v);
    if (pthread_attr_getscope(in, &v) == 0)
        pthread_attr_setscope(out, v);
    if (pthread_attr_getguardsize(in, &s) == 0)
        pthread_attr_setguardsize(out, s);
    /* glibc reports stack = address - size; with no stack of the program's own, address is 0. */
    void *lo = NULL;
    if (pthread_attr_getstack(in, &lo, &s) == 0 && (uintptr_t)lo + s != 0) {
        pthread_attr_setstack(out, lo, s);
    } else if (pthread_attr_getstacksize(in, &s) == 0 && pthread_attr_getstacksize(&fresh, &fs) == 0 &&
               s != fs) {
        pthread_attr_setstacksize(out, s);
    }
    if (has_mask)
        pthread_attr_setsigmask_np(out, &filt);
    pthread_attr_destroy(&fresh);
    return 1;
}

CR_EXPORT int pthread_create(pthread_t *restrict th, const pthread_attr_t *restrict attr,
                             void *(*fn)(void *), void *restrict arg)
{
    struct cr_start probe;
    cr_tcache_classify(attr, &probe);

    unsigned char *cpus = NULL;
    size_t ncpus = 0;
    pthread_attr_t copy;
    int rewritten = attr ? attr_rewrite(attr, &copy, &cpus, &ncpus, probe.pooled) : 0;
    bool from_attr = ncpus != 0;
    if (!ncpus && cr_hints_used() && cr_thread_managed()) {
        /* Without corun the new thread would inherit its creator's affinity: pass on the set
         * the creator sees (its hint, or the inherited set). Until some hint was set, every
         * thread sees the same default set and there is nothing to pass on. */
        size_t k = cr_kernel_mask_bytes();
        if (k && (cpus = malloc(k)) != NULL) {
            if (cr_affinity_get(0, k, (cpu_set_t *)cpus))
                ncpus = k;
            else {
                free(cpus);
                cpus = NULL;
            }
        }
    }

    struct cr_start *st = malloc(sizeof *st + ncpus);
    if (!st) {
        if (rewritten)
            pthread_attr_destroy(&copy);
        free(cpus);
        return EAGAIN;
    }
    *st = probe;
    st->fn = fn;
    st->arg = arg;
    st->hint_size = ncpus;
    st->hint_is_attr = from_attr;
    if (ncpus)
        memcpy(st->hint, cpus, ncpus);
    free(cpus);

    int saved = errno;
    int r = 0;
    if (!cr_tcache_hand_over(st, attr, th)) {
        r = REAL(pthread_create)(th, rewritten ? &copy : attr, cr_trampoline, st);
        if (r != 0)
            free(st);
        else if (probe.pooled)
            cr_tcache_publish(*th, &probe);
    }
    if (rewritten)
        pthread_attr_destroy(&copy);
    errno = saved;
    return r;
}

/* ---- exit ------------------------------------------------------------------------------------ */

CR_EXPORT void pthread_exit(void *ret)
{
    /* Trampoline threads end in their cleanup handler during the unwind; the main thread (or a
     * thread corun never saw start) has no trampoline. */
    if (!reg_self.trampoline) {
        if (cr_getpid() == cr_gettid())
            cr_tcache_main_exit();
        cr_thread_finish();
    }
    REAL(pthread_exit)(ret);
    __builtin_unreachable();
}

/* ---- join ------------------------------------------------------------------------------------ */

/* The thread cache's answer for a join of `t`, or CR_TCACHE_REAL for glibc's. */
static int cache_join(pthread_t t, void **ret, enum cr_join_mode mode, clockid_t clk, const struct timespec *abstime)
{
    struct cr_carrier *c = cr_carrier_of(t);
    return c ? cr_tcache_join(c, t, ret, mode, clk, abstime) : CR_TCACHE_REAL;
}

CR_EXPORT int pthread_join(pthread_t t, void **ret)
{
    int rc = cache_join(t, ret, CR_JOIN_WAIT, CLOCK_REALTIME, NULL);
    if (rc != CR_TCACHE_REAL)
        return rc;
    if (!cr_thread_managed())
        return REAL(pthread_join)(t, ret);
    int r = REAL(pthread_tryjoin_np)(t, ret);
    if (r != EBUSY)
        return r;
    return CR_BLOCKING_CANCEL(REAL(pthread_join)(t, ret));
}

CR_EXPORT int pthread_tryjoin_np(pthread_t t, void **ret)
{
    int rc = cache_join(t, ret, CR_JOIN_TRY, CLOCK_REALTIME, NULL);
    if (rc != CR_TCACHE_REAL)
        return rc;
    return REAL(pthread_tryjoin_np)(t, ret);
}

CR_EXPORT int pthread_timedjoin_np(pthread_t t, void **ret, const struct timespec *abstime)
{
    int rc = cache_join(t, ret, abstime ? CR_JOIN_CLOCK : CR_JOIN_WAIT, CLOCK_REALTIME, abstime);
    if (rc != CR_TCACHE_REAL)
        return rc;
    if (!cr_thread_managed() || (abstime && !cr_ts_ok(abstime)))
        return REAL(pthread_timedjoin_np)(t, ret, abstime);
    int r = REAL(pthread_tryjoin_np)(t, ret);
    if (r != EBUSY)
        return r;
    return CR_BLOCKING_CANCEL(REAL(pthread_timedjoin_np)(t, ret, abstime));
}

CR_EXPORT int pthread_clockjoin_np(pthread_t t, void **ret, clockid_t clk, const struct timespec *abstime)
{
    int rc = cache_join(t, ret, abstime ? CR_JOIN_CLOCK : CR_JOIN_WAIT, clk, abstime);
    if (rc != CR_TCACHE_REAL)
        return rc;
    if (!cr_thread_managed() || !cr_clock_ok(clk) || (abstime && !cr_ts_ok(abstime)))
        return REAL(pthread_clockjoin_np)(t, ret, clk, abstime);
    int r = REAL(pthread_tryjoin_np)(t, ret);
    if (r != EBUSY)
        return r;
    return CR_BLOCKING_CANCEL(REAL(pthread_clockjoin_np)(t, ret, clk, abstime));
}

/* ---- detach, cancel, kill, attributes ---------------------------------------------------------- */

CR_EXPORT int pthread_detach(pthread_t t)
{
    struct cr_carrier *c = cr_carrier_of(t);
    int r = c ? cr_tcache_detach(c, t) : CR_TCACHE_REAL;
    return r != CR_TCACHE_REAL ? r : REAL(pthread_detach)(t);
}

CR_EXPORT int pthread_cancel(pthread_t t)
{
    struct cr_carrier *c = cr_carrier_of(t);
    int r = c ? cr_tcache_cancel(c, t) : CR_TCACHE_REAL;
    return r != CR_TCACHE_REAL ? r : REAL(pthread_cancel)(t);
}

CR_EXPORT int pthread_kill(pthread_t t, int sig)
{
    struct cr_carrier *c = cr_carrier_of(t);
    int r = c ? cr_tcache_kill(c, t, sig) : CR_TCACHE_REAL;
    return r != CR_TCACHE_REAL ? r : REAL(pthread_kill)(t, sig);
}

CR_EXPORT int pthread_getattr_np(pthread_t t, pthread_attr_t *attr)
{
    int r = REAL(pthread_getattr_np)(t, attr);
    struct cr_carrier *c;
    if (r == 0 && (c = cr_carrier_of(t)) != NULL && cr_tcache_detached(c, t))
        pthread_attr_setdetachstate(attr, PTHREAD_CREATE_DETACHED);
    return r;
}
