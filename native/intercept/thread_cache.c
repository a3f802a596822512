/* thread_cache.c — reuse of finished threads for later pthread_create calls (USF paper 4.3.1).
 *
 * Intercepts: pthread_key_create, __pthread_key_create, pthread_key_delete (destructors are
 *             recorded, the keys stay glibc's), __cxa_thread_atexit_impl (C++ thread_local
 *             destructors of a logical thread are kept by the carrier).
 * Serves thread.c's pthread_join/tryjoin/timedjoin/clockjoin, pthread_detach, pthread_cancel,
 * pthread_kill and pthread_getattr_np for the pthread_t of a carrier (thread_cache.h).
 *
 * A thread that pthread_create starts for a managed creator is a *carrier*: after its start
 * routine (a *logical thread*) returns, it does what glibc does for a thread that ends, puts itself
 * back into the state of a fresh thread, and waits for the next pthread_create with the same
 * stack and guard sizes. Creating a thread then costs a futex wake instead of a clone, an mmap and
 * a registration with the scheduler; BLIS's pthread build creates threads on every call.
 *
 * Invariants:
 *  - A carrier is in one state, read and written under pool_lock:
 *      RUNNING  a logical thread runs, or a job was handed over and the carrier is waking up;
 *      DONE     the routine returned and the thread was cleaned up; its joinable logical thread
 *               waits for its join (retval holds the result);
 *      IDLE     on the idle stack, waiting for a job; RETIRE: told to end (cache full);
 *      EXITING  the carrier ends for real (pthread_exit or cancellation of the logical thread,
 *               a thread that cannot be recycled, idle timeout): from then on glibc answers for
 *               its pthread_t (a real join gets the result; a detached logical thread makes the
 *               carrier detach itself).
 *    A carrier returns to the idle stack only after its logical thread was joined or detached:
 *    until then its pthread_t names that logical thread. Every change of state bumps the
 *    carrier's futex word `gen`, on which the carrier and its joiner wait.
 *  - Cleaning up, in glibc's order: C++ thread_local destructors, then TSD destructors (up to
 *    PTHREAD_DESTRUCTOR_ITERATIONS rounds), then every key reads NULL. Then the TLS block of every
 *    module is reset to its initial image (dl_iterate_phdr gives the calling thread's block),
 *    except libc's, ld.so's, libstdc++'s, libgcc_s's and corun's: their per-thread state is private
 *    bookkeeping that is at rest between two routines (malloc's thread cache, the exception
 *    globals) or must survive (the scheduler's). errno, locale, dlerror, the alternate signal stack
 *    and cancellation state/type are reset through their public interfaces. Between two routines
 *    every signal but the scheduler's own is blocked.
 *  - A logical thread that was cancelled, still holds a robust mutex, or changed its scheduling
 *    policy or nice value is not recycled: its carrier ends for real, as the thread would.
 *  - A job brings the creator's signal mask (or the attributes'), the creator's name and the
 *    affinity hint a fresh thread would get (thread.c builds it as for a new thread).
 *  - Idle carriers end after idle_ms() ($CORUN_THREAD_CACHE_IDLE_MS, default 5 s); at most
 *    max_idle() are kept ($CORUN_THREAD_CACHE, 0 turns the cache off). None are kept once the main thread called
 *    pthread_exit (or in a fork child of a carrier): the process ends with its last logical thread.
 */
#include "intercept/thread_cache.h"
#include "intercept/intercept.h"
#include "common/env.h"
#include "common/sys.h"

#include <dlfcn.h>
#include <limits.h>
#include <link.h>
#include <linux/futex.h>
#include <locale.h>
#include <sched.h>
#include <stdatomic.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <sys/prctl.h>
#include <sys/resource.h>
#include <sys/syscall.h>

#define CR_TCACHE_IDLE_MS 5000
#define CR_TCACHE_DEFAULT_MAX_IDLE 64
#define CARRIER_MAGIC 0x63617272u /* "carr" */
#define CARRIER_PUBLISHED 1u
#define CARRIER_AWAITED 2u

enum carrier_state { C_RUNNING = 1, C_DONE, C_IDLE, C_RETIRE, C_EXITING };

