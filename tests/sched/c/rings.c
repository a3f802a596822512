/* rings SECONDS NPROCS: in each of NPROCS processes, 16 threads pass tokens for SECONDS: 8 in a
 * ring of mutex+condvar mailboxes, 8 in a ring of POSIX semaphores; every hop also increments a
 * mutex-protected counter. Each thread checks it receives exactly the token value it expects
 * (a lost or duplicated wake-up breaks the sequence or hangs the ring). At the end a poison token
 * goes round each ring. Prints "OK pid=<pid> cond=<hops> sem=<hops> total=<n>" when the hop counts,
 * the last token values and the counter all agree. */
#include <pthread.h>
#include <semaphore.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#define K 8

struct box {
    pthread_mutex_t m;
    pthread_cond_t c;
    int full;
    long val;
};

static struct box boxes[K];
static sem_t sems[K];
static long sem_vals[K];
static long hops[2][K];
static long last[2];
static long total;
static pthread_mutex_t total_m = PTHREAD_MUTEX_INITIALIZER;
static atomic_int stop, bad;

static void cond_send(int to, long v)
{
    struct box *b = &boxes[to];
    pthread_mutex_lock(&b->m);
    b->val = v;
    b->full = 1;
    pthread_cond_signal(&b->c);
    pthread_mutex_unlock(&b->m);
}

static long cond_recv(int me)
{
    struct box *b = &boxes[me];
    pthread_mutex_lock(&b->m);
    while (!b->full)
        pthread_cond_wait(&b->c, &b->m);
    long v = b->val;
    b->full = 0;
    pthread_mutex_unlock(&b->m);
    return v;
}

static void sem_send(int to, long v)
{
    sem_vals[to] = v;
    sem_post(&sems[to]);
}

static long sem_recv(int me)
{
    while (sem_wait(&sems[me]) != 0)
        ;
    return sem_vals[me];
}

struct arg {
    int ring, me;
};

static void *member(void *p)
{
    struct arg *a = p;
    int ring = a->ring, me = a->me, next = (me + 1) % K;
    void (*send)(int, long) = ring ? sem_send : cond_send;
    long (*recv)(int) = ring ? sem_recv : cond_recv;
    long expect = me;
    for (;;) {
        long v = recv(me);
        if (v < 0) {
            long rem = -v - 1;
            if (rem > 0)
                send(next, -rem);
            return NULL;
        }
        if (v != expect) {
            fprintf(stderr, "ring %d member %d: got %ld, expected %ld\n", ring, me, v, expect);
            atomic_store(&bad, 1);
        }
        expect = v + K;
        hops[ring][me]++;
        pthread_mutex_lock(&total_m);
        total++;
        pthread_mutex_unlock(&total_m);
        if (atomic_load(&stop)) {
            last[ring] = v + 1;
            send(next, -K); /* K-1 others to tell */
            return NULL;
        }
        send(next, v + 1);
    }
}

static int run(double seconds)
{
    pthread_t t[2][K];
    struct arg args[2][K];
    for (int i = 0; i < K; i++) {
        pthread_mutex_init(&boxes[i].m, NULL);
        pthread_cond_init(&boxes[i].c, NULL);
        sem_init(&sems[i], 0, 0);
    }
    for (int r = 0; r < 2; r++)
        for (int i = 0; i < K; i++) {
            args[r][i] = (struct arg){r, i};
            if (pthread_create(&t[r][i], NULL, member, &args[r][i]) != 0)
                return 5;
        }
    cond_send(0, 0);
    sem_send(0, 0);
    struct timespec ts = {(time_t)seconds, (long)((seconds - (double)(time_t)seconds) * 1e9)};
    nanosleep(&ts, NULL);
    atomic_store(&stop, 1);
    for (int r = 0; r < 2; r++)
        for (int i = 0; i < K; i++)
            pthread_join(t[r][i], NULL);
    long h[2] = {0, 0};
    for (int r = 0; r < 2; r++)
        for (int i = 0; i < K; i++)
            h[r] += hops[r][i];
    printf("%s pid=%d cond=%ld sem=%ld total=%ld last=%ld,%ld\n",
           !bad && h[0] == last[0] && h[1] == last[1] && total == h[0] + h[1] && h[0] > 0 && h[1] > 0 ? "OK" : "BAD",
           (int)getpid(), h[0], h[1], total, last[0], last[1]);
    fflush(stdout);
    return bad || h[0] != last[0] || h[1] != last[1] || total != h[0] + h[1] ? 1 : 0;
}

int main(int argc, char **argv)
{
    double seconds = argc > 1 ? atof(argv[1]) : 3.0;
    int nprocs = argc > 2 ? atoi(argv[2]) : 1;
    pid_t kids[16];
    for (int p = 1; p < nprocs && p < 16; p++) {
        pid_t k = fork();
        if (k == 0)
            return run(seconds);
        kids[p] = k;
    }
    int rc = run(seconds);
    for (int p = 1; p < nprocs && p < 16; p++) {
        int st;
        if (waitpid(kids[p], &st, 0) != kids[p] || !WIFEXITED(st) || WEXITSTATUS(st) != 0)
            rc = rc ? rc : 4;
    }
    return rc;
}
