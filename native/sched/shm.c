/* shm.c — create, attach, validate, lock and repair an instance's shared segment (see shm.h).
 *
 * Invariant kept here: a process only ever uses a segment that is owned by its own user, mode
 * 0600, of this layout version, whose header checksum and size match; anything else is refused
 * with a one-line reason and never written to.
 */
#include "sched/shm.h"

#include "common/log.h"
#include "common/real.h"
#include "common/sys.h"

#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <unistd.h>

/* Not usleep: libcorun interposes on it (native/intercept/sleep.c). */
static void sleep_us(long us)
{
    struct timespec ts = {us / 1000000, (us % 1000000) * 1000};
    cr_syscall6(SYS_nanosleep, (long)&ts, 0, 0, 0, 0, 0);
}

size_t cr_shm_size(unsigned ncores, unsigned max_procs, unsigned max_threads)
{
    size_t hdr = (sizeof(struct cr_shm) + 63) & ~(size_t)63;
    size_t sz = hdr + (size_t)max_procs * sizeof(struct cr_proc) + (size_t)max_threads * sizeof(struct cr_thread) +
                (size_t)max_procs * ncores * sizeof(struct cr_queue);
    long page = sysconf(_SC_PAGESIZE);
    return (sz + (size_t)page - 1) & ~((size_t)page - 1);
}

int cr_mask_find(const uint64_t *m, unsigned ncores, int from)
{
    unsigned words = (ncores + 63) / 64;
    if (from < 0 || (unsigned)from >= ncores)
        from = 0;
    unsigned w0 = (unsigned)from >> 6;
    uint64_t first = m[w0] & (~0ull << (from & 63));
    if (first)
        return (int)(w0 * 64 + (unsigned)__builtin_ctzll(first));
    for (unsigned i = 1; i <= words; i++) {
        unsigned w = (w0 + i) % words;
        uint64_t bits = m[w];
        if (w == w0)
            bits &= ~(~0ull << (from & 63));
        if (bits) {
            int c = (int)(w * 64 + (unsigned)__builtin_ctzll(bits));
            return c < (int)ncores ? c : CR_NONE;
        }
    }
    return CR_NONE;
}

void cr_shm_name(const char *instance, char *buf, size_t len)
{
    snprintf(buf, len, "/corun-%u-%s", (unsigned)getuid(), instance);
}

static uint32_t header_checksum(const struct cr_shm *s)
{
    uint32_t h = 2166136261u;
    const uint32_t words[] = {s->version, s->uid, (uint32_t)s->total_size, (uint32_t)(s->total_size >> 32),
                              s->ncores, s->max_procs, s->max_threads};
    for (size_t i = 0; i < sizeof words / sizeof *words; i++)
        h = (h ^ words[i]) * 16777619u;
    for (unsigned c = 0; c < s->ncores && c < CR_MAX_CORES; c++)
        h = (h ^ (uint32_t)s->cpu_of_core[c]) * 16777619u;
    return h;
}

static int node_of_cpu(int cpu)
{
    char path[96];
    for (int node = 0; node < 64; node++) {
        snprintf(path, sizeof path, "/sys/devices/system/cpu/cpu%d/node%d", cpu, node);
        if (access(path, F_OK) == 0)
            return node;
    }
    return 0;
}

static void init_segment(struct cr_shm *s, size_t size, const int *cpus, int ncpus, unsigned quantum_us)
{
    s->version = CR_LAYOUT_VERSION;
    s->uid = (uint32_t)getuid();
    s->total_size = size;
    s->ncores = (uint32_t)ncpus;
    s->max_procs = CR_MAX_PROCS;
    s->max_threads = CR_MAX_THREADS;
    s->quantum_us = quantum_us;

    pthread_mutexattr_t a;
    pthread_mutexattr_init(&a);
    pthread_mutexattr_setpshared(&a, PTHREAD_PROCESS_SHARED);
    pthread_mutexattr_setrobust(&a, PTHREAD_MUTEX_ROBUST);
    REAL(pthread_mutex_init)(&s->lock, &a);
    pthread_mutexattr_destroy(&a);

    s->ring = s->turn = CR_NONE;
    for (int c = 0; c < CR_MAX_CORES; c++) {
        s->core_owner[c] = CR_NONE;
        s->cpu_of_core[c] = c < ncpus ? cpus[c] : -1;
        s->node_of_core[c] = (int16_t)(c < ncpus ? node_of_cpu(cpus[c]) : 0);
        if (c < ncpus)
            cr_mask_set(s->idle, c);
    }
    struct cr_proc *procs = cr_procs(s);
    for (unsigned p = 0; p < s->max_procs; p++) {
        procs[p].free_next = p + 1 < s->max_procs ? (int32_t)p + 1 : CR_NONE;
        procs[p].threads = CR_NONE;
    }
    s->proc_free = 0;
    s->thread_free = CR_NONE; /* slots beyond threads_used are handed out lazily (untouched pages) */
    s->threads_used = 0;
    struct cr_queue *q = cr_queue(s, 0, 0);
    for (size_t i = 0; i < (size_t)s->max_procs * s->ncores; i++)
        q[i].head = q[i].tail = CR_NONE;
    s->header_check = header_checksum(s);
    atomic_thread_fence(memory_order_release);
    s->magic = CR_MAGIC;
}