struct tls_dtor {
    void (*fn)(void *);
    void *obj;
    void *pin; /* dlopen handle keeping the destructor's object loaded, or NULL */
    struct tls_dtor *next;
};

struct cr_carrier {
    unsigned magic;
    pthread_t self;
    size_t stacksize, guardsize;
    long policy, prio;             /* raw sched_getscheduler / getpriority at carrier start */
    _Atomic uint32_t gen;          /* bumped on every state change; futex word */
    enum carrier_state state;      /* pool_lock */
    bool detached;                 /* pool_lock: the logical thread is detached */
    bool joining;                  /* pool_lock: a joiner waits */
    bool cancel_requested;         /* pool_lock */
    void *retval;                  /* pool_lock, DONE */
    struct cr_start *job;          /* pool_lock: handed over, not yet taken */
    struct cr_carrier *next_idle;  /* pool_lock */
    struct cr_carrier *next_all, *prev_all; /* pool_lock */
    _Atomic uint32_t published;    /* 0, CARRIER_PUBLISHED (creator done), CARRIER_AWAITED */
    bool in_logical;               /* own thread: thread_local destructors are recorded here */
    bool exit_hooked;              /* own thread: glibc runs the records if the carrier exits */
    struct tls_dtor *dtors;        /* own thread, LIFO */
};

static __thread struct cr_carrier tc_self;
static pthread_mutex_t pool_lock = PTHREAD_MUTEX_INITIALIZER;
static struct cr_carrier *idle_top;
static unsigned idle_count;
static struct cr_carrier *all_carriers;
static bool main_exited;

extern void *__dso_handle;

static inline void pool_acquire(void) { REAL(pthread_mutex_lock)(&pool_lock); }
static inline void pool_release(void) { REAL(pthread_mutex_unlock)(&pool_lock); }

/* Knobs, read once (the launcher validated them; a hand-set bad value falls back to the default). */
static int max_idle(void)
{
    static atomic_int cached = -1;
    int v = atomic_load_explicit(&cached, memory_order_relaxed);
    if (v < 0)
        atomic_store_explicit(&cached, v = (int)cr_env_uint("CORUN_THREAD_CACHE", CR_TCACHE_DEFAULT_MAX_IDLE, 0, 100000),
                              memory_order_relaxed);
    return v;
}

static int idle_ms(void)
{
    static atomic_int cached = -1;
    int v = atomic_load_explicit(&cached, memory_order_relaxed);
    if (v < 0)
        atomic_store_explicit(&cached, v = (int)cr_env_uint("CORUN_THREAD_CACHE_IDLE_MS", CR_TCACHE_IDLE_MS, 0, 3600000),
                              memory_order_relaxed);
    return v;
}

static inline bool carrier_valid(const struct cr_carrier *c, pthread_t th)
{
    return c->magic == CARRIER_MAGIC && pthread_equal(c->self, th);
}

/* Changes state and wakes whoever waits on the carrier (caller holds pool_lock). Waiters: the
 * carrier itself while DONE or IDLE, for a job (RUNNING) or to end (RETIRE); a joiner while
 * c->joining. No futex call when nobody can be waiting (a detached thread's end, a join that
 * comes later). */
static void set_state(struct cr_carrier *c, enum carrier_state s)
{
    c->state = s;
    atomic_fetch_add_explicit(&c->gen, 1, memory_order_release);
    if (s == C_RUNNING || s == C_RETIRE || c->joining)
        cr_syscall6(SYS_futex, (long)&c->gen, FUTEX_WAKE_PRIVATE, INT_MAX, 0, 0, 0);
}

static void idle_unlink(struct cr_carrier *c)
{
    for (struct cr_carrier **pp = &idle_top; *pp; pp = &(*pp)->next_idle)
        if (*pp == c) {
            *pp = c->next_idle;
            idle_count--;
            return;
        }
}

static void all_unlink(struct cr_carrier *c)
{
    if (c->prev_all)
        c->prev_all->next_all = c->next_all;
    else if (all_carriers == c)
        all_carriers = c->next_all;
    if (c->next_all)
        c->next_all->prev_all = c->prev_all;
    c->next_all = c->prev_all = NULL;
}

