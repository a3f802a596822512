/* bench_lib.c — timing loops run from inside a context (or outside, when loaded plainly), so the
 * cost of each interposed call is measured where libraries make it. Each returns ns per call. */
#define _GNU_SOURCE
#include <fcntl.h>
#include <sched.h>
#include <sys/mman.h>
#include <time.h>
#include <unistd.h>

static double now_ns(void)
{
    struct timespec t;
    clock_gettime(CLOCK_MONOTONIC, &t);
    return t.tv_sec * 1e9 + t.tv_nsec;
}

double bench_sched_getaffinity(long n)
{
    cpu_set_t s;
    double t0 = now_ns();
    for (long i = 0; i < n; i++)
        sched_getaffinity(0, sizeof s, &s);
    return (now_ns() - t0) / n;
}

double bench_sysconf(long n)
{
    volatile long sink = 0;
    double t0 = now_ns();
    for (long i = 0; i < n; i++)
        sink += sysconf(_SC_NPROCESSORS_ONLN);
    return (now_ns() - t0) / n;
}

/* open + close of /proc/cpuinfo (what a library does to count processors, minus parsing). */
double bench_open_cpuinfo(long n)
{
    double t0 = now_ns();
    for (long i = 0; i < n; i++)
        close(open("/proc/cpuinfo", O_RDONLY));
    return (now_ns() - t0) / n;
}

/* open + read everything + close. */
double bench_read_cpuinfo(long n)
{
    char buf[65536];
    double t0 = now_ns();
    for (long i = 0; i < n; i++) {
        int fd = open("/proc/cpuinfo", O_RDONLY);
        while (read(fd, buf, sizeof buf) > 0)
            ;
        close(fd);
    }
    return (now_ns() - t0) / n;
}

/* mmap of one anonymous page (not interposed: the control). */
double bench_mmap(long n)
{
    double t0 = now_ns();
    for (long i = 0; i < n; i++) {
        void *p = mmap(NULL, 4096, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
        munmap(p, 4096);
    }
    return (now_ns() - t0) / n;
}
