/* Sleeps and I/O multiplexing: durations, errors, remaining time, readiness, fd sets, epoll. */
#include "harness.h"

#include <poll.h>
#include <signal.h>
#include <sys/epoll.h>
#include <sys/select.h>

static void on_usr1(int s) { (void)s; }

struct kick {
    pthread_t target;
    long ms;
};
static void *kicker(void *p)
{
    struct kick *k = p;
    msleep(k->ms);
    pthread_kill(k->target, SIGUSR1);
    return NULL;
}

static void sleeps(void)
{
    double t0 = now_s();
    unsigned r1 = sleep(1);
    double e1 = now_s() - t0;
    t0 = now_s();
    int r2 = usleep(120000);
    double e2 = now_s() - t0;
    struct timespec req = {0, 120000000L}, rem = {9, 9};
    t0 = now_s();
    int r3 = nanosleep(&req, &rem);
    double e3 = now_s() - t0;
    t0 = now_s();
    int r4 = clock_nanosleep(CLOCK_MONOTONIC, 0, &req, NULL);
    double e4 = now_s() - t0;
    struct timespec a = abs_in(CLOCK_MONOTONIC, 120);
    t0 = now_s();
    int r5 = clock_nanosleep(CLOCK_MONOTONIC, TIMER_ABSTIME, &a, NULL);
    double e5 = now_s() - t0;
    CHECK("sleep_1s", r1 == 0 && TIMED_OK(e1, 1000), "r=%u", r1);
    CHECK("usleep_120ms", r2 == 0 && TIMED_OK(e2, 120), "r=%d", r2);
    CHECK("nanosleep_120ms", r3 == 0 && TIMED_OK(e3, 120), "r=%d", r3);
    CHECK("clock_nanosleep_rel", r4 == 0 && TIMED_OK(e4, 120), "r=%d", r4);
    CHECK("clock_nanosleep_abs", r5 == 0 && TIMED_OK(e5, 120), "r=%d", r5);
    fprintf(stderr, "DIAG sleeps %.3f %.3f %.3f %.3f %.3f\n", e1, e2, e3, e4, e5);

    /* zero and invalid durations */
    struct timespec zero = {0, 0}, bad = {0, 1000000000L};
    errno = 0;
    int r6 = nanosleep(&zero, NULL);
    int r7 = nanosleep(&bad, NULL), e7 = errno;
    int r8 = clock_nanosleep(CLOCK_MONOTONIC, 0, &bad, NULL);
    int r9 = clock_nanosleep(CLOCK_THREAD_CPUTIME_ID, 0, &req, NULL);
    printf("sleep_args: zero=%d bad=%d/%d clock_bad=%d clock_thread_cputime=%d sleep0=%u usleep0=%d\n", r6, r7, e7,
           r8, r9, sleep(0), usleep(0));

    /* EINTR with the remaining time */
    struct sigaction sa = {0};
    sa.sa_handler = on_usr1;
    sigaction(SIGUSR1, &sa, NULL);
    struct kick k = {pthread_self(), 100};
    pthread_t t;
    pthread_create(&t, NULL, kicker, &k);
    struct timespec longreq = {3, 0};
    rem.tv_sec = rem.tv_nsec = 0;
    errno = 0;
    t0 = now_s();
    int r10 = nanosleep(&longreq, &rem), e10 = errno;
    double e = now_s() - t0;
    pthread_join(t, NULL);
    CHECK("nanosleep_eintr_rem", r10 == -1 && e10 == EINTR && rem.tv_sec >= 1 && rem.tv_sec <= 2 && e < 2.5,
          "r=%d errno=%d rem=%ld", r10, e10, (long)rem.tv_sec);
    pthread_create(&t, NULL, kicker, &k);
    t0 = now_s();
    unsigned left = sleep(3);
    pthread_join(t, NULL);
    CHECK("sleep_eintr_left", left >= 2 && left <= 3, "left=%u", left);
}

struct writer {
    int fd;
    long ms;
};
static void *late_writer(void *p)
{
    struct writer *w = p;
    msleep(w->ms);
    (void)!write(w->fd, "x", 1);
    return NULL;
}

