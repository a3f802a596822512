/* sched.h — what the interposers (native/intercept/) ask of the node-wide cooperative scheduler.
 *
 * The scheduler keeps one invariant across every process attached to an instance: at most one
 * managed thread runs on each managed core. A managed thread is in exactly one state:
 *   RUNNING  owns one core and is pinned to it;
 *   READY    queued in its process's FIFO for a core, parked on its futex word;
 *   BLOCKED  inside a blocking call, owns no core;
 *   STOLEN   was RUNNING, but the safety net saw it asleep in the kernel and gave its core away;
 *            it must come back through cr_block_end() or the preemption signal before it runs on.
 * Threads that are not managed (no instance attached, or a thread corun never saw start) see
 * every function here as a no-op, so interposers may call them unconditionally.
 *
 * Pattern for an interposed blocking call:
 *     if (the non-blocking form succeeds) return;           // no scheduling point, no cost
 *     cr_block_begin();                                       // hand the core to a ready thread
 *     r = REAL(call)(...);                                    // may sleep in the kernel
 *     cr_block_end();                                         // queue for a core, preserves errno
 *
 * All functions preserve errno and are safe to call before the instance is attached (they attach
 * lazily on first use when the process runs under `corun run`).
 */
#ifndef CORUN_SCHED_SCHED_H
#define CORUN_SCHED_SCHED_H

#include <sched.h>
#include <signal.h>
#include <stdbool.h>
#include <stddef.h>
#include <sys/types.h>

/* True when the calling thread is managed by an attached instance (cheap: one TLS load). */
bool cr_thread_managed(void);

/* Give the calling thread's core away before a call that may block. No-op when unmanaged. */
void cr_block_begin(void);
/* Wait for a core after the blocking call returned. No-op when unmanaged. Preserves errno. */
void cr_block_end(void);

/* sched_yield() policy: may hand the core to a waiting thread. Returns true if it did schedule
 * (the caller then skips the real sched_yield). */
bool cr_yield(void);

/* Thread lifecycle, called by the pthread_create trampoline inside the new thread. */
void cr_thread_begin(void);   /* registers the thread and waits for its first core */
void cr_thread_end(void);     /* releases the core and unregisters (also on pthread_exit/cancel) */

/* exec: the process image is about to be replaced (deregisters the process; its threads die with
 * the exec) and the replacement failed (re-registers the calling thread). Both do nothing in a
 * vfork child, which must never touch the parent's registration. */
void cr_exec_before(void);
void cr_exec_failed(void);

/* Affinity as the program sees it (paper 4.3.2): set calls are stored as hints, get calls return
 * the hint or the set the program would have without corun. Both return true when they handled
 * the call (the thread `tid`, 0 for the caller, belongs to this managed process), false when the
 * caller should perform the real call. */
bool cr_affinity_get(pid_t tid, size_t size, cpu_set_t *set);
bool cr_affinity_set(pid_t tid, size_t size, const cpu_set_t *set);

/* Remove the scheduler's own signals from a mask a program is about to block. */
void cr_sigmask_filter(sigset_t *set);

#endif
