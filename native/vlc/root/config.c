/* config.c — configuration entry points called by the VLC runtime (through dlsym on the root
 * handle) before and after libraries are loaded into the namespace. See root.h for the invariant.
 */
#include "vlc/root/root.h"

#include "common/real.h"

#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <unistd.h>

_Atomic(struct vr_cfg *) vr_current;

static void format_list(const cpu_set_t *set, char *out, size_t cap)
{
    size_t n = 0;
    out[0] = 0;
    for (int i = 0; i < CPU_SETSIZE; i++) {
        if (!CPU_ISSET(i, set))
            continue;
        int j = i;
        while (j + 1 < CPU_SETSIZE && CPU_ISSET(j + 1, set))
            j++;
        n += (size_t)snprintf(out + n, cap - n, n ? ",%d" : "%d", i);
        if (j > i)
            n += (size_t)snprintf(out + n, cap - n, "-%d", j);
        if (n >= cap - 8)
            break;
        i = j;
    }
    snprintf(out + n, cap - n, "\n");
}

/* Keep the "processor : N" blocks of /proc/cpuinfo whose N is in the set. */
static char *filter_cpuinfo(const cpu_set_t *set, size_t *len)
{
    size_t n = 0;
    char *all = vr_slurp("/proc/cpuinfo", &n);
    if (!all)
        return NULL;
    char *out = malloc(n + 1);
    size_t o = 0;
    for (char *p = all; p < all + n;) {
        char *end = strstr(p, "\n\n");
        end = end ? end + 2 : all + n;
        int cpu = -1;
        if (sscanf(p, "processor : %d", &cpu) != 1)
            sscanf(p, "processor\t: %d", &cpu);
        if (cpu >= 0 && cpu < CPU_SETSIZE && CPU_ISSET(cpu, set)) {
            memcpy(out + o, p, (size_t)(end - p));
            o += (size_t)(end - p);
        }
        p = end;
    }
    out[o] = 0;
    free(all);
    *len = o;
    return out;
}

const char *vr_cpuinfo(struct vr_cfg *c)
{
    char *s = atomic_load_explicit(&c->cpuinfo, memory_order_acquire);
    if (s)
        return s;
    size_t n;
    char *mine = filter_cpuinfo(&c->set, &n);
    if (!mine)
        return NULL;
    if (!atomic_compare_exchange_strong(&c->cpuinfo, &s, mine)) {
        free(mine);
        return s;
    }
    return mine;
}

/* Set the context's CPUs (a cpu_set_t of `size` bytes). Returns 0 or -errno. Threads already
 * started in the namespace are re-pinned. */
VR_API int corun_vlc_root_configure(const void *mask, size_t size)
{
    struct vr_cfg *c = calloc(1, sizeof *c);
    if (!c)
        return -ENOMEM;
    memcpy(&c->set, mask, size < sizeof c->set ? size : sizeof c->set);
    c->ncpus = CPU_COUNT(&c->set);
    if (c->ncpus == 0) {
        free(c);
        return -EINVAL;
    }
    for (int i = 0; i < CPU_SETSIZE; i++)
        if (CPU_ISSET(i, &c->set))
            c->max_cpu = i;
    format_list(&c->set, c->list, sizeof c->list);
    for (int i = 0; i < 2; i++)
        atomic_init(&c->cache[i].fd, -1);
    atomic_store_explicit(&vr_current, c, memory_order_release);
    vr_threads_repin(c);
    return 0;
}

/* The namespace's own environment (its libc copy has its own environ). value NULL = unset. */
VR_API int corun_vlc_root_setenv(const char *name, const char *value)
{
    int r = value ? setenv(name, value, 1) : unsetenv(name);
    return r ? -errno : 0;
}

VR_API const char *corun_vlc_root_getenv(const char *name)
{
    return getenv(name);
}

int vr_memfd(const char *name, const char *data, size_t len, int cloexec)
{
    int fd = memfd_create(name, cloexec ? MFD_CLOEXEC : 0);
    if (fd < 0)
        return -1;
    size_t off = 0;
    while (off < len) {
        ssize_t w = write(fd, data + off, len - off);
        if (w <= 0) {
            int e = errno;
            close(fd);
            errno = e ? e : EIO;
            return -1;
        }
        off += (size_t)w;
    }
    lseek(fd, 0, SEEK_SET);
    return fd;
}

char *vr_slurp(const char *path, size_t *len)
{
    int fd = REAL(open)(path, O_RDONLY | O_CLOEXEC);
    if (fd < 0)
        return NULL;
    size_t cap = 16384, n = 0;
    char *buf = malloc(cap);
    for (;;) {
        if (n + 4096 > cap)
            buf = realloc(buf, cap *= 2);
        ssize_t r = read(fd, buf + n, cap - n - 1);
        if (r <= 0)
            break;
        n += (size_t)r;
    }
    close(fd);
    buf[n] = 0;
    *len = n;
    return buf;
}

/* Make a pooled namespace look new: the process's current environment, no thread history. */
VR_API void corun_vlc_root_reset(char *const *env)
{
    clearenv();
    for (char *const *e = env; e && *e; e++) {
        const char *eq = strchr(*e, '=');
        if (!eq)
            continue;
        char name[256];
        size_t n = (size_t)(eq - *e);
        if (n == 0 || n >= sizeof name)
            continue;
        memcpy(name, *e, n);
        name[n] = 0;
        setenv(name, eq + 1, 1);
    }
    vr_threads_reset();
    vr_route_reset();
}
