/* cpu.c — the context's view of CPUs: affinity queries answer with the context's set, CPU counts
 * with its size, and setaffinity requests are clamped into it.
 *
 * Invariant: no thread of this process that runs library code of this namespace is ever told about,
 * or allowed onto, a CPU outside the context's set (calls about other processes pass through).
 */
#include "vlc/root/root.h"

#include "common/real.h"

#include <errno.h>
#include <pthread.h>
#include <stdio.h>
#include <string.h>
#include <sys/sysinfo.h>
#include <sys/syscall.h>
#include <unistd.h>

int vr_pid_is_ours(pid_t pid)
{
    if (pid == 0 || pid == getpid())
        return 1;
    char path[64];
    snprintf(path, sizeof path, "/proc/self/task/%d", (int)pid);
    return access(path, F_OK) == 0;
}

/* Copy the context's set into a caller buffer of `size` bytes with glibc's EINVAL rule. */
static int fill_mask(const struct vr_cfg *c, size_t size, cpu_set_t *mask)
{
    if (__builtin_expect(size == sizeof c->set, 1)) {
        *mask = c->set;
        return 0;
    }
    if (size * 8 <= (size_t)c->max_cpu)
        return EINVAL;
    memset(mask, 0, size);
    memcpy(mask, &c->set, size < sizeof c->set ? size : sizeof c->set);
    return 0;
}

/* The caller's request intersected with the context's set; the whole set if that is empty. */
static void clamp(const struct vr_cfg *c, size_t size, const cpu_set_t *req, cpu_set_t *out)
{
    CPU_ZERO(out);
    for (int i = 0; i <= c->max_cpu && (size_t)i < size * 8; i++)
        if (CPU_ISSET(i, &c->set) && CPU_ISSET(i, req))
            CPU_SET(i, out);
    if (CPU_COUNT(out) == 0)
        *out = c->set;
}

VR_API int sched_getaffinity(pid_t pid, size_t size, cpu_set_t *mask)
{
    struct vr_cfg *c = vr_cfg();
    if (!c || !vr_pid_is_ours(pid))
        return REAL_V(sched_getaffinity, "GLIBC_2.3.4")(pid, size, mask);
    int e = fill_mask(c, size, mask);
    if (e) {
        errno = e;
        return -1;
    }
    return 0;
}

VR_API int pthread_getaffinity_np(pthread_t th, size_t size, cpu_set_t *mask)
{
    struct vr_cfg *c = vr_cfg();
    if (!c)
        return REAL_V(pthread_getaffinity_np, "GLIBC_2.32")(th, size, mask);
    return fill_mask(c, size, mask);
}

VR_API int sched_setaffinity(pid_t pid, size_t size, const cpu_set_t *mask)
{
    struct vr_cfg *c = vr_cfg();
    if (!c || !vr_pid_is_ours(pid))
        return REAL_V(sched_setaffinity, "GLIBC_2.3.4")(pid, size, mask);
    cpu_set_t s;
    clamp(c, size, mask, &s);
    return REAL_V(sched_setaffinity, "GLIBC_2.3.4")(pid, sizeof s, &s);
}

VR_API int pthread_setaffinity_np(pthread_t th, size_t size, const cpu_set_t *mask)
{
    struct vr_cfg *c = vr_cfg();
    if (!c)
        return REAL_V(pthread_setaffinity_np, "GLIBC_2.34")(th, size, mask);
    cpu_set_t s;
    clamp(c, size, mask, &s);
    return REAL_V(pthread_setaffinity_np, "GLIBC_2.34")(th, sizeof s, &s);
}

void vr_pin_self(const struct vr_cfg *c)
{
    syscall(SYS_sched_setaffinity, 0, sizeof c->set, &c->set);
}

VR_API long sysconf(int name)
{
    struct vr_cfg *c;
    if ((name == _SC_NPROCESSORS_ONLN || name == _SC_NPROCESSORS_CONF) && (c = vr_cfg()))
        return c->ncpus;
    return REAL(sysconf)(name);
}

VR_API long __sysconf(int name)
{
    return sysconf(name);
}

VR_API int get_nprocs(void)
{
    struct vr_cfg *c = vr_cfg();
    return c ? c->ncpus : REAL(get_nprocs)();
}

VR_API int get_nprocs_conf(void)
{
    struct vr_cfg *c = vr_cfg();
    return c ? c->ncpus : REAL(get_nprocs_conf)();
}
