/* sys.h — raw system calls issued from corun's own code.
 *
 * Invariant: corun never reaches the kernel through a symbol it interposes on (syscall(),
 * sched_setaffinity, ...), so its own waits, wake-ups and pinning are never mistaken for the
 * program's. Everything here is a static inline wrapper around the `syscall` instruction and is
 * async-signal-safe. Return values follow the kernel convention: >= 0 success, -errno failure.
 */
#ifndef CORUN_COMMON_SYS_H
#define CORUN_COMMON_SYS_H

#include <linux/futex.h>
#include <sched.h>
#include <stdint.h>
#include <sys/syscall.h>
#include <time.h>
#include <unistd.h>

static inline long cr_syscall6(long n, long a, long b, long c, long d, long e, long f)
{
#if defined(__x86_64__)
    long ret;
    register long r10 __asm__("r10") = d;
    register long r8 __asm__("r8") = e;
    register long r9 __asm__("r9") = f;
    __asm__ volatile("syscall"
                     : "=a"(ret)
                     : "a"(n), "D"(a), "S"(b), "d"(c), "r"(r10), "r"(r8), "r"(r9)
                     : "rcx", "r11", "memory");
    return ret;
#elif defined(__aarch64__)
    register long x8 __asm__("x8") = n;
    register long x0 __asm__("x0") = a;
    register long x1 __asm__("x1") = b;
    register long x2 __asm__("x2") = c;
    register long x3 __asm__("x3") = d;
    register long x4 __asm__("x4") = e;
    register long x5 __asm__("x5") = f;
    __asm__ volatile("svc 0" : "+r"(x0) : "r"(x8), "r"(x1), "r"(x2), "r"(x3), "r"(x4), "r"(x5) : "memory");
    return x0;
#else
#error "corun supports x86-64 and aarch64"
#endif
}

static inline int cr_gettid(void) { return (int)cr_syscall6(SYS_gettid, 0, 0, 0, 0, 0, 0); }
static inline int cr_getpid(void) { return (int)cr_syscall6(SYS_getpid, 0, 0, 0, 0, 0, 0); }

/* Shared (not private) futexes: waiters and wakers live in different processes. */
static inline long cr_futex_wait(_Atomic uint32_t *addr, uint32_t val, const struct timespec *rel)
{
    return cr_syscall6(SYS_futex, (long)addr, FUTEX_WAIT, val, (long)rel, 0, 0);
}

static inline long cr_futex_wake(_Atomic uint32_t *addr, int n)
{
    return cr_syscall6(SYS_futex, (long)addr, FUTEX_WAKE, n, 0, 0, 0);
}

static inline long cr_tgkill(int pid, int tid, int sig)
{
    return cr_syscall6(SYS_tgkill, pid, tid, sig, 0, 0, 0);
}

static inline long cr_pin_to_cpu(int cpu)
{
    cpu_set_t set;
    CPU_ZERO(&set);
    CPU_SET(cpu, &set);
    return cr_syscall6(SYS_sched_setaffinity, 0, sizeof set, (long)&set, 0, 0, 0);
}

static inline long cr_set_affinity_raw(int tid, size_t size, const cpu_set_t *set)
{
    return cr_syscall6(SYS_sched_setaffinity, tid, (long)size, (long)set, 0, 0, 0);
}

static inline uint64_t cr_now_ns(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (uint64_t)ts.tv_sec * 1000000000ull + (uint64_t)ts.tv_nsec;
}

#define CR_NO_SUCH_THREAD UINT64_MAX

/* CPU time consumed by thread `tid` of the calling process (Linux thread CPU clock id), or
 * CR_NO_SUCH_THREAD when that thread no longer exists. */
static inline uint64_t cr_thread_cputime_ns(int tid)
{
    struct timespec ts;
    clockid_t clk = (clockid_t)((~(unsigned)tid << 3) | 6); /* CPUCLOCK_PERTHREAD | CPUCLOCK_SCHED */
    if (cr_syscall6(SYS_clock_gettime, clk, (long)&ts, 0, 0, 0, 0) != 0)
        return CR_NO_SUCH_THREAD;
    return (uint64_t)ts.tv_sec * 1000000000ull + (uint64_t)ts.tv_nsec;
}

#endif
