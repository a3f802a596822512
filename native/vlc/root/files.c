/* files.c — virtual resource files. Read-only opens of /proc/cpuinfo, /proc/self/status (and
 * /proc/<our pid>/status, /proc/thread-self/status), /sys/devices/system/cpu/{online,possible,present}
 * return a fresh memfd holding the context's view; everything else passes through untouched.
 *
 * Invariant: each open returns a new open file description (own offset), so concurrent readers
 * never disturb each other, and the fd behaves like a regular file (read, lseek, fstat, mmap).
 * The static texts (cpuinfo, CPU lists) live in one memfd per configuration that stays open (one
 * extra descriptor each, close-on-exec); status files are regenerated on every open.
 */
#include "vlc/root/root.h"

#include "common/real.h"

#include <errno.h>
#include <fcntl.h>
#include <pthread.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

enum vfile { VF_NONE, VF_CPUINFO, VF_STATUS, VF_CPULIST };

static enum vfile classify(const char *p)
{
    if (!p || p[0] != '/')
        return VF_NONE;
    if (p[1] == 's') {
        static const char sys[] = "/sys/devices/system/cpu/";
        if (strncmp(p, sys, sizeof sys - 1))
            return VF_NONE;
        const char *f = p + sizeof sys - 1;
        return (!strcmp(f, "online") || !strcmp(f, "possible") || !strcmp(f, "present")) ? VF_CPULIST : VF_NONE;
    }
    if (p[1] != 'p' || strncmp(p, "/proc/", 6))
        return VF_NONE;
    const char *f = p + 6;
    if (!strcmp(f, "cpuinfo"))
        return VF_CPUINFO;
    if (!strcmp(f, "self/status") || !strcmp(f, "thread-self/status"))
        return VF_STATUS;
    char *end;
    long pid = strtol(f, &end, 10);
    if (end != f && pid == getpid() && !strcmp(end, "/status"))
        return VF_STATUS;
    return VF_NONE;
}

/* Kernel format of a mask: 32-bit hex words, most significant first, separated by commas. */
static size_t format_mask(const cpu_set_t *s, int words, char *out, size_t cap)
{
    size_t n = 0;
    for (int w = words - 1; w >= 0; w--) {
        unsigned v = 0;
        for (int b = 0; b < 32; b++)
            if (w * 32 + b < CPU_SETSIZE && CPU_ISSET(w * 32 + b, s))
                v |= 1u << b;
        n += (size_t)snprintf(out + n, cap - n, w == words - 1 ? "%x" : ",%08x", v);
    }
    return n;
}

/* The real status file with Cpus_allowed and Cpus_allowed_list replaced. */
static char *virtual_status(const struct vr_cfg *c, const char *path, size_t *len)
{
    size_t n;
    char *real = vr_slurp(path, &n);
    if (!real)
        return NULL;
    char *out = malloc(n + 2048);
    size_t o = 0;
    for (char *line = real; line < real + n;) {
        char *nl = strchr(line, '\n');
        char *next = nl ? nl + 1 : real + n;
        if (!strncmp(line, "Cpus_allowed:", 13)) {
            int words = 1;
            for (char *q = line; q < next; q++)
                words += *q == ',';
            o += (size_t)snprintf(out + o, 64, "Cpus_allowed:\t");
            o += format_mask(&c->set, words, out + o, 1024);
            out[o++] = '\n';
        } else if (!strncmp(line, "Cpus_allowed_list:", 18)) {
            o += (size_t)snprintf(out + o, 1100, "Cpus_allowed_list:\t%s", c->list);
        } else {
            memcpy(out + o, line, (size_t)(next - line));
            o += (size_t)(next - line);
        }
        line = next;
    }
    free(real);
    *len = o;
    return out;
}

static pthread_mutex_t cache_lock = PTHREAD_MUTEX_INITIALIZER;

/* A new description of c's memfd, or -1 when it is missing or no longer ours. */
static int reopen(struct vr_cached *c, int flags)
{
    struct stat st;
    int fd = atomic_load_explicit(&c->fd, memory_order_acquire);
    if (fd < 0 || fstat(fd, &st) || (unsigned long)st.st_ino != atomic_load(&c->ino))
        return -1;
    char path[40];
    snprintf(path, sizeof path, "/proc/self/fd/%d", fd);
    return REAL(open)(path, O_RDONLY | (flags & O_CLOEXEC));
}

