/* Sockets (accept, connect, recv*) and libc's syscall(): raw futex waits through syscall(),
 * pass-through of other system calls, errno and results identical with and without corun. */
#include "harness.h"

#include <fcntl.h>
#include <linux/futex.h>
#include <netinet/in.h>
#include <sys/socket.h>
#include <sys/syscall.h>
#include <sys/un.h>
#include <sys/wait.h>

struct late {
    int fd;
    long ms;
    const char *msg;
};

static void *late_send(void *p)
{
    struct late *l = p;
    msleep(l->ms);
    (void)!send(l->fd, l->msg, strlen(l->msg), 0);
    return NULL;
}

static void sockets(void)
{
    int sv[2];
    socketpair(AF_UNIX, SOCK_STREAM, 0, sv);
    char buf[64];
    errno = 0;
    ssize_t r1 = recv(sv[0], buf, sizeof buf, MSG_DONTWAIT);
    int e1 = errno;
    struct late l = {sv[1], 80, "hello"};
    pthread_t t;
    pthread_create(&t, NULL, late_send, &l);
    errno = EXDEV;
    ssize_t r2 = recv(sv[0], buf, sizeof buf, 0); /* blocks until the late send */
    int e2 = errno;
    pthread_join(t, NULL);
    CHECK("recv_dontwait_eagain", r1 == -1 && (e1 == EAGAIN || e1 == EWOULDBLOCK), "r=%zd errno=%d", r1, e1);
    CHECK("recv_blocking_wakes", r2 == 5 && memcmp(buf, "hello", 5) == 0 && e2 == EXDEV, "r=%zd errno=%d", r2, e2);

    /* MSG_WAITALL keeps waiting for the whole length */
    l.msg = "abcd";
    pthread_create(&t, NULL, late_send, &l);
    (void)!send(sv[1], "1234", 4, 0);
    ssize_t r3 = recv(sv[0], buf, 8, MSG_WAITALL);
    pthread_join(t, NULL);
    CHECK("recv_waitall", r3 == 8 && memcmp(buf, "1234abcd", 8) == 0, "r=%zd", r3);

    /* non-blocking socket: EAGAIN at once */
    fcntl(sv[0], F_SETFL, O_NONBLOCK);
    errno = 0;
    double t0 = now_s();
    ssize_t r4 = recv(sv[0], buf, sizeof buf, 0);
    int e4 = errno;
    fcntl(sv[0], F_SETFL, 0);
    CHECK("recv_nonblocking_eagain", r4 == -1 && (e4 == EAGAIN || e4 == EWOULDBLOCK) && now_s() - t0 < 2.0, "r=%zd", r4);

    /* end of file */
    close(sv[1]);
    ssize_t r5 = recv(sv[0], buf, sizeof buf, 0);
    CHECK("recv_eof", r5 == 0, "r=%zd", r5);
    close(sv[0]);

    /* datagram recvfrom / recvmsg with a peer address */
    int d[2];
    socketpair(AF_UNIX, SOCK_DGRAM, 0, d);
    l.fd = d[1];
    l.msg = "dgram";
    pthread_create(&t, NULL, late_send, &l);
    struct sockaddr_un from;
    socklen_t fl = sizeof from;
    ssize_t r6 = recvfrom(d[0], buf, sizeof buf, 0, (struct sockaddr *)&from, &fl);
    pthread_join(t, NULL);
    pthread_create(&t, NULL, late_send, &l);
    struct iovec iov = {buf, sizeof buf};
    struct msghdr mh = {0};
    mh.msg_iov = &iov;
    mh.msg_iovlen = 1;
    ssize_t r7 = recvmsg(d[0], &mh, 0);
    pthread_join(t, NULL);
    CHECK("recvfrom_recvmsg", r6 == 5 && r7 == 5 && memcmp(buf, "dgram", 5) == 0, "r=%zd,%zd", r6, r7);
    close(d[0]);
    close(d[1]);

    /* accept: non-blocking listener says EAGAIN; blocking one waits for a late connect */
    char path[108];
    snprintf(path, sizeof path, "/tmp/corun-io-%d.sock", (int)getpid());
    unlink(path);
    int ls = socket(AF_UNIX, SOCK_STREAM, 0);
    struct sockaddr_un sa = {.sun_family = AF_UNIX};
    strcpy(sa.sun_path, path);
    bind(ls, (struct sockaddr *)&sa, sizeof sa);
    listen(ls, 4);
    fcntl(ls, F_SETFL, O_NONBLOCK);
    errno = 0;
    int a1 = accept(ls, NULL, NULL), ea1 = errno;
    fcntl(ls, F_SETFL, 0);
    pid_t pid = fork();
    if (pid == 0) {
        msleep(80);
        int c = socket(AF_UNIX, SOCK_STREAM, 0);
        int rc = connect(c, (struct sockaddr *)&sa, sizeof sa);
        (void)!write(c, "x", 1);
        _exit(rc == 0 ? 0 : 1);
    }
    int a2 = accept4(ls, NULL, NULL, SOCK_CLOEXEC);
    char c = 0;
    ssize_t rr = a2 >= 0 ? recv(a2, &c, 1, 0) : -1;
    int st;
    waitpid(pid, &st, 0);
    CHECK("accept_nonblocking_eagain", a1 == -1 && (ea1 == EAGAIN || ea1 == EWOULDBLOCK), "r=%d errno=%d", a1, ea1);
    CHECK("accept_blocking_and_connect", a2 >= 0 && rr == 1 && c == 'x' && WIFEXITED(st) && WEXITSTATUS(st) == 0,
          "fd=%d", a2);
    errno = 0;
    int bad = socket(AF_UNIX, SOCK_STREAM, 0);
    struct sockaddr_un nowhere = {.sun_family = AF_UNIX, .sun_path = "/nonexistent/corun.sock"};
    int r8 = connect(bad, (struct sockaddr *)&nowhere, sizeof nowhere), e8 = errno;
    printf("connect_missing: %d/%d\n", r8, e8);
    close(ls);
    unlink(path);
}

