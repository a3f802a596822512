/* trap.c — learned wait sites: turning uninterceptable futex waits into scheduling points.
 *
 * libgomp (and any code with inline `syscall` instructions) waits on futexes without calling a
 * function we can interpose on. The safety net (watchdog.c) finds such a thread asleep while it
 * owns a core, steals the core and rescues the wait (preempt.c): correct, but each detection
 * costs a watchdog tick, and barrier-heavy code repeats the same wait thousands of times.
 *
 * So the rescue also *learns* the site: the 2-byte `syscall` instruction (0f 05) at which the
 * thread slept is replaced by `ud2` (0f 0b), same length. Executing a learned site raises
 * SIGILL; the handler below performs the syscall itself — a futex wait becomes
 * cr_block_begin(); wait; cr_block_end() — and resumes after the instruction. Cost: one signal
 * delivery (about 2 us) per wait at that site, instead of a watchdog tick.
 *
 * Invariants:
 *  - only `syscall` instructions observed in a futex wait are patched, and never inside libc,
 *    the dynamic linker or libcorun (glibc waits there with all signals blocked while a thread
 *    starts; a SIGILL there would kill the process);
 *  - a patched site behaves exactly like the original instruction for every caller, managed or
 *    not, whatever the syscall number and arguments (the handler re-issues it verbatim);
 *  - SIGILL stays ours: the program's sigaction/signal calls for SIGILL (and for the preemption
 *    signal) are recorded and honoured by chaining, never installed over our handler, and masks
 *    never block SIGILL (cr_sigmask_filter), since a blocked synchronous SIGILL kills.
 * x86-64 only; elsewhere learning is disabled and the safety net alone applies.
 */
#include "sched/internal.h"
#include "sched/sched.h"

#include "common/log.h"
#include "common/real.h"
#include "common/sys.h"

#include <errno.h>
#include <link.h>
#include <linux/futex.h>
#include <pthread.h>
#include <signal.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <ucontext.h>
#include <unistd.h>

#define MAX_SITES 256
#define MAX_EXCLUDED 8

static _Atomic(uintptr_t) sites[MAX_SITES];
static _Atomic int nsites;
static struct { uintptr_t lo, hi; } excluded[MAX_EXCLUDED];
static int nexcluded;
static pthread_mutex_t patch_lock = PTHREAD_MUTEX_INITIALIZER;

/* The program's own wishes for the signals we keep (chained to, never installed). */
static struct sigaction user_sigill, user_preempt;
static _Atomic int trap_installed;
static bool learn_enabled;

static int note_excluded(struct dl_phdr_info *info, size_t size, void *data)
{
    (void)size;
    (void)data;
    const char *name = info->dlpi_name ? info->dlpi_name : "";
    bool exclude = strstr(name, "/libc.so") || strstr(name, "/ld-linux") || strstr(name, "libcorun") ||
                   strstr(name, "/libpthread") || strstr(name, "/libc-");
    if (!exclude || nexcluded >= MAX_EXCLUDED)
        return 0;
    for (int i = 0; i < info->dlpi_phnum; i++) {
        const ElfW(Phdr) *ph = &info->dlpi_phdr[i];
        if (ph->p_type == PT_LOAD && (ph->p_flags & PF_X) && nexcluded < MAX_EXCLUDED) {
            excluded[nexcluded].lo = info->dlpi_addr + ph->p_vaddr;
            excluded[nexcluded].hi = info->dlpi_addr + ph->p_vaddr + ph->p_memsz;
            nexcluded++;
        }
    }
    return 0;
}

static bool is_site(uintptr_t ip)
{
    int n = atomic_load(&nsites);
    for (int i = 0; i < n; i++)
        if (atomic_load(&sites[i]) == ip)
            return true;
    return false;
}

static bool excluded_ip(uintptr_t ip)
{
    for (int i = 0; i < nexcluded; i++)
        if (ip >= excluded[i].lo && ip < excluded[i].hi)
            return true;
    return false;
}

#if defined(__x86_64__)
/* Replace the syscall at ip by ud2. Atomic for other threads: both bytes change in one aligned
 * 8-byte compare-and-swap. Async-signal-safe (called from the preemption handler). */