static struct cr_shm *fail(char *err, size_t len, const char *fmt, const char *name, const char *detail)
{
    if (err)
        snprintf(err, len, fmt, name, detail);
    return NULL;
}

/* Create the segment under a private name, initialise it completely, then publish it under the
 * instance's name with link() (which never replaces). So a segment visible under the instance's
 * name is always fully initialised, even if its creator is killed half-way. Returns NULL with
 * err empty when another process published first. */
static struct cr_shm *create_published(const char *name, const char *path, const int *cpus, int ncpus,
                                       unsigned quantum_us, char *err, size_t errlen)
{
    char tmpname[192], tmppath[224];
    snprintf(tmpname, sizeof tmpname, "%s.init-%d", name, cr_getpid());
    snprintf(tmppath, sizeof tmppath, "/dev/shm%s", tmpname);
    size_t size = cr_shm_size((unsigned)ncpus, CR_MAX_PROCS, CR_MAX_THREADS);
    if (err && errlen)
        err[0] = 0;
    shm_unlink(tmpname); /* a leftover of a creator with our pid that was killed */
    int fd = shm_open(tmpname, O_RDWR | O_CREAT | O_EXCL | O_CLOEXEC, 0600);
    if (fd < 0)
        return fail(err, errlen, "cannot create shared segment %s: %s", tmppath, strerror(errno));
    struct cr_shm *s = MAP_FAILED;
    if (fchmod(fd, 0600) == 0 && ftruncate(fd, (off_t)size) == 0)
        s = mmap(NULL, size, PROT_READ | PROT_WRITE, MAP_SHARED, fd, 0);
    int saved = errno;
    close(fd);
    if (s == MAP_FAILED) {
        shm_unlink(tmpname);
        return fail(err, errlen, "cannot size shared segment %s: %s", tmppath, strerror(saved));
    }
    init_segment(s, size, cpus, ncpus, quantum_us);
    int r = link(tmppath, path);
    saved = errno;
    shm_unlink(tmpname);
    if (r == 0)
        return s;
    munmap(s, size);
    if (saved == EEXIST)
        return NULL;
    return fail(err, errlen, "cannot publish shared segment %s: %s", path, strerror(saved));
}

static bool same_cpus(const struct cr_shm *s, const int *cpus, int ncpus)
{
    if ((int)s->ncores != ncpus)
        return false;
    for (int c = 0; c < ncpus; c++)
        if (s->cpu_of_core[c] != cpus[c])
            return false;
    return true;
}

static void format_cpus(const int *cpus, int n, char *buf, size_t len)
{
    size_t off = 0;
    buf[0] = 0;
    for (int i = 0; i < n && off + 12 < len;) {
        int j = i;
        while (j + 1 < n && cpus[j + 1] == cpus[j] + 1)
            j++;
        off += (size_t)snprintf(buf + off, len - off, i == j ? "%s%d" : "%s%d-%d", off ? "," : "", cpus[i], cpus[j]);
        i = j + 1;
    }
}

