/* intercept.h — shared helpers for the interposers of native/intercept/.
 *
 * Every interposer follows one pattern (see sched/sched.h):
 *   - an unmanaged thread calls the real function directly, nothing else;
 *   - a managed thread first tries the non-blocking form where one exists; only when that would
 *     block does it hand its core away: cr_block_begin(); REAL(fn)(...); cr_block_end();
 *   - return values and errno are exactly those of the real call;
 *   - around a real call that is a cancellation point, a cleanup handler calls cr_block_end(), so a
 *     thread cancelled inside the call is back on a core (and known to the scheduler as such)
 *     before the program's own cleanup handlers run.
 *
 * Interposers are the only exported symbols of libcorun besides the control API (the library is
 * built with -fvisibility=hidden); CR_EXPORT marks them.
 */
#ifndef CORUN_INTERCEPT_INTERCEPT_H
#define CORUN_INTERCEPT_INTERCEPT_H

#include "common/real.h"
#include "sched/sched.h"

#include <errno.h>
#include <pthread.h>
#include <signal.h>
#include <time.h>

#define CR_EXPORT __attribute__((visibility("default")))
#define CR_LIKELY(x) __builtin_expect(!!(x), 1)
#define CR_UNLIKELY(x) __builtin_expect(!!(x), 0)

static inline void cr_cpu_relax(void)
{
#if defined(__x86_64__) || defined(__i386__)
    __builtin_ia32_pause();
#elif defined(__aarch64__)
    __asm__ __volatile__("yield");
#endif
}

/* Timed forms probe the non-blocking form only with arguments glibc would accept; with any
 * other argument they call the real function directly, which reports EINVAL exactly as glibc
 * does (glibc checks some arguments before trying the lock, others only when it must wait). */
static inline int cr_ts_ok(const struct timespec *t)
{
    return t && t->tv_nsec >= 0 && t->tv_nsec < 1000000000L;
}
static inline int cr_clock_ok(clockid_t c)
{
    return c == CLOCK_REALTIME || c == CLOCK_MONOTONIC;
}

/* Cleanup handler for cancellation inside a blocking call (intercept/common.c). */
void cr_cancel_block_end(void *unused);

/* Blocking call that is not a cancellation point: r = CR_BLOCKING(REAL(f)(args)). */
#define CR_BLOCKING(call)                                                                        \
    ({                                                                                           \
        cr_block_begin();                                                                        \
        __typeof__(call) cr_r_ = (call);                                                         \
        cr_block_end();                                                                          \
        cr_r_;                                                                                   \
    })

/* Blocking call that is a cancellation point. The result and errno are saved before the
 * scheduler runs; cr_block_end() preserves errno, and the pop does not touch it. */
#define CR_BLOCKING_CANCEL(call)                                                                 \
    ({                                                                                           \
        __typeof__(call) cr_r_;                                                                  \
        cr_block_begin();                                                                        \
        pthread_cleanup_push(cr_cancel_block_end, NULL);                                        \
        cr_r_ = (call);                                                                          \
        pthread_cleanup_pop(0);                                                                  \
        cr_block_end();                                                                          \
        cr_r_;                                                                                   \
    })

/* Adds the scheduler's own signals to `set`. A wait that installs its own mask (ppoll, pselect,
 * epoll_pwait*, sigsuspend) runs between cr_block_begin() and cr_block_end(), where the scheduler
 * keeps its signals blocked; the wait's mask must keep them blocked too. */
void cr_add_sched_signals(sigset_t *set);

/* Thread registry (thread.c): the kernel tid of a thread started through pthread_create (or the
 * main thread) from its pthread_t; 0 for the caller itself, -1 when unknown. */
pid_t cr_tid_of(pthread_t th);

/* True when the return address lies inside libcorun itself (syscall.c): calls the scheduler
 * makes through libc's exported names must not be intercepted again. */
int cr_called_from_self(const void *ret_addr);

/* exec and spawn: environment that keeps a child managed (process.c). */

#endif
