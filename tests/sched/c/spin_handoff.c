/* spin_handoff NTHREADS SECONDS [NPROCS [EVERY]]
 * NPROCS processes (the first forks the others) of NTHREADS threads each. Every thread busy-spins
 * in short chunks and now and then takes part in a baton ring through a mutex and a condvar
 * every EVERY chunks of ~25 us (default 100) (the holder passes the baton on and broadcasts; the
 * others wait up to 2 ms for it).
 * Prints "OK pid=<pid> work=<chunks> passes=<passes>" per process; exits 0 when every process
 * did work and passed the baton. */
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
    while (!past(&t_end)) {
        for (int i = 0; i < 20000; i++) /* ~20-50 us */
            x += (unsigned long)i * (unsigned long)id;
        n++;
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
    long total = 0;
    int idle = 0;
    for (int i = 0; i < nthreads; i++) {
        pthread_join(t[i], NULL);
        total += work[i];
        idle += work[i] == 0;
    }
    long mn = work[0]; for (int i = 1; i < nthreads; i++) if (work[i] < mn) mn = work[i];
    printf("OK pid=%d work=%ld passes=%ld starved=%d min=%ld\n", (int)getpid(), total, passes, idle, mn);
    fflush(stdout);
    return idle || passes == 0 ? 3 : 0;
}

int main(int argc, char **argv)
{
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