/* The logical thread was joined or detached after it ended: back to the idle stack. */
static void make_idle(struct cr_carrier *c)
{
    if (main_exited || idle_count >= (unsigned)max_idle()) {
        set_state(c, C_RETIRE);
        return;
    }
    c->next_idle = idle_top;
    idle_top = c;
    idle_count++;
    set_state(c, C_IDLE);
}

/* Waits until c->gen moves on from `seen` (or `rel` elapses: returns -ETIMEDOUT). Gives the core
 * away meanwhile; with `cancellable`, a pending or arriving cancellation acts here. */
static long wait_gen(struct cr_carrier *c, uint32_t seen, const struct timespec *rel, bool cancellable)
{
    long r;
    cr_block_begin();
    if (cancellable) {
        int old;
        pthread_cleanup_push(cr_cancel_block_end, NULL);
        pthread_setcanceltype(PTHREAD_CANCEL_ASYNCHRONOUS, &old);
        r = cr_syscall6(SYS_futex, (long)&c->gen, FUTEX_WAIT_PRIVATE, seen, (long)rel, 0, 0);
        pthread_setcanceltype(old, NULL);
        pthread_cleanup_pop(0);
    } else {
        r = cr_syscall6(SYS_futex, (long)&c->gen, FUTEX_WAIT_PRIVATE, seen, (long)rel, 0, 0);
    }
    cr_block_end();
    return r;
}

/* ---- finding a carrier ------------------------------------------------------------------------
 * tc_self lives in libcorun's static TLS block, at the same distance from every thread's
 * pthread_t: the carrier of any thread is found without a table, and exists (zeroed, so not a
 * carrier) from the moment glibc allocated the thread, before it runs. */

static ptrdiff_t tc_offset(void)
{
    return (char *)&tc_self - (char *)pthread_self();
}

struct cr_carrier *cr_carrier_of(pthread_t th)
{
    struct cr_carrier *c = (struct cr_carrier *)((char *)th + tc_offset());
    return c->magic == CARRIER_MAGIC ? c : NULL;
}

/* First of the creator and the new thread to get here makes `c` a running carrier. */
static void carrier_claim(struct cr_carrier *c, pthread_t th, const struct cr_start *st)
{
    pool_acquire();
    if (c->magic != CARRIER_MAGIC) {
        c->self = th;
        c->stacksize = st->stacksize;
        c->guardsize = st->guardsize;
        c->state = C_RUNNING;
        c->detached = st->detached;
        c->next_all = all_carriers;
        c->prev_all = NULL;
        if (all_carriers)
            all_carriers->prev_all = c;
        all_carriers = c;
        c->magic = CARRIER_MAGIC;
    }
    pool_release();
}

void cr_tcache_publish(pthread_t th, const struct cr_start *copy)
{
    struct cr_carrier *c = (struct cr_carrier *)((char *)th + tc_offset());
    carrier_claim(c, th, copy);
    if (atomic_exchange(&c->published, CARRIER_PUBLISHED) == CARRIER_AWAITED)
        cr_syscall6(SYS_futex, (long)&c->published, FUTEX_WAKE_PRIVATE, 1, 0, 0, 0);
}

/* A carrier that detaches itself frees its stack (and this TLS) when it ends: it must not end
 * before its creator is done writing here. */
static void wait_published(struct cr_carrier *c)
{
    uint32_t expect = 0;
    if (atomic_compare_exchange_strong(&c->published, &expect, CARRIER_AWAITED) || expect == CARRIER_AWAITED) {
        cr_block_begin();
        while (atomic_load(&c->published) != CARRIER_PUBLISHED)
            cr_syscall6(SYS_futex, (long)&c->published, FUTEX_WAIT_PRIVATE, CARRIER_AWAITED, 0, 0, 0);
        cr_block_end();
    }
}

/* ---- TSD destructors ------------------------------------------------------------------------ */

static void (*_Atomic key_dtor[PTHREAD_KEYS_MAX])(void *);
static _Atomic unsigned char key_live[PTHREAD_KEYS_MAX];
static atomic_uint key_top; /* 1 + the highest key ever created */

