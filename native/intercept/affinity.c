/* affinity.c — CPU affinity as the program sees it (paper 4.3.2).
 *
 * Intercepts: sched_setaffinity, sched_getaffinity, pthread_setaffinity_np,
 *             pthread_getaffinity_np (the raw syscall() forms are in syscall.c and share the
 *             helpers below).
 *
 * Invariant: for a thread of this managed process, a set call is stored as a hint
 * (cr_affinity_set) and the thread stays where the scheduler put it; a get call returns the hint,
 * or the set the thread would have had without corun (cr_affinity_get). Whenever the scheduler
 * does not handle the call (thread not managed, tid of another process, unknown pthread_t), the
 * real call runs. Arguments the kernel rejects also go to the real call, so errors are the real
 * ones: a buffer smaller than the kernel's CPU mask or not a multiple of sizeof(long) (EINVAL on
 * get), a set with no CPU the kernel knows (EINVAL on set). Results follow glibc: the get
 * wrappers zero the caller's buffer beyond the mask (cr_affinity_get fills all of it), the
 * sched_* forms return 0 / -1 with errno, the pthread_* forms return the error number.
 */
#include "intercept/affinity.h"

#include <stdatomic.h>
#include <sys/syscall.h>
#include <unistd.h>

/* Bytes of the kernel's CPU mask (what the sched_getaffinity system call returns), found once. */
size_t cr_kernel_mask_bytes(void)
{
    static _Atomic size_t cached;
    size_t k = atomic_load_explicit(&cached, memory_order_relaxed);
    if (CR_LIKELY(k))
        return k;
    unsigned long buf[4096 / sizeof(long)]; /* up to 32768 CPUs; beyond, the kernel answers */
    for (size_t sz = 128; sz <= sizeof buf; sz *= 2) {
        long r = REAL(syscall)(SYS_sched_getaffinity, 0L, (long)sz, (long)buf, 0L, 0L, 0L);
        if (r > 0) {
            atomic_store_explicit(&cached, (size_t)r, memory_order_relaxed);
            return (size_t)r;
        }
    }
    return 0;
}

static atomic_bool hints_used;

bool cr_hints_used(void)
{
    return atomic_load_explicit(&hints_used, memory_order_relaxed);
}

bool cr_affinity_hint(pid_t tid, size_t size, const cpu_set_t *set)
{
    if (!cr_affinity_set(tid, size, set))
        return false;
    if (!atomic_load_explicit(&hints_used, memory_order_relaxed))
        atomic_store_explicit(&hints_used, true, memory_order_relaxed);
    return true;
}

/* The smallest size the kernel accepts for sched_getaffinity: enough bits for nr_cpu_ids, in
 * longs. It can be less than the mask it fills (cpumask_size() covers NR_CPUS bits when the
 * kernel keeps masks on the stack): here 8 bytes accepted, 32 filled. libgomp asks with
 * CPU_ALLOC_SIZE(online CPUs), 8 bytes: refusing that size made it read the real affinity of
 * its pinned thread and count one CPU (omp_get_num_procs() 1 instead of 2). */
static size_t kernel_min_mask_bytes(void)
{
    static _Atomic size_t cached;
    size_t k = atomic_load_explicit(&cached, memory_order_relaxed);
    if (CR_LIKELY(k))
        return k;
    unsigned long buf[4096 / sizeof(long)];
    for (size_t sz = sizeof(long); sz <= sizeof buf; sz *= 2) {
        long r = REAL(syscall)(SYS_sched_getaffinity, 0L, (long)sz, (long)buf, 0L, 0L, 0L);
        if (r > 0) {
            atomic_store_explicit(&cached, sz, memory_order_relaxed);
            return sz;
        }
    }
    return 0;
}

bool cr_get_size_ok(size_t size)
{
    size_t k = kernel_min_mask_bytes();
    return k && size >= k && size % sizeof(long) == 0;
}

bool cr_set_nonempty(size_t size, const cpu_set_t *set)
{
    size_t k = cr_kernel_mask_bytes();
    if (!k || !set)
        return false;
    size_t n = size < k ? size : k;
    const unsigned char *b = (const unsigned char *)set;
    for (size_t i = 0; i < n; i++)
        if (b[i])
            return true;
    return false;
}

CR_EXPORT int sched_getaffinity(pid_t pid, size_t size, cpu_set_t *set)
{
    if (cr_get_size_ok(size) && cr_affinity_get(pid, size, set))
        return 0;
    return REAL(sched_getaffinity)(pid, size, set);
}

CR_EXPORT int sched_setaffinity(pid_t pid, size_t size, const cpu_set_t *set)
{
    if (cr_set_nonempty(size, set) && cr_affinity_hint(pid, size, set))
        return 0;
    return REAL(sched_setaffinity)(pid, size, set);
}

CR_EXPORT int pthread_getaffinity_np(pthread_t th, size_t size, cpu_set_t *set)
{
    pid_t tid = cr_tid_of(th);
    if (tid >= 0 && cr_get_size_ok(size) && cr_affinity_get(tid, size, set))
        return 0;
    return REAL(pthread_getaffinity_np)(th, size, set);
}

CR_EXPORT int pthread_setaffinity_np(pthread_t th, size_t size, const cpu_set_t *set)
{
    pid_t tid = cr_tid_of(th);
    if (tid >= 0 && cr_set_nonempty(size, set) && cr_affinity_hint(tid, size, set))
        return 0;
    return REAL(pthread_setaffinity_np)(th, size, set);
}
