/* Fork storm and exec storm: many short managed processes, each doing some synchronisation,
 * all complete with their exit statuses. */
#include "harness.h"

#include <sched.h>
#include <sys/wait.h>

static char self[4096];
/* Each call uses its own mutex and condvar: a fork never inherits them locked by a thread that
 * does not exist in the child. */
struct work {
    pthread_mutex_t m;
    pthread_cond_t c;
    int flag;
};

static void *kid_thread(void *p)
{
    struct work *w = p;
    pthread_mutex_lock(&w->m);
    w->flag = 1;
    pthread_cond_signal(&w->c);
    pthread_mutex_unlock(&w->m);
    return NULL;
}

static int small_work(void)
{
    struct work w = {PTHREAD_MUTEX_INITIALIZER, PTHREAD_COND_INITIALIZER, 0};
    pthread_t t;
    pthread_create(&t, NULL, kid_thread, &w);
    pthread_mutex_lock(&w.m);
    while (!w.flag)
        pthread_cond_wait(&w.c, &w.m);
    pthread_mutex_unlock(&w.m);
    pthread_join(t, NULL);
    return w.flag;
}

static volatile int busy_stop;
static void *busy(void *p)
{
    while (!busy_stop)
        small_work();
    return NULL;
}

static void fork_storm(void)
{
    enum { N = 60, WAVE = 20 };
    int ok = 0;
    for (int w = 0; w < N / WAVE; w++) {
        pid_t pids[WAVE];
        for (int i = 0; i < WAVE; i++) {
            pids[i] = fork();
            if (pids[i] == 0)
                _exit(small_work() ? (w * WAVE + i) % 100 : 200);
        }
        for (int i = 0; i < WAVE; i++) {
            int st;
            if (waitpid(pids[i], &st, 0) == pids[i] && WIFEXITED(st) && WEXITSTATUS(st) == (w * WAVE + i) % 100)
                ok++;
        }
    }
    CHECK("fork_storm_60", ok == N, "ok=%d", ok);
}

static void fork_nested(void)
{
    /* nested: children fork grandchildren */
    pid_t pids[8];
    for (int i = 0; i < 8; i++) {
        pids[i] = fork();
        if (pids[i] == 0) {
            int good = 0;
            for (int j = 0; j < 4; j++) {
                pid_t g = fork();
                if (g == 0)
                    _exit(small_work() ? 7 : 1);
                int st;
                waitpid(g, &st, 0);
                good += WIFEXITED(st) && WEXITSTATUS(st) == 7;
            }
            _exit(good);
        }
    }
    int sum = 0;
    for (int i = 0; i < 8; i++) {
        int st;
        waitpid(pids[i], &st, 0);
        sum += WIFEXITED(st) ? WEXITSTATUS(st) : 0;
    }
    CHECK("fork_storm_nested", sum == 32, "sum=%d", sum);
}

static void fork_threads(void)
{
    int ok;
    /* fork from a multithreaded process while other threads lock and wait */
    pthread_t busy_t[4];
    busy_stop = 0;
    for (int i = 0; i < 4; i++)
        pthread_create(&busy_t[i], NULL, busy, NULL);
    ok = 0;
    for (int i = 0; i < 20; i++) {
        pid_t p = fork();
        if (p == 0)
            _exit(small_work() ? 3 : 1);
        int st;
        waitpid(p, &st, 0);
        ok += WIFEXITED(st) && WEXITSTATUS(st) == 3;
    }
    busy_stop = 1;
    for (int i = 0; i < 4; i++)
        pthread_join(busy_t[i], NULL);
    CHECK("fork_while_threads_work", ok == 20, "ok=%d", ok);
}

static void *affinity_busy(void *p)
{
    cpu_set_t s;
    while (!busy_stop) {
        sched_getaffinity(0, sizeof s, &s);
        sched_setaffinity(0, sizeof s, &s);
    }
    return NULL;
}

/* fork while other threads query and set affinity: the child's own affinity calls and thread
 * creation must not hang on state a vanished parent thread held at fork time */
static void fork_affinity(void)
{
    pthread_t busy_t[3];
    busy_stop = 0;
    for (int i = 0; i < 3; i++)
        pthread_create(&busy_t[i], NULL, affinity_busy, NULL);
    int ok = 0;
    for (int i = 0; i < 30; i++) {
        pid_t p = fork();
        if (p == 0) {
            cpu_set_t s;
            int r = sched_getaffinity(0, sizeof s, &s);
            _exit(r == 0 && CPU_COUNT(&s) > 0 && small_work() ? 4 : 1);
        }
        int st;
        waitpid(p, &st, 0);
        ok += WIFEXITED(st) && WEXITSTATUS(st) == 4;
    }
    busy_stop = 1;
    for (int i = 0; i < 3; i++)
        pthread_join(busy_t[i], NULL);
    CHECK("fork_while_affinity_calls", ok == 30, "ok=%d", ok);
}

static void exec_storm(void)
{
    int ok = 0;
    for (int i = 0; i < 40; i++) {
        pid_t p = fork();
        if (p == 0) {
            char code[16];
            snprintf(code, sizeof code, "%d", i % 50);
            execl(self, "storm-child", "child", code, (char *)NULL);
            _exit(99);
        }
        int st;
        if (waitpid(p, &st, 0) == p && WIFEXITED(st) && WEXITSTATUS(st) == i % 50)
            ok++;
    }
    CHECK("exec_storm_40", ok == 40, "ok=%d", ok);

    /* a chain: each process execs the next */
    pid_t p = fork();
    if (p == 0) {
        execl(self, "storm-child", "chain", "20", (char *)NULL);
        _exit(99);
    }
    int st;
    waitpid(p, &st, 0);
    CHECK("exec_chain_20", WIFEXITED(st) && WEXITSTATUS(st) == 77, "st=%d", st);
}

int main(int argc, char **argv)
{
    setvbuf(stdout, NULL, _IOLBF, 0);
    if (argc == 3 && strcmp(argv[1], "child") == 0)
        return small_work() ? atoi(argv[2]) : 200;
    if (argc == 3 && strcmp(argv[1], "chain") == 0) {
        int left = atoi(argv[2]);
        if (!small_work())
            return 200;
        if (left == 0)
            return 77;
        char next[16];
        snprintf(next, sizeof next, "%d", left - 1);
        execl("/proc/self/exe", "storm-child", "chain", next, (char *)NULL);
        return 99;
    }
    ssize_t n = readlink("/proc/self/exe", self, sizeof self - 1);
    self[n > 0 ? n : 0] = 0;
    h_argc = argc;
    h_argv = argv;
    RUN(fork_storm);
    RUN(fork_nested);
    RUN(fork_threads);
    RUN(fork_affinity);
    RUN(exec_storm);
    return h_failures;
}
