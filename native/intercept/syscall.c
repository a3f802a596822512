/* syscall.c — libc's generic syscall() entry point.
 *
 * Intercepts: syscall (variadic; forwards six argument words to the real syscall()).
 *   - SYS_sched_setaffinity / SYS_sched_getaffinity: the raw affinity forms (paper 4.3.2), with
 *     the kernel's semantics rather than glibc's: the set call takes min(len, kernel mask) bytes,
 *     the get call returns the number of bytes written (the kernel mask size) and fails with
 *     EINVAL for a too small or misaligned buffer. Handled by the scheduler as in affinity.c, the
 *     real system call otherwise.
 *   - SYS_futex waits (FUTEX_WAIT, FUTEX_WAIT_BITSET, FUTEX_LOCK_PI, FUTEX_LOCK_PI2,
 *     FUTEX_WAIT_REQUEUE_PI) and SYS_futex_waitv issued through syscall() — LLVM's libomp and
 *     Rust's standard library wait this way — are blocking calls: a managed thread releases its
 *     core around them. (Inline `syscall` instructions, as in libgomp, never come here: that is
 *     the scheduler's safety net.)
 *   - everything else: a tail call to the real syscall(), return value and errno untouched.
 * Calls made from inside libcorun itself (the scheduler) are always forwarded untouched.
 */
#include "intercept/affinity.h"

#include <dlfcn.h>
#include <link.h>
#include <linux/futex.h>
#include <stdarg.h>
#include <stdatomic.h>
#include <stdint.h>
#include <sys/syscall.h>

#ifndef FUTEX_LOCK_PI2
#define FUTEX_LOCK_PI2 13
#endif
#ifndef SYS_futex_waitv
#define SYS_futex_waitv 449
#endif

/* ---- libcorun's own code range ------------------------------------------------------------- */

static _Atomic uintptr_t self_lo, self_hi;

static int find_self(struct dl_phdr_info *info, size_t size, void *data)
{
    uintptr_t base = (uintptr_t)data;
    if ((uintptr_t)info->dlpi_addr != base)
        return 0;
    uintptr_t lo = UINTPTR_MAX, hi = 0;
    for (int i = 0; i < info->dlpi_phnum; i++) {
        const ElfW(Phdr) *ph = &info->dlpi_phdr[i];
        if (ph->p_type == PT_LOAD && (ph->p_flags & PF_X)) {
            uintptr_t a = base + ph->p_vaddr, b = a + ph->p_memsz;
            if (a < lo) lo = a;
            if (b > hi) hi = b;
        }
    }
    atomic_store(&self_lo, lo);
    atomic_store(&self_hi, hi);
    return 1;
}

int cr_called_from_self(const void *ret_addr)
{
    uintptr_t hi = atomic_load_explicit(&self_hi, memory_order_relaxed);
    if (CR_UNLIKELY(hi == 0)) {
        Dl_info di;
        if (dladdr((void *)&cr_called_from_self, &di) && di.dli_fbase)
            dl_iterate_phdr(find_self, di.dli_fbase);
        hi = atomic_load(&self_hi);
    }
    uintptr_t a = (uintptr_t)ret_addr;
    return a >= atomic_load_explicit(&self_lo, memory_order_relaxed) && a < hi;
}

/* ---- raw affinity ---------------------------------------------------------------------------- */

static long raw_getaffinity(long pid, long len, long ptr)
{
    size_t k = cr_kernel_mask_bytes();
    size_t n = (size_t)len < k ? (size_t)len : k; /* the kernel fills and returns min(len, mask) */
    if (ptr && len > 0 && k && cr_get_size_ok((size_t)len) && cr_affinity_get((pid_t)pid, n, (cpu_set_t *)ptr))
        return (long)n;
    return REAL(syscall)(SYS_sched_getaffinity, pid, len, ptr, 0L, 0L, 0L);
}

static long raw_setaffinity(long pid, long len, long ptr)
{
    size_t k = cr_kernel_mask_bytes();
    if (len > 0 && k && cr_set_nonempty((size_t)len, (const cpu_set_t *)ptr) &&
        cr_affinity_hint((pid_t)pid, (size_t)len < k ? (size_t)len : k, (const cpu_set_t *)ptr))
        return 0;
    return REAL(syscall)(SYS_sched_setaffinity, pid, len, ptr, 0L, 0L, 0L);
}

static inline bool futex_blocks(long op)
{
    switch (op & FUTEX_CMD_MASK) {
    case FUTEX_WAIT:
    case FUTEX_WAIT_BITSET:
    case FUTEX_LOCK_PI:
    case FUTEX_LOCK_PI2:
    case FUTEX_WAIT_REQUEUE_PI:
        return true;
    default:
        return false;
    }
}

CR_EXPORT long syscall(long n, ...)
{
    va_list ap;
    va_start(ap, n);
    long a1 = va_arg(ap, long), a2 = va_arg(ap, long), a3 = va_arg(ap, long);
    long a4 = va_arg(ap, long), a5 = va_arg(ap, long), a6 = va_arg(ap, long);
    va_end(ap);

    switch (n) {
    case SYS_futex:
        if (!futex_blocks(a2))
            break;
        /* fall through */
    case SYS_futex_waitv:
        if (!cr_thread_managed() || cr_called_from_self(__builtin_return_address(0)))
            break;
        return CR_BLOCKING(REAL(syscall)(n, a1, a2, a3, a4, a5, a6));
    case SYS_sched_getaffinity:
        if (cr_called_from_self(__builtin_return_address(0)))
            break;
        return raw_getaffinity(a1, a2, a3);
    case SYS_sched_setaffinity:
        if (cr_called_from_self(__builtin_return_address(0)))
            break;
        return raw_setaffinity(a1, a2, a3);
    default:
        break;
    }
    return REAL(syscall)(n, a1, a2, a3, a4, a5, a6);
}