static void polls(void)
{
    int p[2], q[2];
    (void)!pipe(p);
    (void)!pipe(q);
    struct pollfd f[2] = {{p[0], POLLIN, 0}, {q[0], POLLIN, 0}};
    double t0 = now_s();
    int r1 = poll(f, 2, 120);
    double e1 = now_s() - t0;
    int r2 = poll(f, 2, 0);
    (void)!write(q[1], "y", 1);
    int r3 = poll(f, 2, -1);
    int rev = f[0].revents * 10 + (f[1].revents == POLLIN);
    CHECK("poll_timeout", r1 == 0 && TIMED_OK(e1, 120), "r=%d", r1);
    CHECK("poll_zero_timeout", r2 == 0, "r=%d", r2);
    CHECK("poll_ready", r3 == 1 && rev == 1, "r=%d rev=%d", r3, rev);
    char c;
    (void)!read(q[0], &c, 1);

    /* woken by another thread */
    struct writer w = {p[1], 80};
    pthread_t t;
    pthread_create(&t, NULL, late_writer, &w);
    int r4 = poll(f, 1, 10000);
    pthread_join(t, NULL);
    (void)!read(p[0], &c, 1);
    CHECK("poll_wakes_on_write", r4 == 1 && f[0].revents == POLLIN, "r=%d", r4);

    struct timespec ts = {0, 120000000L};
    t0 = now_s();
    int r5 = ppoll(f, 2, &ts, NULL);
    double e5 = now_s() - t0;
    sigset_t all;
    sigfillset(&all);
    (void)!write(p[1], "z", 1);
    int r6 = ppoll(f, 2, &ts, &all);
    (void)!read(p[0], &c, 1);
    struct timespec badts = {0, -5};
    errno = 0;
    int r7 = ppoll(f, 2, &badts, NULL), e7 = errno;
    CHECK("ppoll_timeout", r5 == 0 && TIMED_OK(e5, 120), "r=%d", r5);
    CHECK("ppoll_ready_with_mask", r6 == 1 && f[0].revents == POLLIN, "r=%d", r6);
    printf("ppoll_args: bad=%d/%d\n", r7, e7);

    /* select: sets cleared on timeout, only ready bits kept */
    fd_set rs;
    FD_ZERO(&rs);
    FD_SET(p[0], &rs);
    FD_SET(q[0], &rs);
    int nfds = (p[0] > q[0] ? p[0] : q[0]) + 1;
    struct timeval tv = {0, 120000};
    t0 = now_s();
    int r8 = select(nfds, &rs, NULL, NULL, &tv);
    double e8 = now_s() - t0;
    int cleared = !FD_ISSET(p[0], &rs) && !FD_ISSET(q[0], &rs);
    FD_SET(p[0], &rs);
    FD_SET(q[0], &rs);
    (void)!write(q[1], "y", 1);
    tv.tv_sec = 5;
    tv.tv_usec = 0;
    int r9 = select(nfds, &rs, NULL, NULL, &tv);
    int only_q = !FD_ISSET(p[0], &rs) && FD_ISSET(q[0], &rs);
    (void)!read(q[0], &c, 1);
    CHECK("select_timeout_clears", r8 == 0 && cleared && TIMED_OK(e8, 120), "r=%d cleared=%d", r8, cleared);
    CHECK("select_ready_bits", r9 == 1 && only_q, "r=%d only_q=%d", r9, only_q);

    /* select waiting for a late writer keeps its sets (probe must not clobber them) */
    FD_ZERO(&rs);
    FD_SET(p[0], &rs);
    w.ms = 80;
    pthread_create(&t, NULL, late_writer, &w);
    int r10 = select(nfds, &rs, NULL, NULL, NULL);
    pthread_join(t, NULL);
    (void)!read(p[0], &c, 1);
    CHECK("select_blocking_wakes", r10 == 1 && FD_ISSET(p[0], &rs), "r=%d", r10);

    FD_ZERO(&rs);
    FD_SET(p[0], &rs);
    t0 = now_s();
    int r11 = pselect(nfds, &rs, NULL, NULL, &ts, &all);
    double e11 = now_s() - t0;
    CHECK("pselect_timeout", r11 == 0 && TIMED_OK(e11, 120) && !FD_ISSET(p[0], &rs), "r=%d", r11);
    struct timeval badtv = {0, 2000000};
    FD_SET(p[0], &rs);
    errno = 0;
    int r12 = select(nfds, &rs, NULL, NULL, &badtv), e12 = errno;
    printf("select_args: bad=%d/%d\n", r12, e12);

    /* epoll, level- and edge-triggered */
    int ep = epoll_create1(0);
    struct epoll_event ev = {.events = EPOLLIN, .data.u32 = 7}, out[4];
    epoll_ctl(ep, EPOLL_CTL_ADD, p[0], &ev);
    t0 = now_s();
    int r13 = epoll_wait(ep, out, 4, 120);
    double e13 = now_s() - t0;
    w.ms = 60;
    pthread_create(&t, NULL, late_writer, &w);
    int r14 = epoll_wait(ep, out, 4, 10000);
    pthread_join(t, NULL);
    int data14 = r14 == 1 ? (int)out[0].data.u32 : -1;
    int r15 = epoll_pwait(ep, out, 4, 100, &all); /* level-triggered: still ready */
    (void)!read(p[0], &c, 1);
    t0 = now_s();
    int r16 = epoll_pwait2(ep, out, 4, &ts, NULL);
    double e16 = now_s() - t0;
    CHECK("epoll_wait_timeout", r13 == 0 && TIMED_OK(e13, 120), "r=%d", r13);
    CHECK("epoll_wait_wakes", r14 == 1 && data14 == 7, "r=%d data=%d", r14, data14);
    CHECK("epoll_pwait_level", r15 == 1, "r=%d", r15);
    CHECK("epoll_pwait2_timeout", (r16 == 0 && TIMED_OK(e16, 120)) || (r16 == -1 && errno == ENOSYS), "r=%d", r16);

    int ep2 = epoll_create1(0);
    struct epoll_event ev2 = {.events = EPOLLIN | EPOLLET, .data.u32 = 9};
    epoll_ctl(ep2, EPOLL_CTL_ADD, q[0], &ev2);
    (void)!write(q[1], "e", 1);
    int r17 = epoll_wait(ep2, out, 4, 1000);
    t0 = now_s();
    int r18 = epoll_wait(ep2, out, 4, 100); /* edge already consumed: times out */
    double e18 = now_s() - t0;
    CHECK("epoll_edge_once", r17 == 1 && r18 == 0 && TIMED_OK(e18, 100), "r=%d,%d", r17, r18);
}

HARNESS_MAIN({
    RUN(sleeps);
    RUN(polls);
})
