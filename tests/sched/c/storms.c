/* storms MODE ARGS... DIR: process, exec and thread storms; each ends by writing DIR/done.pid and
 * waiting (up to 60 s) for DIR/release, so that the instance can be inspected while only this
 * process is alive.
 *   storms fork N DIR     fork N children at once; child i runs 3 threads that each sum 0..9999,
 *                         checks the sums and exits with status i % 200 (through exit(), _exit()
 *                         or returning from a thread function's caller), 255 on a wrong sum.
 *                         The parent reaps them all and checks every status.
 *   storms exec N DIR     a chain of N execs of this program (each image starts and joins a thread).
 *   storms threads N DIR  N short threads, created and joined 16 at a time, plus 64 detached ones.
 *   storms leave N DIR    N children at once, 10 at a time; each starts 3 threads that enter the
 *                         scheduler without pause (1 us sleeps), and its main thread leaves the
 *                         instance under them (exit or _exit after ~1 ms). Exit status 0 each.
 * Prints "OK ..." and exits 0 when everything checked out. */
#include <pthread.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

static _Atomic long counter;
static _Atomic int detached_done;

static void *sum(void *arg)
{
    long s = 0;
    for (long i = 0; i < 10000; i++)
        s += i;
    *(long *)arg = s;
    atomic_fetch_add(&counter, 1);
    return NULL;
}

static void *detached(void *arg)
{
    (void)arg;
    atomic_fetch_add(&detached_done, 1);
    return NULL;
}

static void *sleeper(void *arg)
{
    (void)arg;
    struct timespec ts = {0, 1000};
    for (;;)
        nanosleep(&ts, NULL);
    return NULL;
}

static void leave_under_threads(int i)
{
    pthread_t t;
    for (int k = 0; k < 3; k++)
        pthread_create(&t, NULL, sleeper, NULL);
    struct timespec ts = {0, 1000000};
    nanosleep(&ts, NULL);
    if (i % 2)
        _exit(0);
    exit(0);
}

static int wait_release(const char *dir)
{
    char p[4096], tmp[4096];
    snprintf(tmp, sizeof tmp, "%s/done.pid.tmp", dir);
    snprintf(p, sizeof p, "%s/done.pid", dir);
    FILE *f = fopen(tmp, "w");
    fprintf(f, "%d\n", (int)getpid());
    fclose(f);
    rename(tmp, p);
    snprintf(p, sizeof p, "%s/release", dir);
    struct timespec ts = {0, 10000000};
    for (int i = 0; i < 6000; i++) {
        if (access(p, F_OK) == 0)
            return 0;
        nanosleep(&ts, NULL);
    }
    return 3;
}

static int child(int i)
{
    pthread_t t[3];
    long r[3];
    for (int k = 0; k < 3; k++)
        if (pthread_create(&t[k], NULL, sum, &r[k]) != 0)
            return 254;
    for (int k = 0; k < 3; k++)
        pthread_join(t[k], NULL);
    for (int k = 0; k < 3; k++)
        if (r[k] != 49995000L)
            return 255;
    return i % 200;
}

int main(int argc, char **argv)
{
    if (argc < 4)
        return 2;
    const char *mode = argv[1], *dir = argv[3];
    int n = atoi(argv[2]);
    if (strcmp(mode, "fork") == 0) {
        pid_t *kids = calloc((size_t)n, sizeof *kids);
        for (int i = 0; i < n; i++) {
            pid_t k = fork();
            if (k < 0) {
                perror("fork");
                return 5;
            }
            if (k == 0) {
                int rc = child(i);
                if (i % 3 == 0)
                    exit(rc);
                if (i % 3 == 1)
                    _exit(rc);
                fflush(stdout);
                exit(rc); /* atexit handlers and destructors */
            }
            kids[i] = k;
        }
        int bad = 0;
        for (int i = 0; i < n; i++) {
            int st;
            if (waitpid(kids[i], &st, 0) != kids[i] || !WIFEXITED(st) || WEXITSTATUS(st) != i % 200) {
                fprintf(stderr, "child %d: status %#x\n", i, st);
                bad++;
            }
        }
        printf("OK fork children=%d bad=%d\n", n, bad);
        fflush(stdout);
        if (bad)
            return 1;
    } else if (strcmp(mode, "leave") == 0) {
        int bad = 0;
        for (int done = 0; done < n; done += 10) {
            pid_t kids[10];
            int m = n - done < 10 ? n - done : 10;
            for (int i = 0; i < m; i++) {
                kids[i] = fork();
                if (kids[i] == 0)
                    leave_under_threads(done + i);
            }
            for (int i = 0; i < m; i++) {
                int st;
                if (waitpid(kids[i], &st, 0) != kids[i] || !WIFEXITED(st) || WEXITSTATUS(st) != 0)
                    bad++;
            }
        }
        printf("OK leave children=%d bad=%d\n", n, bad);
        fflush(stdout);
        if (bad)
            return 1;
    } else if (strcmp(mode, "exec") == 0) {
        pthread_t t;
        long r;
        pthread_create(&t, NULL, sum, &r);
        pthread_join(t, NULL);
        if (r != 49995000L)
            return 6;
        if (n > 0) {
            char next[32];
            snprintf(next, sizeof next, "%d", n - 1);
            execl("/proc/self/exe", argv[0], "exec", next, dir, (char *)NULL);
            perror("execl");
            return 7;
        }
        printf("OK exec chain ended in pid %d\n", (int)getpid());
        fflush(stdout);
    } else if (strcmp(mode, "threads") == 0) {
        pthread_attr_t a;
        pthread_attr_init(&a);
        pthread_attr_setdetachstate(&a, PTHREAD_CREATE_DETACHED);
        for (int k = 0; k < 64; k++) {
            pthread_t t;
            if (pthread_create(&t, &a, detached, NULL) != 0)
                return 8;
        }
        long r[16];
        for (int done = 0; done < n;) {
            pthread_t t[16];
            int m = n - done < 16 ? n - done : 16;
            for (int k = 0; k < m; k++)
                if (pthread_create(&t[k], NULL, sum, &r[k]) != 0) {
                    perror("pthread_create");
                    return 9;
                }
            for (int k = 0; k < m; k++) {
                pthread_join(t[k], NULL);
                if (r[k] != 49995000L)
                    return 10;
            }
            done += m;
        }
        struct timespec ts = {0, 1000000};
        for (int i = 0; i < 5000 && atomic_load(&detached_done) < 64; i++)
            nanosleep(&ts, NULL);
        printf("OK threads=%ld detached=%d\n", atomic_load(&counter), atomic_load(&detached_done));
        fflush(stdout);
        if (atomic_load(&counter) != n || atomic_load(&detached_done) != 64)
            return 11;
    } else {
        return 2;
    }
    return wait_release(dir);
}
