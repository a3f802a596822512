/* victim NTHREADS MODE: threads that run until the process is killed.
 * MODE spin:  busy loops that never reach a scheduling point (hold their cores);
 * MODE churn: tight loops of scheduling points (sleeps of 1 us, contended mutex, sched_yield,
 *             short-lived threads), so that a SIGKILL often lands inside the scheduler. */
#include <pthread.h>
#include <sched.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

static pthread_mutex_t m = PTHREAD_MUTEX_INITIALIZER;
static volatile unsigned long shared;

static void *nothing(void *a) { return a; }

static void *spin(void *a)
{
    volatile unsigned long x = 0;
    for (;;)
        x += (unsigned long)a;
    return NULL;
}

static void *churn(void *a)
{
    for (unsigned long i = 0;; i++) {
        usleep(1);
        pthread_mutex_lock(&m);
        shared += (unsigned long)a;
        pthread_mutex_unlock(&m);
        if (i % 8 == 0)
            sched_yield();
        if (i % 64 == 0) {
            pthread_t t;
            if (pthread_create(&t, NULL, nothing, NULL) == 0)
                pthread_join(t, NULL);
        }
    }
    return NULL;
}

int main(int argc, char **argv)
{
    int n = argc > 1 ? atoi(argv[1]) : 2;
    int churning = argc > 2 && strcmp(argv[2], "churn") == 0;
    for (int i = 0; i < n; i++) {
        pthread_t t;
        pthread_create(&t, NULL, churning ? churn : spin, (void *)(long)(i + 1));
    }
    for (;;)
        pause();
}
