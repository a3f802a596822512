/* probe.c — a test library that reports what it sees from inside a context, and keeps unprotected
 * static state (probe_accumulate) to show that each context has its own instance. */
#define _GNU_SOURCE
#include <dlfcn.h>
#include <fcntl.h>
#include <pthread.h>
#include <sched.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/syscall.h>
#include <sys/sysinfo.h>
#include <unistd.h>

static unsigned long mask_bits(const cpu_set_t *s)
{
    unsigned long m = 0;
    for (int i = 0; i < 64; i++)
        if (CPU_ISSET(i, s))
            m |= 1ul << i;
    return m;
}

/* The calling thread's real affinity (raw syscall: not virtualized). */
unsigned long probe_raw_affinity(void)
{
    cpu_set_t s;
    CPU_ZERO(&s);
    syscall(SYS_sched_getaffinity, 0, sizeof s, &s);
    return mask_bits(&s);
}

unsigned long probe_sched_getaffinity(void)
{
    cpu_set_t s;
    return sched_getaffinity(0, sizeof s, &s) ? 0 : mask_bits(&s);
}

unsigned long probe_pthread_getaffinity(void)
{
    cpu_set_t s;
    return pthread_getaffinity_np(pthread_self(), sizeof s, &s) ? 0 : mask_bits(&s);
}

long probe_sysconf_onln(void) { return sysconf(_SC_NPROCESSORS_ONLN); }
long probe_sysconf_conf(void) { return sysconf(_SC_NPROCESSORS_CONF); }
int probe_get_nprocs(void) { return get_nprocs(); }
int probe_get_nprocs_conf(void) { return get_nprocs_conf(); }

/* Contents of path read with open()/read() (mode 0) or fopen()/fread() (mode 1). */
int probe_read(const char *path, int mode, char *buf, int cap)
{
    int n = 0;
    if (mode == 0) {
        int fd = open(path, O_RDONLY | O_CLOEXEC);
        if (fd < 0)
            return -1;
        int r;
        while (n < cap - 1 && (r = (int)read(fd, buf + n, (size_t)(cap - 1 - n))) > 0)
            n += r;
        close(fd);
    } else {
        FILE *f = fopen(path, "re");
        if (!f)
            return -1;
        n = (int)fread(buf, 1, (size_t)cap - 1, f);
        fclose(f);
    }
    buf[n] = 0;
    return n;
}

int probe_cpuinfo_processors(void)
{
    FILE *f = fopen("/proc/cpuinfo", "r");
    if (!f)
        return -1;
    char line[512];
    int n = 0;
    while (fgets(line, sizeof line, f))
        n += strncmp(line, "processor", 9) == 0;
    fclose(f);
    return n;
}

static void *report(void *out)
{
    *(unsigned long *)out = probe_raw_affinity();
    return NULL;
}

/* Real affinity of a thread this library creates, sampled by the thread itself at its start. */
unsigned long probe_thread_affinity(void)
{
    unsigned long m = 0;
    pthread_t t;
    if (pthread_create(&t, NULL, report, &m))
        return 0;
    pthread_join(t, NULL);
    return m;
}

static void *park(void *stop)
{
    while (!__atomic_load_n((int *)stop, __ATOMIC_ACQUIRE))
        usleep(1000);
    return NULL;
}

static pthread_t parked[16];
static int nparked, stop_flag;

/* Start n threads that stay alive until probe_stop_threads(). */
int probe_start_threads(int n)
{
    stop_flag = 0;
    for (nparked = 0; nparked < n && nparked < 16; nparked++)
        if (pthread_create(&parked[nparked], NULL, park, &stop_flag))
            break;
    return nparked;
}

void probe_stop_threads(void)
{
    __atomic_store_n(&stop_flag, 1, __ATOMIC_RELEASE);
    for (int i = 0; i < nparked; i++)
        pthread_join(parked[i], NULL);
    nparked = 0;
}

/* Ask for `want` (a mask) and report the real affinity obtained; restores the previous one. */
unsigned long probe_setaffinity(unsigned long want)
{
    cpu_set_t s, old;
    CPU_ZERO(&s);
    syscall(SYS_sched_getaffinity, 0, sizeof old, &old);
    for (int i = 0; i < 64; i++)
        if (want >> i & 1)
            CPU_SET(i, &s);
    if (sched_setaffinity(0, sizeof s, &s))
        return 0;
    unsigned long got = probe_raw_affinity();
    syscall(SYS_sched_setaffinity, 0, sizeof old, &old);
    return got;
}

const char *probe_getenv(const char *name) { return getenv(name); }

/* dlopen with RTLD_GLOBAL (crashes glibc 2.36 inside a namespace unless the root drops the flag). */
int probe_dlopen_global(const char *path)
{
    void *h = dlopen(path, RTLD_NOW | RTLD_GLOBAL);
    return h != NULL;
}

/* Thread-unsafe: a read-modify-write of static state with a window in between. */
static volatile long counter;

long probe_accumulate(long n)
{
    for (long i = 0; i < n; i++) {
        long v = counter;
        for (volatile int k = 0; k < 50; k++)
            ;
        counter = v + 1;
    }
    return counter;
}

void probe_reset(void) { counter = 0; }

/* Address of the static state, to show instances are distinct. */
const void *probe_state_address(void) { return (const void *)&counter; }