static void key_record(pthread_key_t k, void (*dtor)(void *))
{
    if (k >= PTHREAD_KEYS_MAX)
        return;
    atomic_store(&key_dtor[k], dtor);
    atomic_store(&key_live[k], 1);
    unsigned top = atomic_load(&key_top);
    while (top < k + 1 && !atomic_compare_exchange_weak(&key_top, &top, k + 1))
        ;
}

CR_EXPORT int pthread_key_create(pthread_key_t *key, void (*dtor)(void *))
{
    int r = REAL(pthread_key_create)(key, dtor);
    if (r == 0)
        key_record(*key, dtor);
    return r;
}

CR_EXPORT int __pthread_key_create(pthread_key_t *key, void (*dtor)(void *))
{
    return pthread_key_create(key, dtor);
}

CR_EXPORT int pthread_key_delete(pthread_key_t key)
{
    if (key < PTHREAD_KEYS_MAX)
        atomic_store(&key_live[key], 0);
    return REAL(pthread_key_delete)(key);
}

/* One round of destructors, as glibc's thread exit: each non-NULL value is cleared, then its
 * destructor (if any) called. Returns true if a destructor ran. */
static bool tsd_round(void)
{
    bool ran = false;
    unsigned top = atomic_load(&key_top);
    for (unsigned k = 0; k < top; k++) {
        if (!atomic_load_explicit(&key_live[k], memory_order_relaxed))
            continue;
        void *v = pthread_getspecific(k);
        if (!v)
            continue;
        pthread_setspecific(k, NULL);
        void (*d)(void *) = atomic_load_explicit(&key_dtor[k], memory_order_relaxed);
        if (d) {
            d(v);
            ran = true;
        }
    }
    return ran;
}

/* ---- C++ thread_local destructors ----------------------------------------------------------- */

static void run_tls_dtors(struct cr_carrier *c)
{
    while (c->dtors) {
        struct tls_dtor *d = c->dtors;
        c->dtors = d->next;
        d->fn(d->obj);
        if (d->pin)
            dlclose(d->pin);
        free(d);
    }
}

/* Registered once with glibc: runs what is left if the carrier ends for real. */
static void carrier_exit_dtors(void *p)
{
    run_tls_dtors(p);
}

/* Keeps the object that defines `dso_symbol` loaded while its destructor is pending, as glibc
 * does for the destructors it records. */
static void *pin_object(void *dso_symbol)
{
    Dl_info info;
    struct link_map *map = NULL;
    if (!dso_symbol || !dladdr1(dso_symbol, &info, (void **)&map, RTLD_DL_LINKMAP) || !map || !map->l_name ||
        !map->l_name[0])
        return NULL;
    return dlopen(map->l_name, RTLD_LAZY | RTLD_NOLOAD);
}

CR_EXPORT int __cxa_thread_atexit_impl(void (*fn)(void *), void *obj, void *dso_symbol)
{
    struct cr_carrier *c = &tc_self;
    if (c->magic != CARRIER_MAGIC || !c->in_logical)
        return REAL(__cxa_thread_atexit_impl)(fn, obj, dso_symbol);
    if (!c->exit_hooked) {
        if (REAL(__cxa_thread_atexit_impl)(carrier_exit_dtors, c, &__dso_handle) != 0)
            return -1;
        c->exit_hooked = true;
    }
    struct tls_dtor *d = malloc(sizeof *d);
    if (!d)
        return -1;
    d->fn = fn;
    d->obj = obj;
    d->pin = pin_object(dso_symbol);
    d->next = c->dtors;
    c->dtors = d;
    return 0;
}

/* ---- back to a fresh thread ----------------------------------------------------------------- */

/* Modules whose TLS is left alone (see the invariants). */
static bool keeps_own_tls(const char *path)
{
    const char *base = strrchr(path, '/');
    base = base ? base + 1 : path;
    static const char *const keep[] = {"libc.so", "ld-linux", "ld64.so", "libstdc++.so", "libgcc_s.so", "libcorun"};
    for (size_t i = 0; i < sizeof keep / sizeof keep[0]; i++)
        if (strncmp(base, keep[i], strlen(keep[i])) == 0)
            return true;
    return false;
}

