/* preempt.c — the preemption signal: how a thread that never reaches a scheduling point is made
 * to give its core up, and how a thread whose core was stolen comes back under management.
 *
 * The signal (CR_PREEMPT_SIGNAL, a real-time signal glibc does not use) is sent by another
 * thread's scheduler code with tgkill after it set the target's `preempt` flag (quantum, turn) or
 * stole its core (safety net). In the handler:
 *   - inside a scheduler operation: only note it (cr_tls.pending); the operation handles it at
 *     its end, so the handler never re-enters the instance lock;
 *   - RUNNING with `preempt` set: give the core to the next thread and queue (cr_yield_core);
 *   - STOLEN and interrupted in a futex wait (libgomp barriers, glibc-internal locks): perform
 *     that wait here as a managed wait without a core, then queue for a core, and return the
 *     wait's result as if the program's own syscall had returned it ("rescue");
 *   - STOLEN and interrupted in another syscall: return and let it restart (SA_RESTART); the
 *     safety net signals again once the thread is seen running;
 *   - STOLEN while running user code: queue for a core before returning.
 * errno is preserved. The scheduler's own blocking sections block this signal.
 */
#include "sched/internal.h"
#include "sched/sched.h"

#include "common/log.h"
#include "common/real.h"
#include "common/sys.h"

#include <errno.h>
#include <linux/futex.h>
#include <string.h>
#include <ucontext.h>

void cr_block_signal(bool block)
{
    sigset_t set;
    sigemptyset(&set);
    sigaddset(&set, CR_PREEMPT_SIGNAL);
    cr_syscall6(SYS_rt_sigprocmask, block ? SIG_BLOCK : SIG_UNBLOCK, (long)&set, 0, _NSIG / 8, 0, 0);
}

void cr_sigmask_filter(sigset_t *set)
{
    if (set && cr_self.shm) {
        sigdelset(set, CR_PREEMPT_SIGNAL);
        sigdelset(set, SIGILL); /* learned wait sites fault with SIGILL (trap.c) */
    }
}

#if defined(__x86_64__)
/* Interrupted at (or rewound to) a futex wait instruction? Then perform it ourselves. */
static bool rescue_futex_wait(ucontext_t *uc)
{
    greg_t *g = uc->uc_mcontext.gregs;
    const unsigned char *ip = (const unsigned char *)g[REG_RIP];
    if (ip[0] != 0x0f || ip[1] != 0x05 || g[REG_RAX] != SYS_futex)
        return false;
    int op = (int)g[REG_RSI] & FUTEX_CMD_MASK;
    if (op != FUTEX_WAIT && op != FUTEX_WAIT_BITSET)
        return false;
    cr_trap_learn((uintptr_t)ip); /* its next waits trap at once (trap.c) */
    struct cr_thread *th = cr_me();
    struct cr_shm *s = cr_self.shm;
    if (th) {
        cr_shm_lock(s);
        if (cr_me_still_valid() && atomic_load(&th->state) == CR_STOLEN)
            atomic_store(&th->state, CR_BLOCKED);
        cr_shm_unlock(s);
    }
    long r = cr_syscall6(SYS_futex, g[REG_RDI], g[REG_RSI], g[REG_RDX], g[REG_R10], g[REG_R8], g[REG_R9]);
    cr_acquire();
    g[REG_RAX] = r;
    g[REG_RIP] += 2;
    return true;
}

static bool in_other_syscall(ucontext_t *uc)
{
    const unsigned char *ip = (const unsigned char *)uc->uc_mcontext.gregs[REG_RIP];
    return ip[0] == 0x0f && ip[1] == 0x05;
}

/* Spin sample: where the signal found the thread. Two samples one probe period apart at the same
 * stack pointer, within SPIN_WINDOW bytes of code and with at most SPIN_MAX_CHANGED of the other
 * general registers changed mean a wait loop (a CAS or flag spin, a barrier: a counter and the
 * value read change, nothing else). Computing code moves its data pointers and loop counters:
 * a dgemm kernel has a hot loop of a few dozen bytes, and instruction and stack alone called it
 * spinning at 23% of the probes (numpy's OpenBLAS, 8 threads on 2 cores). A false positive costs
 * one early switch. */
#define SPIN_WINDOW 64
#define SPIN_MAX_CHANGED 3
static const int spin_regs[CR_SPIN_REGS] = {REG_RAX, REG_RBX, REG_RCX, REG_RDX, REG_RSI, REG_RDI, REG_RBP,
                                             REG_R8, REG_R9, REG_R10, REG_R11, REG_R12, REG_R13,
                                             REG_R14, REG_R15};
static bool spin_sample(ucontext_t *uc, struct cr_thread *th)
{
    greg_t *g = uc->uc_mcontext.gregs;
    uintptr_t ip = (uintptr_t)g[REG_RIP];
    uintptr_t sp = (uintptr_t)g[REG_RSP];
    bool same = cr_tls.have_sample && sp == cr_tls.sample_sp && ip + SPIN_WINDOW - cr_tls.sample_ip <= 2 * SPIN_WINDOW;
    int changed = 0;
    for (int i = 0; i < CR_SPIN_REGS; i++) {
        uint64_t v = (uint64_t)g[spin_regs[i]];
        changed += v != cr_tls.sample_regs[i];
        cr_tls.sample_regs[i] = v;
    }
    if (changed > SPIN_MAX_CHANGED || in_other_syscall(uc))
        same = false; /* computing, or inside a syscall: not a user-space spin */
    cr_tls.sample_ip = ip;
    cr_tls.sample_sp = sp;
    cr_tls.have_sample = true;
    int mark = same ? 2 : 0;
    if (atomic_load_explicit(&th->spin, memory_order_relaxed) != mark)
        atomic_store_explicit(&th->spin, mark, memory_order_relaxed);
    return same;
}
#else
static bool rescue_futex_wait(ucontext_t *uc) { (void)uc; return false; }
static bool in_other_syscall(ucontext_t *uc) { (void)uc; return false; }
static bool spin_sample(ucontext_t *uc, struct cr_thread *th) { (void)uc; (void)th; return false; }
#endif

static void on_preempt_signal(int sig, siginfo_t *info, void *ctx)
{
    (void)sig;
    (void)info;
    int saved = errno;
    struct cr_thread *th = cr_me();
    if (!th)
        goto out;
    if (cr_tls.in_sched) {
        cr_tls.pending = 1;
        goto out;
    }
    cr_sched_enter();
    int st = atomic_load(&th->state);
    if (st == CR_RUNNING && atomic_load(&th->preempt)) {
        spin_sample(ctx, th);
        cr_yield_core(true);
    } else if (st == CR_RUNNING) {
        /* a spin probe (watchdog, or a wake-up that found no free core): a spinner moves over
         * for a waiting thread; anything else runs on */
        if (spin_sample(ctx, th) && cr_yield_core(true))
            atomic_fetch_add_explicit(&cr_self.shm->stats_spin_yields, 1, memory_order_relaxed);
    } else if (st == CR_STOLEN) {
        if (!rescue_futex_wait(ctx) && !in_other_syscall(ctx))
            cr_acquire();
    }
    cr_sched_leave();
out:
    errno = saved;
}

void cr_signal_install(void)
{
    struct sigaction sa;
    memset(&sa, 0, sizeof sa);
    sa.sa_sigaction = on_preempt_signal;
    sa.sa_flags = SA_SIGINFO | SA_RESTART;
    sigemptyset(&sa.sa_mask);
    REAL(sigaction)(CR_PREEMPT_SIGNAL, &sa, NULL);
}
