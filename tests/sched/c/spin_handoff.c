/* spin_handoff NTHREADS SECONDS [NPROCS [EVERY]]
 * NPROCS processes (the first forks the others) of NTHREADS threads each. Every thread busy-spins
 * in short chunks and now and then takes part in a baton ring through a mutex and a condvar
 * every EVERY chunks of ~25 us (default 100) (the holder passes the baton on and broadcasts; the
 * others wait up to 2 ms for it).
 * Prints "OK pid=<pid> work=<chunks> passes=<passes> starved=<threads that did nothing>
 * min=<least work of a thread> offcore=<chunks>" per process; exits 0 when every thread did work
 * and the baton moved (3 otherwise).
 * Under corun (CORUN_INSTANCE set) each thread also watches its own slot in the instance's
 * segment, mapped read-only (watched: threads that found their slot): offcore counts the work chunks after which the scheduler did not
 * consider the thread RUNNING (user code run without a core). Built with -I native. */
#include "sched/shm.h"

#include <fcntl.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

static int nthreads, every = 100;
static double seconds;
static pthread_mutex_t m = PTHREAD_MUTEX_INITIALIZER;
static pthread_cond_t cv = PTHREAD_COND_INITIALIZER;
static int baton;
static long passes;
static long work[256];
static struct timespec t_end;
static struct cr_shm *seg;
static long offcore[256];
static _Atomic int watched;

static void map_segment(void)
{
    const char *in = getenv("CORUN_INSTANCE");
    char p[256];
    struct stat st;
    if (!in || !getenv("LD_PRELOAD"))
        return;
    snprintf(p, sizeof p, "/dev/shm/corun-%u-%s", (unsigned)getuid(), in);
    int fd = open(p, O_RDONLY | O_CLOEXEC);
    if (fd < 0)
        return;
    if (fstat(fd, &st) == 0) {
        void *m = mmap(NULL, (size_t)st.st_size, PROT_READ, MAP_SHARED, fd, 0);
        seg = m == MAP_FAILED ? NULL : m;
    }
    close(fd);
}

static struct cr_thread *my_slot(void)
{
    if (!seg || seg->magic != CR_MAGIC || seg->version != CR_LAYOUT_VERSION)
        return NULL;
    int tid = (int)syscall(SYS_gettid);
    struct cr_thread *th = cr_threads(seg);
    for (unsigned t = 0; t < seg->threads_used && t < seg->max_threads; t++)
        if (th[t].tid == tid && atomic_load(&th[t].state) != CR_FREE)
            return &th[t];
    return NULL;
}

static int past(const struct timespec *e)
{
    struct timespec now;
    clock_gettime(CLOCK_MONOTONIC, &now);
    return now.tv_sec > e->tv_sec || (now.tv_sec == e->tv_sec && now.tv_nsec >= e->tv_nsec);
}

static void *worker(void *arg)
{
    int id = (int)(long)arg;
    volatile unsigned long x = 0;
    long n = 0;
    struct cr_thread *me = my_slot();
    if (me)
        atomic_fetch_add(&watched, 1);
    while (!past(&t_end)) {
        for (int i = 0; i < 20000; i++) /* ~20-50 us */
            x += (unsigned long)i * (unsigned long)id;
        n++;
        if (me && atomic_load(&me->state) != CR_RUNNING)
            offcore[id]++;
        if (n % every == 0) {
            pthread_mutex_lock(&m);
            if (baton == id) {
                baton = (id + 1) % nthreads;
                passes++;
                pthread_cond_broadcast(&cv);
            } else {
                struct timespec dl;
                clock_gettime(CLOCK_REALTIME, &dl);
                dl.tv_nsec += 2000000;
                if (dl.tv_nsec >= 1000000000) { dl.tv_sec++; dl.tv_nsec -= 1000000000; }
                int start = baton;
                while (baton == start && !past(&t_end))
                    if (pthread_cond_timedwait(&cv, &m, &dl) != 0)
                        break;
            }
            pthread_mutex_unlock(&m);
        }
    }
    work[id] = n;
    return NULL;
}

static int run_process(void)
{
    pthread_t t[256];
    clock_gettime(CLOCK_MONOTONIC, &t_end);
    t_end.tv_sec += (time_t)seconds;
    t_end.tv_nsec += (long)((seconds - (double)(time_t)seconds) * 1e9);
    if (t_end.tv_nsec >= 1000000000) { t_end.tv_sec++; t_end.tv_nsec -= 1000000000; }
    for (int i = 0; i < nthreads; i++)
        if (pthread_create(&t[i], NULL, worker, (void *)(long)i) != 0)
            return 10;
    long total = 0, off = 0;
    int idle = 0;
    for (int i = 0; i < nthreads; i++) {
        pthread_join(t[i], NULL);
        total += work[i];
        off += offcore[i];
        idle += work[i] == 0;
    }
    long mn = work[0]; for (int i = 1; i < nthreads; i++) if (work[i] < mn) mn = work[i];
    printf("OK pid=%d work=%ld passes=%ld starved=%d min=%ld offcore=%ld watched=%d\n", (int)getpid(), total, passes,
           idle, mn, off, atomic_load(&watched));
    fflush(stdout);
    return idle || passes == 0 ? 3 : 0;
}

int main(int argc, char **argv)
{
    map_segment();
    nthreads = argc > 1 ? atoi(argv[1]) : 8;
    seconds = argc > 2 ? atof(argv[2]) : 2.0;
    int nprocs = argc > 3 ? atoi(argv[3]) : 1;
    every = argc > 4 ? atoi(argv[4]) : 100;
    if (nthreads < 1 || nthreads > 256)
        return 9;
    pid_t kids[64];
    for (int p = 1; p < nprocs; p++) {
        pid_t k = fork();
        if (k == 0)
            return run_process();
        kids[p] = k;
    }
    int rc = run_process();
    for (int p = 1; p < nprocs; p++) {
        int st;
        if (waitpid(kids[p], &st, 0) != kids[p] || !WIFEXITED(st) || WEXITSTATUS(st) != 0)
            rc = rc ? rc : 4;
    }
    return rc;
}