static int reset_tls_block(struct dl_phdr_info *info, size_t size, void *unused)
{
    (void)unused;
    if (size < offsetof(struct dl_phdr_info, dlpi_tls_data) + sizeof info->dlpi_tls_data || !info->dlpi_tls_data)
        return 0;
    if (keeps_own_tls(info->dlpi_name ? info->dlpi_name : ""))
        return 0;
    for (int i = 0; i < info->dlpi_phnum; i++) {
        const ElfW(Phdr) *ph = &info->dlpi_phdr[i];
        if (ph->p_type != PT_TLS)
            continue;
        char *block = info->dlpi_tls_data;
        memcpy(block, (const char *)info->dlpi_addr + ph->p_vaddr, ph->p_filesz);
        memset(block + ph->p_filesz, 0, ph->p_memsz - ph->p_filesz);
    }
    return 0;
}

static bool holds_robust_mutex(void)
{
    struct robust_list_head *head = NULL;
    size_t len = 0;
    if (cr_syscall6(SYS_get_robust_list, 0, (long)&head, (long)&len, 0, 0, 0) != 0 || !head)
        return false;
    return head->list.next != &head->list || head->list_op_pending != NULL;
}

static void sched_now(long *policy, long *prio)
{
    *policy = cr_syscall6(SYS_sched_getscheduler, 0, 0, 0, 0, 0, 0);
    *prio = cr_syscall6(SYS_getpriority, PRIO_PROCESS, 0, 0, 0, 0, 0);
    if (*policy != SCHED_OTHER && *policy != SCHED_BATCH && *policy != SCHED_IDLE) {
        struct sched_param p;
        if (cr_syscall6(SYS_sched_getparam, 0, (long)&p, 0, 0, 0, 0) == 0)
            *prio += 1000L * p.sched_priority;
    }
}

/* The routine returned: clean the thread up as glibc would at its end. Returns true if the
 * carrier may run another logical thread. */
static bool finish_logical(struct cr_carrier *c)
{
    run_tls_dtors(c);
    for (int round = 0; round < PTHREAD_DESTRUCTOR_ITERATIONS && tsd_round(); round++)
        ;
    unsigned top = atomic_load(&key_top);
    for (unsigned k = 0; k < top; k++)
        if (pthread_getspecific(k))
            pthread_setspecific(k, NULL);
    run_tls_dtors(c); /* registered by TSD destructors */
    c->in_logical = false;

    long policy, prio;
    sched_now(&policy, &prio);
    if (holds_robust_mutex() || policy != c->policy || prio != c->prio)
        return false;

    /* Between two routines the carrier takes no process-directed signal: an ended thread
     * cannot, and another thread of the program may be the one meant to (sigwait). */
    sigset_t all;
    sigfillset(&all);
    cr_sigmask_filter(&all);
    REAL(pthread_sigmask)(SIG_SETMASK, &all, NULL);
    dl_iterate_phdr(reset_tls_block, NULL);
    stack_t ss;
    if (sigaltstack(NULL, &ss) == 0 && !(ss.ss_flags & SS_DISABLE)) {
        ss.ss_flags = SS_DISABLE;
        sigaltstack(&ss, NULL);
    }
    uselocale(LC_GLOBAL_LOCALE);
    (void)dlerror();
    return true;
}

/* A job starts on a reused carrier: what a fresh thread would inherit from its creator. */
static void start_job(const struct cr_start *st)
{
    sigset_t mask = st->sigmask;
    cr_sigmask_filter(&mask);
    REAL(pthread_sigmask)(SIG_SETMASK, &mask, NULL);
    char name[16] = {0};
    if (prctl(PR_GET_NAME, name) != 0 || strncmp(name, st->name, sizeof name) != 0)
        prctl(PR_SET_NAME, st->name);
    pthread_setcanceltype(PTHREAD_CANCEL_DEFERRED, NULL);
    pthread_setcancelstate(PTHREAD_CANCEL_ENABLE, NULL);
}

/* ---- the carrier ---------------------------------------------------------------------------- */

