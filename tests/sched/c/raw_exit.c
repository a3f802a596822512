/* raw_exit: two threads hold both cores and end with a raw SYS_exit (no pthread exit path, so the
 * scheduler is never told); then two spinners need the cores. Prints "done" when they finish. */
#define _GNU_SOURCE
#include <pthread.h>
#include <stdio.h>
#include <sys/syscall.h>
#include <time.h>
#include <unistd.h>

static void *vanish(void *arg)
{
    (void)arg;
    for (volatile long i = 0; i < 20000000; i++)
        ;
    syscall(SYS_exit, 0);
    return NULL;
}

static void *spin(void *arg)
{
    (void)arg;
    struct timespec t0, t;
    clock_gettime(CLOCK_MONOTONIC, &t0);
    do
        clock_gettime(CLOCK_MONOTONIC, &t);
    while ((t.tv_sec - t0.tv_sec) * 1000000000L + (t.tv_nsec - t0.tv_nsec) < 300000000L);
    return NULL;
}

int main(void)
{
    pthread_t a, b, c, d;
    pthread_create(&a, NULL, vanish, NULL);
    pthread_create(&b, NULL, vanish, NULL);
    usleep(500000);
    pthread_create(&c, NULL, spin, NULL);
    pthread_create(&d, NULL, spin, NULL);
    pthread_join(c, NULL);
    pthread_join(d, NULL);
    puts("done");
    return 0;
}