struct cr_shm *cr_shm_open(const char *instance, const int *cpus, int ncpus, unsigned quantum_us, bool create,
                           char *err, size_t errlen)
{
    char name[128], path[160];
    cr_shm_name(instance, name, sizeof name);
    snprintf(path, sizeof path, "/dev/shm%s", name);
    if (ncpus < 1 || ncpus > CR_MAX_CORES)
        return fail(err, errlen, "instance %s: %s", instance, "managed CPU count must be 1..1024");

    for (int attempt = 0; attempt < 50; attempt++) {
        int fd = shm_open(name, O_RDWR | O_CLOEXEC, 0);
        if (fd < 0 && errno == ENOENT && create) {
            struct cr_shm *s = create_published(name, path, cpus, ncpus, quantum_us, err, errlen);
            if (s || (err && err[0]))
                return s;
            continue; /* another process published first: attach to theirs */
        }
        if (fd < 0) {
            if (errno == ENOENT)
                return fail(err, errlen, "instance %s: %s", instance, "no such instance (no managed process is running)");
            return fail(err, errlen, "cannot open shared segment %s: %s", path, strerror(errno));
        }
        struct stat st;
        if (fstat(fd, &st) != 0) {
            close(fd);
            return fail(err, errlen, "cannot stat shared segment %s: %s", path, strerror(errno));
        }
        if (st.st_uid != getuid()) {
            close(fd);
            return fail(err, errlen, "refusing shared segment %s: %s", path, "owned by another user");
        }
        if (st.st_mode & 077) {
            close(fd);
            return fail(err, errlen, "refusing shared segment %s: %s", path, "accessible to other users (mode is not 0600)");
        }
        if ((size_t)st.st_size < sizeof(struct cr_shm)) {
            close(fd);
            return fail(err, errlen, "refusing shared segment %s: %s (remove it to start afresh)", path, "too small to be a corun segment");
        }
        struct cr_shm *s = mmap(NULL, (size_t)st.st_size, PROT_READ | PROT_WRITE, MAP_SHARED, fd, 0);
        close(fd);
        if (s == MAP_FAILED)
            return fail(err, errlen, "cannot map shared segment %s: %s", path, strerror(errno));
        const char *bad = NULL; /* published segments are complete (create_published) */
        if (s->magic != CR_MAGIC)
            bad = "not a corun segment";
        else if (s->version != CR_LAYOUT_VERSION)
            bad = "made by another corun version (layout differs)";
        else if (s->uid != getuid())
            bad = "header names another user";
        else if (s->total_size != (uint64_t)st.st_size || s->ncores < 1 || s->ncores > CR_MAX_CORES ||
                 s->max_procs != CR_MAX_PROCS || s->max_threads != CR_MAX_THREADS ||
                 s->header_check != header_checksum(s) ||
                 s->total_size != cr_shm_size(s->ncores, s->max_procs, s->max_threads))
            bad = "corrupt header";
        if (bad) {
            munmap(s, (size_t)st.st_size);
            if (err)
                snprintf(err, errlen, "refusing shared segment %s: %s (remove it with 'rm %s' if no corun process uses it)",
                         path, bad, path);
            return NULL;
        }
        if (atomic_load(&s->removed)) { /* last user left and unlinked it; make a new one */
            munmap(s, (size_t)st.st_size);
            sleep_us(1000);
            continue;
        }
        if (cpus && !same_cpus(s, cpus, ncpus)) {
            char have[256], want[256];
            format_cpus(s->cpu_of_core, (int)s->ncores, have, sizeof have);
            format_cpus(cpus, ncpus, want, sizeof want);
            if (err)
                snprintf(err, errlen, "instance %s manages CPUs %s, not %s: use another --instance or the same --cpus",
                         instance, have, want);
            munmap(s, (size_t)st.st_size);
            return NULL;
        }
        return s;
    }
    return fail(err, errlen, "instance %s: %s", instance, "segment kept disappearing while attaching");
}

void cr_shm_lock(struct cr_shm *s)
{
    int r = REAL(pthread_mutex_lock)(&s->lock);
    if (r == EOWNERDEAD) {
        cr_log(CR_LOG_WARNING, "a managed process died inside the scheduler; repairing shared state");
        cr_shm_repair(s);
        pthread_mutex_consistent(&s->lock);
    } else if (r != 0) {
        cr_log(CR_LOG_ERROR, "scheduler lock failed: %s", strerror(r));
        abort();
    }
}

void cr_shm_unlock(struct cr_shm *s)
{
    REAL(pthread_mutex_unlock)(&s->lock);
}

/* One read of /proc/<pid>/stat: state letter and start time (field 22). False if unreadable. */
static bool read_stat(int pid, char *state, uint64_t *starttime)
{
    char path[64], buf[1024];
    snprintf(path, sizeof path, "/proc/%d/stat", pid);
    int fd = open(path, O_RDONLY | O_CLOEXEC);
    if (fd < 0)
        return false;
    ssize_t n = read(fd, buf, sizeof buf - 1);
    close(fd);
    if (n <= 0)
        return false;
    buf[n] = 0;
    char *p = strrchr(buf, ')'); /* comm may contain spaces and parentheses */
    if (!p || p[1] != ' ')
        return false;
    *state = p[2];
    int field = 2; /* p points into field 2 (comm); count spaces up to field 22 */
    for (; *p && field < 22; p++)
        if (*p == ' ')
            field++;
    *starttime = strtoull(p, NULL, 10);
    return true;
}

uint64_t cr_proc_starttime(int pid)
{
    char state;
    uint64_t start;
    return read_stat(pid, &state, &start) ? start : 0;
}

bool cr_proc_alive(const struct cr_proc *p)
{
    if (p->pid <= 0 || (kill(p->pid, 0) != 0 && errno == ESRCH))
        return false;
    char state;
    uint64_t start;
    if (!read_stat(p->pid, &state, &start))
        return true; /* no /proc: trust kill() */
    if (state == 'Z' || state == 'X')
        return false; /* killed, not yet reaped by its parent */
    return p->starttime == 0 || start == p->starttime;
}