/* The logical thread left by pthread_exit or cancellation: the carrier ends with it. */
static void carrier_unwound(void *p)
{
    struct cr_carrier *c = p;
    pool_acquire();
    set_state(c, C_EXITING);
    all_unlink(c);
    bool detached = c->detached;
    pool_release();
    if (detached) {
        wait_published(c);
        REAL(pthread_detach)(c->self);
    }
    cr_thread_finish();
}

static void *run_logical(struct cr_carrier *c, void *(*fn)(void *), void *arg)
{
    void *ret;
    int old;
    pthread_cleanup_push(carrier_unwound, c);
    ret = fn(arg);
    pthread_setcancelstate(PTHREAD_CANCEL_DISABLE, &old);
    pthread_cleanup_pop(0);
    return ret;
}

/* Ends the carrier for real (caller holds pool_lock, releases it here). */
static void carrier_end(struct cr_carrier *c)
{
    bool detached = c->detached || c->state == C_IDLE || c->state == C_RETIRE;
    if (c->state == C_IDLE)
        idle_unlink(c);
    set_state(c, C_EXITING);
    all_unlink(c);
    pool_release();
    if (detached) {
        wait_published(c);
        REAL(pthread_detach)(c->self);
    }
    cr_thread_finish();
}

/* After a logical thread: park until the next job. Returns it, or NULL when the carrier ends for
 * real (*result is then what glibc keeps as the thread's result). */
static struct cr_start *carrier_park(struct cr_carrier *c, void *ret, bool recyclable, void **result)
{
    *result = ret;
    pool_acquire();
    if (!recyclable || c->cancel_requested || main_exited) {
        carrier_end(c);
        return NULL;
    }
    if (c->detached) {
        make_idle(c);
    } else {
        c->retval = ret;
        set_state(c, C_DONE);
    }
    struct timespec deadline;
    clock_gettime(CLOCK_MONOTONIC, &deadline);
    long ms = idle_ms();
    deadline.tv_sec += ms / 1000;
    deadline.tv_nsec += (ms % 1000) * 1000000L;
    if (deadline.tv_nsec >= 1000000000L) {
        deadline.tv_sec++;
        deadline.tv_nsec -= 1000000000L;
    }
    for (;;) {
        if (c->state == C_RUNNING)
            break;
        struct timespec now, rel;
        clock_gettime(CLOCK_MONOTONIC, &now);
        bool expired = now.tv_sec > deadline.tv_sec ||
                       (now.tv_sec == deadline.tv_sec && now.tv_nsec >= deadline.tv_nsec);
        if (c->state == C_RETIRE || main_exited || expired) {
            *result = c->retval;
            carrier_end(c);
            return NULL;
        }
        rel.tv_sec = deadline.tv_sec - now.tv_sec;
        rel.tv_nsec = deadline.tv_nsec - now.tv_nsec;
        if (rel.tv_nsec < 0) {
            rel.tv_sec--;
            rel.tv_nsec += 1000000000L;
        }
        uint32_t seen = atomic_load_explicit(&c->gen, memory_order_acquire);
        pool_release();
        wait_gen(c, seen, &rel, false);
        pool_acquire();
    }
    struct cr_start *st = c->job;
    c->job = NULL;
    pool_release();
    return st;
}

void *cr_tcache_carrier_main(struct cr_start *st)
{
    struct cr_carrier *c = &tc_self;
    sched_now(&c->policy, &c->prio);
    carrier_claim(c, pthread_self(), st);

    for (bool reused = false;; reused = true) {
        if (reused)
            start_job(st);
        cr_thread_apply_hint(st);
        void *(*fn)(void *) = st->fn;
        void *arg = st->arg;
        free(st);
        c->in_logical = true;
        errno = 0;
        void *ret = run_logical(c, fn, arg);
        bool recyclable = finish_logical(c);
        void *result;
        st = carrier_park(c, ret, recyclable, &result);
        if (!st)
            return result;
    }
}

/* ---- the creator's side ----------------------------------------------------------------------- */