bool cr_trap_learn(uintptr_t ip)
{
    if (!atomic_load(&trap_installed) || excluded_ip(ip) || (ip & 7) == 7 || !learn_enabled)
        return false;
    if (is_site(ip) || atomic_load(&nsites) >= MAX_SITES)
        return false;
    /* pthread_mutex_trylock: never wait inside a signal handler */
    if (REAL(pthread_mutex_trylock)(&patch_lock) != 0)
        return false;
    bool ok = false;
    uintptr_t page = ip & ~(uintptr_t)4095;
    if (!is_site(ip) && cr_syscall6(SYS_mprotect, (long)page, 4096, PROT_READ | PROT_WRITE | PROT_EXEC, 0, 0, 0) == 0) {
        _Atomic uint64_t *word = (_Atomic uint64_t *)(ip & ~(uintptr_t)7);
        unsigned shift = (unsigned)(ip & 7) * 8;
        uint64_t old = atomic_load(word);
        if (((old >> shift) & 0xffff) == 0x050f) { /* little endian: 0f 05 */
            uint64_t new = (old & ~(0xffffull << shift)) | (0x0b0full << shift);
            int n = atomic_load(&nsites);
            atomic_store(&sites[n], ip); /* known before it can fault */
            atomic_store(&nsites, n + 1);
            ok = atomic_compare_exchange_strong(word, &old, new);
            if (!ok)
                atomic_store(&sites[n], 0);
        }
        cr_syscall6(SYS_mprotect, (long)page, 4096, PROT_READ | PROT_EXEC, 0, 0, 0);
    }
    REAL(pthread_mutex_unlock)(&patch_lock);
    if (ok)
        CR_DEBUG("learned wait site %p", (void *)ip);
    return ok;
}

static bool futex_wait_op(long op)
{
    int cmd = (int)op & FUTEX_CMD_MASK;
    return cmd == FUTEX_WAIT || cmd == FUTEX_WAIT_BITSET;
}

static void chain(const struct sigaction *user, int sig, siginfo_t *info, void *ctx)
{
    if (user->sa_flags & SA_SIGINFO) {
        if (user->sa_sigaction)
            user->sa_sigaction(sig, info, ctx);
        return;
    }
    if (user->sa_handler == SIG_DFL || user->sa_handler == SIG_IGN) {
        /* restore the default and return: the faulting instruction runs again and the kernel
         * ends the process exactly as it would have without corun; leave the instance first,
         * since nothing runs in this process afterwards */
        cr_process_leave();
        struct sigaction dfl;
        memset(&dfl, 0, sizeof dfl);
        dfl.sa_handler = SIG_DFL;
        REAL(sigaction)(sig, &dfl, NULL);
        return;
    }
    user->sa_handler(sig);
}

static void on_sigill(int sig, siginfo_t *info, void *ctx)
{
    ucontext_t *uc = ctx;
    greg_t *g = uc->uc_mcontext.gregs;
    uintptr_t ip = (uintptr_t)g[REG_RIP];
    if (!is_site(ip)) {
        chain(&user_sigill, sig, info, ctx);
        return;
    }
    int saved = errno;
    long nr = g[REG_RAX];
    bool wait = nr == SYS_futex && futex_wait_op(g[REG_RSI]) && cr_thread_managed() && !cr_tls.in_sched;
    if (wait)
        cr_block_begin();
    long r = cr_syscall6(nr, g[REG_RDI], g[REG_RSI], g[REG_RDX], g[REG_R10], g[REG_R8], g[REG_R9]);
    if (wait)
        cr_block_end();
    g[REG_RAX] = r;
    g[REG_RIP] = (greg_t)(ip + 2);
    errno = saved;
}

void cr_trap_install(void)
{
    if (atomic_exchange(&trap_installed, 1))
        return;
    const char *no = getenv("CORUN_LEARN_WAIT_SITES");
    learn_enabled = !(no && strcmp(no, "0") == 0);
    dl_iterate_phdr(note_excluded, NULL);
    struct sigaction sa, old;
    memset(&sa, 0, sizeof sa);
    sa.sa_sigaction = on_sigill;
    sa.sa_flags = SA_SIGINFO | SA_RESTART | SA_NODEFER;
    sigemptyset(&sa.sa_mask);
    REAL(sigaction)(SIGILL, &sa, &old);
    user_sigill = old;
}
#else
bool cr_trap_learn(uintptr_t ip) { (void)ip; return false; }
void cr_trap_install(void) {}
#endif

/* sigaction for the signals corun keeps: record the program's handler, report it back, chain
 * SIGILL to it for faults that are not learned sites. Everything else passes through. */
__attribute__((visibility("default"))) int sigaction(int sig, const struct sigaction *act, struct sigaction *old)
{
    struct sigaction *kept = NULL;
    if (atomic_load(&trap_installed) && sig == SIGILL)
        kept = &user_sigill;
    else if (cr_self.shm && sig == CR_PREEMPT_SIGNAL)
        kept = &user_preempt;
    if (!kept)
        return REAL(sigaction)(sig, act, old);
    if (old)
        *old = *kept;
    if (act)
        *kept = *act;
    return 0;
}

__attribute__((visibility("default"))) sighandler_t signal(int sig, sighandler_t handler)
{
    struct sigaction sa, old;
    memset(&sa, 0, sizeof sa);
    sa.sa_handler = handler;
    sa.sa_flags = SA_RESTART;
    sigemptyset(&sa.sa_mask);
    if (sigaction(sig, &sa, &old) != 0)
        return SIG_ERR;
    return old.sa_handler;
}
