/* thread_cache.h — interface between thread creation (thread.c) and the thread cache
 * (thread_cache.c, USF paper 4.3.1). Self-contained.
 *
 * A thread that pthread_create starts for a managed creator is a *carrier*: it runs one start
 * routine (a *logical thread*) after another. thread.c creates carriers and owns the pthread_t
 * registry; thread_cache.c runs carriers and answers join, detach, cancel, kill and getattr for
 * the pthread_t of a carrier.
 */
#ifndef CORUN_INTERCEPT_THREAD_CACHE_H
#define CORUN_INTERCEPT_THREAD_CACHE_H

#include <pthread.h>
#include <signal.h>
#include <stdbool.h>
#include <stddef.h>
#include <time.h>

/* What a new thread is to run and to look like; malloc'ed by the creator, freed by the thread. */
struct cr_start {
    void *(*fn)(void *);
    void *arg;
    bool pooled;        /* runs on a carrier (the thread cache); else a plain one-shot thread */
    bool detached;      /* the logical thread was created detached */
    size_t stacksize;   /* carrier key: a job runs only on a carrier with the same stack size */
    size_t guardsize;   /* ... and guard size */
    sigset_t sigmask;   /* reuse only: the mask a fresh thread would start with */
    char name[16];      /* reuse only: the creator's name, which a fresh thread inherits */
    size_t hint_size;   /* bytes of CPU set that follow; 0: no hint */
    bool hint_is_attr;  /* from the attributes (else: the creator's own view, inherited) */
    unsigned char hint[];
};

struct cr_carrier;

/* ---- provided by thread.c ---- */
/* Applies the affinity hint of `st` to the calling thread. */
void cr_thread_apply_hint(const struct cr_start *st);
/* The calling thread ends for real: leaves the registry, gives its core back, unregisters. */
void cr_thread_finish(void);

/* ---- provided by thread_cache.c ---- */
/* Fills st->pooled/stacksize/guardsize when a thread with attributes `attr` (NULL: defaults) may
 * run on a carrier: the cache is on, the caller is managed and the program gives no stack. */
void cr_tcache_classify(const pthread_attr_t *attr, struct cr_start *st);
/* Hands `st` (created with attributes `attr`, NULL: defaults) to an idle carrier with the same
 * key. Returns true (and sets *th) if one took it; false leaves `st` to a new carrier. */
bool cr_tcache_hand_over(struct cr_start *st, const pthread_attr_t *attr, pthread_t *th);
/* The creator's pthread_create started a new carrier `th` for `st` (st is the thread's now:
 * `copy` is the creator's copy). Before this returns, the cache answers for `th`. */
void cr_tcache_publish(pthread_t th, const struct cr_start *copy);
/* The carrier that `th` names, or NULL for any other thread. */
struct cr_carrier *cr_carrier_of(pthread_t th);
/* Body of a carrier started with `st` (called by the trampoline after registration). Returns
 * the value glibc must keep as the thread's result when the carrier ends for real. */
void *cr_tcache_carrier_main(struct cr_start *st);
/* The main thread calls pthread_exit: carriers must no longer keep the process alive. */
void cr_tcache_main_exit(void);

/* Join, detach, cancel, kill and getattr on a carrier's pthread_t. Each returns CR_TCACHE_REAL
 * when glibc must answer (the carrier ends or ended for real), else the call's result. */
#define CR_TCACHE_REAL (-1)
enum cr_join_mode { CR_JOIN_WAIT, CR_JOIN_TRY, CR_JOIN_CLOCK };
int cr_tcache_join(struct cr_carrier *c, pthread_t th, void **ret, enum cr_join_mode mode, clockid_t clk,
                   const struct timespec *abstime);
int cr_tcache_detach(struct cr_carrier *c, pthread_t th);
int cr_tcache_cancel(struct cr_carrier *c, pthread_t th);
int cr_tcache_kill(struct cr_carrier *c, pthread_t th, int sig);
/* True when the logical thread of `th` was detached after it started. */
bool cr_tcache_detached(struct cr_carrier *c, pthread_t th);

#endif