void cr_tcache_classify(const pthread_attr_t *attr, struct cr_start *st)
{
    st->pooled = false;
    if (max_idle() == 0 || !cr_thread_managed())
        return;
    pthread_attr_t def;
    const pthread_attr_t *a = attr;
    if (!a) {
        if (pthread_getattr_default_np(&def) != 0)
            return;
        a = &def;
    }
    void *lo = NULL;
    size_t s = 0;
    int ds = PTHREAD_CREATE_JOINABLE;
    bool own_stack = pthread_attr_getstack(a, &lo, &s) == 0 && (uintptr_t)lo + s != 0;
    bool ok = !own_stack && pthread_attr_getstacksize(a, &st->stacksize) == 0 &&
              pthread_attr_getguardsize(a, &st->guardsize) == 0 && pthread_attr_getdetachstate(a, &ds) == 0;
    if (!attr)
        pthread_attr_destroy(&def);
    st->detached = ds == PTHREAD_CREATE_DETACHED;
    st->pooled = ok;
}

bool cr_tcache_hand_over(struct cr_start *st, const pthread_attr_t *attr, pthread_t *th)
{
    if (!st->pooled || !__atomic_load_n(&idle_top, __ATOMIC_RELAXED))
        return false;
    /* What a fresh thread would inherit: the attributes' signal mask or the creator's, its name. */
    if (!attr || pthread_attr_getsigmask_np(attr, &st->sigmask) != 0)
        REAL(pthread_sigmask)(SIG_BLOCK, NULL, &st->sigmask);
    memset(st->name, 0, sizeof st->name);
    prctl(PR_GET_NAME, st->name);

    pool_acquire();
    struct cr_carrier **pp = &idle_top, *c;
    for (c = idle_top; c; pp = &c->next_idle, c = c->next_idle)
        if (c->stacksize == st->stacksize && c->guardsize == st->guardsize)
            break;
    if (!c) {
        pool_release();
        return false;
    }
    *pp = c->next_idle;
    idle_count--;
    c->job = st;
    c->detached = st->detached;
    c->joining = false;
    c->cancel_requested = false;
    c->retval = NULL;
    *th = c->self;
    set_state(c, C_RUNNING);
    pool_release();
    return true;
}

void cr_tcache_main_exit(void)
{
    pool_acquire();
    main_exited = true;
    for (struct cr_carrier *c = all_carriers; c; c = c->next_all)
        if (c->state == C_IDLE || c->state == C_DONE) {
            atomic_fetch_add(&c->gen, 1); /* wake it: it sees main_exited and ends */
            cr_syscall6(SYS_futex, (long)&c->gen, FUTEX_WAKE_PRIVATE, INT_MAX, 0, 0, 0);
        }
    pool_release();
}

/* ---- operations on a carrier's pthread_t ------------------------------------------------------ */

static void join_cancelled(void *p)
{
    struct cr_carrier *c = p;
    pool_acquire();
    c->joining = false;
    pool_release();
}

static bool remaining(clockid_t clk, const struct timespec *abstime, struct timespec *rel)
{
    struct timespec now;
    clock_gettime(clk, &now);
    rel->tv_sec = abstime->tv_sec - now.tv_sec;
    rel->tv_nsec = abstime->tv_nsec - now.tv_nsec;
    if (rel->tv_nsec < 0) {
        rel->tv_sec--;
        rel->tv_nsec += 1000000000L;
    }
    return rel->tv_sec >= 0;
}