static int fword;
static void *futex_waker(void *p)
{
    msleep(80);
    __atomic_store_n(&fword, 1, __ATOMIC_SEQ_CST);
    syscall(SYS_futex, &fword, FUTEX_WAKE_PRIVATE, 1, NULL, NULL, 0);
    return NULL;
}

static void raw_syscalls(void)
{
    long pid = syscall(SYS_getpid);
    long tid = syscall(SYS_gettid);
    errno = 0;
    long bad = syscall(SYS_close, -1), eb = errno;
    CHECK("syscall_passthrough", pid == getpid() && tid == gettid() && bad == -1 && eb == EBADF, "pid=%ld bad=%ld", pid, bad);

    /* futex wait through syscall(): value mismatch, timeout, and a real wake-up */
    fword = 0;
    errno = 0;
    long r1 = syscall(SYS_futex, &fword, FUTEX_WAIT_PRIVATE, 7, NULL, NULL, 0);
    int e1 = errno;
    struct timespec rel = {0, 120000000L};
    errno = 0;
    double t0 = now_s();
    long r2 = syscall(SYS_futex, &fword, FUTEX_WAIT_PRIVATE, 0, &rel, NULL, 0);
    int e2 = errno;
    double el = now_s() - t0;
    pthread_t t;
    pthread_create(&t, NULL, futex_waker, NULL);
    long r3 = 0;
    while (__atomic_load_n(&fword, __ATOMIC_SEQ_CST) == 0) {
        r3 = syscall(SYS_futex, &fword, FUTEX_WAIT_PRIVATE, 0, NULL, NULL, 0);
        if (r3 == -1 && errno != EAGAIN && errno != EINTR)
            break;
    }
    pthread_join(t, NULL);
    CHECK("syscall_futex_eagain", r1 == -1 && e1 == EAGAIN, "r=%ld errno=%d", r1, e1);
    CHECK("syscall_futex_timeout", r2 == -1 && e2 == ETIMEDOUT && TIMED_OK(el, 120), "r=%ld errno=%d", r2, e2);
    CHECK("syscall_futex_woken", fword == 1 && (r3 == 0 || r3 == -1), "r=%ld", r3);
}

HARNESS_MAIN({
    RUN(sockets);
    RUN(raw_syscalls);
})