/* Open a new description of the cached memfd for `text`, (re)creating the memfd when needed. */
static int open_cached(struct vr_cached *c, const char *name, const char *text, int flags)
{
    int r = reopen(c, flags);
    if (r >= 0)
        return r;
    pthread_mutex_lock(&cache_lock);
    r = reopen(c, flags);   /* another thread may have just made it */
    if (r < 0) {
        struct stat st;
        int mine = vr_memfd(name, text, strlen(text), 1);
        if (mine >= 0 && fstat(mine, &st) == 0) {
            /* The old descriptor, if any, is not ours any more: never close it. */
            atomic_store_explicit(&c->fd, -1, memory_order_release);
            atomic_store_explicit(&c->ino, (unsigned long)st.st_ino, memory_order_release);
            atomic_store_explicit(&c->fd, mine, memory_order_release);
            r = reopen(c, flags);
        } else if (mine >= 0) {
            close(mine);
        }
    }
    pthread_mutex_unlock(&cache_lock);
    return r >= 0 ? r : vr_memfd(name, text, strlen(text), (flags & O_CLOEXEC) != 0);
}

/* fd of the virtual file, -1 with errno on failure, or -2 when `path` is not virtualized. */
static int open_virtual(const char *path, int flags)
{
    if ((flags & O_ACCMODE) != O_RDONLY || (flags & (O_DIRECTORY | O_CREAT | O_PATH)))
        return -2;
    enum vfile k = classify(path);
    struct vr_cfg *c;
    if (k == VF_NONE || !(c = vr_cfg()))
        return -2;
    int cloexec = (flags & O_CLOEXEC) != 0;
    if (k == VF_CPUINFO) {
        const char *info = vr_cpuinfo(c);
        if (!info)
            return -2;
        return open_cached(&c->cache[0], "corun-vlc-cpuinfo", info, flags);
    }
    if (k == VF_CPULIST)
        return open_cached(&c->cache[1], "corun-vlc-cpulist", c->list, flags);
    size_t n;
    char *s = virtual_status(c, path, &n);
    if (!s)
        return -2;
    int fd = vr_memfd("corun-vlc-status", s, n, cloexec);
    free(s);
    return fd;
}

#define MODE_ARG(flags, mode)                                                                      \
    mode_t mode = 0;                                                                               \
    if ((flags) & (O_CREAT | __O_TMPFILE)) {                                                       \
        va_list ap;                                                                                \
        va_start(ap, flags);                                                                       \
        mode = va_arg(ap, mode_t);                                                                 \
        va_end(ap);                                                                                \
    }

VR_API int open(const char *path, int flags, ...)
{
    MODE_ARG(flags, mode);
    int fd = open_virtual(path, flags);
    return fd != -2 ? fd : REAL(open)(path, flags, mode);
}

VR_API int open64(const char *path, int flags, ...)
{
    MODE_ARG(flags, mode);
    int fd = open_virtual(path, flags);
    return fd != -2 ? fd : REAL(open64)(path, flags, mode);
}

VR_API int openat(int dirfd, const char *path, int flags, ...)
{
    MODE_ARG(flags, mode);
    int fd = open_virtual(path, flags);
    return fd != -2 ? fd : REAL(openat)(dirfd, path, flags, mode);
}

VR_API int openat64(int dirfd, const char *path, int flags, ...)
{
    MODE_ARG(flags, mode);
    int fd = open_virtual(path, flags);
    return fd != -2 ? fd : REAL(openat64)(dirfd, path, flags, mode);
}

/* Fortified forms (_FORTIFY_SOURCE builds call these when no mode is passed). */
VR_API int __open_2(const char *path, int flags)
{
    return open(path, flags);
}

VR_API int __open64_2(const char *path, int flags)
{
    return open64(path, flags);
}

VR_API int __openat_2(int dirfd, const char *path, int flags)
{
    return openat(dirfd, path, flags);
}

VR_API int __openat64_2(int dirfd, const char *path, int flags)
{
    return openat64(dirfd, path, flags);
}

static FILE *fopen_virtual(const char *path, const char *mode)
{
    if (!mode || mode[0] != 'r' || strchr(mode, '+'))
        return (FILE *)-1;
    int fd = open_virtual(path, O_RDONLY | (strchr(mode, 'e') ? O_CLOEXEC : 0));
    if (fd == -2)
        return (FILE *)-1;
    if (fd < 0)
        return NULL;
    FILE *f = fdopen(fd, mode);
    if (!f)
        close(fd);
    return f;
}

VR_API FILE *fopen(const char *path, const char *mode)
{
    FILE *f = fopen_virtual(path, mode);
    return f != (FILE *)-1 ? f : REAL(fopen)(path, mode);
}

VR_API FILE *fopen64(const char *path, const char *mode)
{
    FILE *f = fopen_virtual(path, mode);
    return f != (FILE *)-1 ? f : REAL(fopen64)(path, mode);
}