int cr_tcache_join(struct cr_carrier *c, pthread_t th, void **ret, enum cr_join_mode mode, clockid_t clk,
                   const struct timespec *abstime)
{
    if (pthread_equal(th, pthread_self()))
        return EDEADLK;
    pool_acquire();
    if (!carrier_valid(c, th) || c->state == C_EXITING) {
        pool_release();
        return CR_TCACHE_REAL;
    }
    if (c->state == C_IDLE || c->state == C_RETIRE) {
        pool_release();
        return ESRCH;
    }
    if (c->detached || c->joining) {
        pool_release();
        return EINVAL;
    }
    if (c->state == C_RUNNING) {
        if (mode == CR_JOIN_TRY) {
            pool_release();
            return EBUSY;
        }
        if (mode == CR_JOIN_CLOCK && (!abstime || (clk != CLOCK_REALTIME && clk != CLOCK_MONOTONIC) ||
                                      abstime->tv_nsec < 0 || abstime->tv_nsec >= 1000000000L)) {
            pool_release();
            return EINVAL;
        }
        c->joining = true;
        volatile int r = 0; /* survives the cleanup handler's setjmp */
        pthread_cleanup_push(join_cancelled, c);
        while (c->state == C_RUNNING) {
            struct timespec rel;
            if (mode == CR_JOIN_CLOCK && !remaining(clk, abstime, &rel)) {
                r = ETIMEDOUT;
                break;
            }
            uint32_t seen = atomic_load_explicit(&c->gen, memory_order_acquire);
            pool_release();
            wait_gen(c, seen, mode == CR_JOIN_CLOCK ? &rel : NULL, true);
            pool_acquire();
        }
        pthread_cleanup_pop(0);
        c->joining = false;
        if (r) {
            pool_release();
            return r;
        }
        if (c->state == C_EXITING) {
            pool_release();
            return CR_TCACHE_REAL;
        }
    }
    /* DONE */
    if (ret)
        *ret = c->retval;
    make_idle(c);
    pool_release();
    return 0;
}

int cr_tcache_detach(struct cr_carrier *c, pthread_t th)
{
    pool_acquire();
    int r = 0;
    if (!carrier_valid(c, th) || c->state == C_EXITING)
        r = CR_TCACHE_REAL;
    else if (c->state == C_IDLE || c->state == C_RETIRE)
        r = ESRCH;
    else if (c->detached)
        r = EINVAL;
    else if (c->state == C_DONE)
        make_idle(c);
    else
        c->detached = true;
    pool_release();
    return r;
}

int cr_tcache_cancel(struct cr_carrier *c, pthread_t th)
{
    pool_acquire();
    int r;
    if (!carrier_valid(c, th) || c->state == C_EXITING) {
        r = CR_TCACHE_REAL;
    } else if (c->state != C_RUNNING) {
        r = 0; /* the logical thread has ended: nothing to cancel */
    } else {
        c->cancel_requested = true;
        /* Cancelling oneself may unwind at once (asynchronous type): not under pool_lock. */
        r = pthread_equal(th, pthread_self()) ? CR_TCACHE_REAL : REAL(pthread_cancel)(th);
    }
    pool_release();
    return r;
}

int cr_tcache_kill(struct cr_carrier *c, pthread_t th, int sig)
{
    pool_acquire();
    int r;
    if (!carrier_valid(c, th) || c->state == C_EXITING) {
        r = CR_TCACHE_REAL;
    } else if (c->state == C_RUNNING) {
        r = REAL(pthread_kill)(th, sig); /* under pool_lock: the logical thread cannot end meanwhile */
    } else {
        /* glibc: a thread that has ended gets no signal, and the call succeeds for a valid one */
        sigset_t s;
        sigemptyset(&s);
        r = sig == 0 || sigaddset(&s, sig) == 0 ? 0 : EINVAL;
    }
    pool_release();
    return r;
}

bool cr_tcache_detached(struct cr_carrier *c, pthread_t th)
{
    pool_acquire();
    bool d = carrier_valid(c, th) && c->state != C_EXITING && c->detached;
    pool_release();
    return d;
}

/* ---- fork ------------------------------------------------------------------------------------ */

static void tcache_atfork_prepare(void) { pool_acquire(); }
static void tcache_atfork_parent(void) { pool_release(); }
static void tcache_atfork_child(void)
{
    /* Only the forking thread exists in the child. If it is a carrier, there is no main thread
     * any more: the child must end with this thread's logical thread. */
    pthread_mutex_t fresh = PTHREAD_MUTEX_INITIALIZER;
    pool_lock = fresh;
    idle_top = NULL;
    idle_count = 0;
    all_carriers = NULL;
    struct cr_carrier *c = &tc_self;
    if (c->magic == CARRIER_MAGIC) {
        c->next_all = c->prev_all = c->next_idle = NULL;
        c->joining = false;
        c->published = CARRIER_PUBLISHED;
        all_carriers = c;
        main_exited = true;
    }
}

__attribute__((constructor)) static void tcache_init(void)
{
    pthread_atfork(tcache_atfork_prepare, tcache_atfork_parent, tcache_atfork_child);
}
