/* io.c — blocking socket calls (cheap cases; the scheduler's safety net covers all other
 * blocking I/O: read, write, recv on pipes, files, ttys...).
 *
 * Intercepts: accept, accept4, connect, recv, recvfrom, recvmsg.
 *
 * Invariant: only a call that would really block releases the core. recv*: a managed thread
 * first tries the call with MSG_DONTWAIT; data, end of file or an error other than
 * EAGAIN/EWOULDBLOCK is final; EAGAIN on a socket the program made non-blocking is final too
 * (no scheduling point in event loops). With MSG_WAITALL the probe is skipped (a partial read
 * would change the result) and the call always runs as a blocking call: a thread left RUNNING
 * in it would be signalled by the safety net, and a caught signal ends a MSG_WAITALL receive
 * early with a short count (measured). accept*: the listening socket is polled with a zero timeout first; a
 * pending connection (or a non-blocking socket) runs the real call directly. connect on a
 * blocking socket cannot be probed and always releases the core. Results and errno are the real
 * call's; all are cancellation points.
 */
#include "intercept/intercept.h"

#include <fcntl.h>
#include <poll.h>
#include <sys/socket.h>

static inline bool fd_nonblocking(int fd)
{
    int fl = fcntl(fd, F_GETFL);
    return fl != -1 && (fl & O_NONBLOCK);
}

/* True when the recv probe's result is final (r, errno as the real call would give them). */
static inline bool recv_final(ssize_t r, int fd, int saved)
{
    if (r >= 0 || (errno != EAGAIN && errno != EWOULDBLOCK))
        return true;
    int e = errno;
    if (fd_nonblocking(fd)) {
        errno = e;
        return true;
    }
    errno = saved;
    return false;
}

CR_EXPORT ssize_t recv(int fd, void *buf, size_t len, int flags)
{
    if ((flags & MSG_DONTWAIT) || !cr_thread_managed())
        return REAL(recv)(fd, buf, len, flags);
    if (flags & MSG_WAITALL)
        return CR_BLOCKING_CANCEL(REAL(recv)(fd, buf, len, flags));
    int saved = errno;
    ssize_t r = REAL(recv)(fd, buf, len, flags | MSG_DONTWAIT);
    if (recv_final(r, fd, saved))
        return r;
    return CR_BLOCKING_CANCEL(REAL(recv)(fd, buf, len, flags));
}

CR_EXPORT ssize_t recvfrom(int fd, void *restrict buf, size_t len, int flags, struct sockaddr *restrict addr,
                           socklen_t *restrict alen)
{
    if ((flags & MSG_DONTWAIT) || !cr_thread_managed())
        return REAL(recvfrom)(fd, buf, len, flags, addr, alen);
    if (flags & MSG_WAITALL)
        return CR_BLOCKING_CANCEL(REAL(recvfrom)(fd, buf, len, flags, addr, alen));
    int saved = errno;
    socklen_t in = alen ? *alen : 0;
    ssize_t r = REAL(recvfrom)(fd, buf, len, flags | MSG_DONTWAIT, addr, alen);
    if (recv_final(r, fd, saved))
        return r;
    if (alen)
        *alen = in;
    return CR_BLOCKING_CANCEL(REAL(recvfrom)(fd, buf, len, flags, addr, alen));
}

CR_EXPORT ssize_t recvmsg(int fd, struct msghdr *msg, int flags)
{
    if ((flags & MSG_DONTWAIT) || !cr_thread_managed() || !msg)
        return REAL(recvmsg)(fd, msg, flags);
    if (flags & MSG_WAITALL)
        return CR_BLOCKING_CANCEL(REAL(recvmsg)(fd, msg, flags));
    int saved = errno;
    socklen_t nl = msg->msg_namelen;
    size_t cl = msg->msg_controllen;
    ssize_t r = REAL(recvmsg)(fd, msg, flags | MSG_DONTWAIT);
    if (recv_final(r, fd, saved))
        return r;
    msg->msg_namelen = nl;
    msg->msg_controllen = cl;
    msg->msg_flags = 0;
    return CR_BLOCKING_CANCEL(REAL(recvmsg)(fd, msg, flags));
}

/* True when accept on `fd` should run directly: a connection is pending, the socket is
 * non-blocking, or poll reports an error the real accept will report better. */
static inline bool accept_direct(int fd)
{
    int saved = errno;
    struct pollfd p = {.fd = fd, .events = POLLIN};
    int r = REAL(poll)(&p, 1, 0);
    bool direct = r != 0 || fd_nonblocking(fd);
    errno = saved;
    return direct;
}

CR_EXPORT int accept(int fd, struct sockaddr *restrict addr, socklen_t *restrict alen)
{
    if (!cr_thread_managed() || accept_direct(fd))
        return REAL(accept)(fd, addr, alen);
    return CR_BLOCKING_CANCEL(REAL(accept)(fd, addr, alen));
}

CR_EXPORT int accept4(int fd, struct sockaddr *restrict addr, socklen_t *restrict alen, int flags)
{
    if (!cr_thread_managed() || accept_direct(fd))
        return REAL(accept4)(fd, addr, alen, flags);
    return CR_BLOCKING_CANCEL(REAL(accept4)(fd, addr, alen, flags));
}

CR_EXPORT int connect(int fd, const struct sockaddr *addr, socklen_t alen)
{
    if (!cr_thread_managed())
        return REAL(connect)(fd, addr, alen);
    int saved = errno;
    if (fd_nonblocking(fd)) {
        errno = saved;
        return REAL(connect)(fd, addr, alen);
    }
    errno = saved;
    return CR_BLOCKING_CANCEL(REAL(connect)(fd, addr, alen));
}
