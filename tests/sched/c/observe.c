/* observe INSTANCE SECONDS INTERVAL_US
 * An independent observer: maps the instance's segment read-only (no lock taken, so it never
 * perturbs the scheduler's critical sections) and samples, every INTERVAL_US, the scheduler's
 * view of every managed thread next to the kernel's:
 *   T <t_ns>
 *   <tid> <pid> <sched_state> <core_cpu or -1> <kernel_state> <last_cpu> <allowed_cpu or -1> <runtime_ns>
 * sched_state: 1 running, 2 ready, 3 blocked, 4 stolen (shm.h); allowed_cpu is the single CPU of
 * Cpus_allowed_list, -1 when the list has several; runtime_ns is schedstat's first field.
 * The two views are read microseconds apart, not atomically. Built with -I native. */
#include "sched/shm.h"

#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

static uint64_t now_ns(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (uint64_t)ts.tv_sec * 1000000000ull + (uint64_t)ts.tv_nsec;
}

static int slurp(const char *path, char *buf, size_t len)
{
    int fd = open(path, O_RDONLY | O_CLOEXEC);
    if (fd < 0)
        return -1;
    ssize_t n = read(fd, buf, len - 1);
    close(fd);
    if (n <= 0)
        return -1;
    buf[n] = 0;
    return (int)n;
}

int main(int argc, char **argv)
{
    if (argc < 4)
        return 2;
    char path[256];
    snprintf(path, sizeof path, "/dev/shm/corun-%u-%s", (unsigned)getuid(), argv[1]);
    double seconds = atof(argv[2]);
    unsigned interval = (unsigned)atoi(argv[3]);
    int fd = open(path, O_RDONLY | O_CLOEXEC);
    if (fd < 0) {
        perror(path);
        return 1;
    }
    struct stat st;
    fstat(fd, &st);
    struct cr_shm *s = mmap(NULL, (size_t)st.st_size, PROT_READ, MAP_SHARED, fd, 0);
    close(fd);
    if (s == MAP_FAILED || s->magic != CR_MAGIC || s->version != CR_LAYOUT_VERSION) {
        fprintf(stderr, "not a corun segment of this layout\n");
        return 1;
    }
    struct cr_thread *threads = cr_threads(s);
    struct cr_proc *procs = cr_procs(s);
    uint64_t end = now_ns() + (uint64_t)(seconds * 1e9);
    static char buf[4096], out[1 << 20];
    while (now_ns() < end) {
        uint64_t t0 = now_ns();
        size_t o = (size_t)snprintf(out, sizeof out, "T %llu\n", (unsigned long long)t0);
        unsigned used = s->threads_used;
        for (unsigned t = 0; t < used && t < s->max_threads; t++) {
            int state = atomic_load(&threads[t].state);
            if (state == CR_FREE)
                continue;
            int tid = threads[t].tid, proc = threads[t].proc, core = threads[t].core;
            if (tid <= 0 || proc < 0 || (unsigned)proc >= s->max_procs)
                continue;
            int pid = procs[proc].pid;
            int core_cpu = state == CR_RUNNING && core >= 0 && (unsigned)core < s->ncores ? s->cpu_of_core[core] : -1;
            char p[96];
            snprintf(p, sizeof p, "/proc/%d/task/%d/stat", pid, tid);
            if (slurp(p, buf, sizeof buf) < 0)
                continue;
            char *q = strrchr(buf, ')');
            if (!q)
                continue;
            char kstate = q[2];
            int field = 3, kcpu = -1;
            for (char *c = q + 2; *c; c++)
                if (*c == ' ' && ++field == 39) {
                    kcpu = atoi(c + 1);
                    break;
                }
            snprintf(p, sizeof p, "/proc/%d/task/%d/status", pid, tid);
            int allowed = -2;
            if (slurp(p, buf, sizeof buf) > 0) {
                char *a = strstr(buf, "Cpus_allowed_list:");
                if (a) {
                    a += strlen("Cpus_allowed_list:");
                    while (*a == ' ' || *a == '\t')
                        a++;
                    char *e = a + strcspn(a, "\n");
                    allowed = memchr(a, ',', (size_t)(e - a)) || memchr(a, '-', (size_t)(e - a)) ? -1 : atoi(a);
                }
            }
            snprintf(p, sizeof p, "/proc/%d/task/%d/schedstat", pid, tid);
            unsigned long long rt = 0;
            if (slurp(p, buf, sizeof buf) > 0)
                rt = strtoull(buf, NULL, 10);
            o += (size_t)snprintf(out + o, sizeof out - o, "%d %d %d %d %c %d %d %llu\n", tid, pid, state, core_cpu,
                                  kstate, kcpu, allowed, rt);
            if (o > sizeof out - 256)
                break;
        }
        fwrite(out, 1, o, stdout);
        uint64_t spent = (now_ns() - t0) / 1000;
        if (spent < interval)
            usleep((useconds_t)(interval - spent));
    }
    return 0;
}
