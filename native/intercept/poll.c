/* poll.c — I/O multiplexing waits.
 *
 * Intercepts: poll, ppoll, select, pselect, epoll_wait, epoll_pwait, epoll_pwait2.
 *
 * Invariant: the timeout is the program's. A zero timeout, or arguments the kernel rejects, run
 * the real call directly: no scheduling point. Otherwise a managed thread first probes with a zero
 * timeout; if anything is ready (or the probe fails) that result is returned as is — the
 * probe consumes exactly what the real call would have returned at that moment (this matters for
 * edge-triggered epoll). Only when nothing is ready does it release its core around the real call
 * with the program's own timeout. select and pselect modify their fd sets, so the sets are saved
 * before the probe and restored before the blocking call (sets beyond FD_SETSIZE are not probed).
 * A signal mask passed to ppoll, pselect or epoll_pwait* is filtered with cr_sigmask_filter()
 * for the probe and for unmanaged threads (the scheduler's signals stay deliverable while the
 * thread runs), and has the scheduler's signals added for the blocking call of a managed
 * thread (they stay blocked while it is BLOCKED, as cr_block_begin() arranges).
 * All are cancellation points; a cleanup handler gives a cancelled waiter its core back.
 */
#include "intercept/intercept.h"

#include <poll.h>
#include <string.h>
#include <sys/epoll.h>
#include <sys/select.h>

static const struct timespec zero_ts;

/* Copy a caller's signal mask and remove the scheduler's signals; NULL stays NULL. */
static inline const sigset_t *filtered(const sigset_t *in, sigset_t *buf)
{
    if (!in)
        return NULL;
    *buf = *in;
    cr_sigmask_filter(buf);
    return buf;
}

CR_EXPORT int poll(struct pollfd *fds, nfds_t n, int timeout)
{
    if (timeout == 0 || !cr_thread_managed())
        return REAL(poll)(fds, n, timeout);
    int r = REAL(poll)(fds, n, 0);
    if (r != 0)
        return r;
    return CR_BLOCKING_CANCEL(REAL(poll)(fds, n, timeout));
}

static inline int ts_zero(const struct timespec *t)
{
    return t && t->tv_sec == 0 && t->tv_nsec == 0;
}

static inline int ts_bad(const struct timespec *t)
{
    return t && (t->tv_sec < 0 || !cr_ts_ok(t));
}

/* The mask a blocking wait installs: the program's (already filtered) plus the scheduler's
 * signals, which stay blocked while the thread is BLOCKED. NULL (keep the current mask) stays. */
static inline const sigset_t *blocked_mask(const sigset_t *m, sigset_t *buf)
{
    if (!m)
        return NULL;
    *buf = *m;
    cr_add_sched_signals(buf);
    return buf;
}

/* The cancellable blocking calls that take a mask live in their own frames: a mask pointer kept
 * across pthread_cleanup_push's setjmp would be a clobber hazard. */
__attribute__((noinline)) static int block_ppoll(struct pollfd *fds, nfds_t n, const struct timespec *tmo,
                                                 const sigset_t *m)
{
    return CR_BLOCKING_CANCEL(REAL(ppoll)(fds, n, tmo, m));
}

__attribute__((noinline)) static int block_pselect(int nfds, fd_set *r, fd_set *w, fd_set *e,
                                                   const struct timespec *tmo, const sigset_t *m)
{
    return CR_BLOCKING_CANCEL(REAL(pselect)(nfds, r, w, e, tmo, m));
}

__attribute__((noinline)) static int block_epoll_pwait(int epfd, struct epoll_event *ev, int maxev, int timeout,
                                                       const sigset_t *m)
{
    return CR_BLOCKING_CANCEL(REAL(epoll_pwait)(epfd, ev, maxev, timeout, m));
}

__attribute__((noinline)) static int block_epoll_pwait2(int epfd, struct epoll_event *ev, int maxev,
                                                        const struct timespec *tmo, const sigset_t *m)
{
    return CR_BLOCKING_CANCEL(REAL(epoll_pwait2)(epfd, ev, maxev, tmo, m));
}

CR_EXPORT int ppoll(struct pollfd *fds, nfds_t n, const struct timespec *tmo, const sigset_t *mask)
{
    sigset_t buf;
    const sigset_t *m = filtered(mask, &buf);
    if (ts_zero(tmo) || ts_bad(tmo) || !cr_thread_managed())
        return REAL(ppoll)(fds, n, tmo, m);
    int r = REAL(ppoll)(fds, n, &zero_ts, m);
    if (r != 0)
        return r;
    sigset_t bbuf;
    return block_ppoll(fds, n, tmo, blocked_mask(m, &bbuf));
}

/* select family: save the sets the probe may clear. */
struct fdsets {
    fd_set r, w, e;
};

static inline void save_sets(struct fdsets *s, int nfds, fd_set *r, fd_set *w, fd_set *e)
{
    size_t bytes = ((size_t)nfds + 7) / 8;
    if (r) memcpy(&s->r, r, bytes);
    if (w) memcpy(&s->w, w, bytes);
    if (e) memcpy(&s->e, e, bytes);
}

static inline void restore_sets(const struct fdsets *s, int nfds, fd_set *r, fd_set *w, fd_set *e)
{
    size_t bytes = ((size_t)nfds + 7) / 8;
    if (r) memcpy(r, &s->r, bytes);
    if (w) memcpy(w, &s->w, bytes);
    if (e) memcpy(e, &s->e, bytes);
}

CR_EXPORT int select(int nfds, fd_set *restrict r, fd_set *restrict w, fd_set *restrict e,
                     struct timeval *restrict tv)
{
    if ((tv && tv->tv_sec == 0 && tv->tv_usec == 0) || !cr_thread_managed())
        return REAL(select)(nfds, r, w, e, tv);
    if (nfds >= 0 && nfds <= FD_SETSIZE &&
        !(tv && (tv->tv_sec < 0 || tv->tv_usec < 0 || tv->tv_usec >= 1000000))) {
        struct fdsets saved;
        struct timeval z = {0, 0};
        save_sets(&saved, nfds, r, w, e);
        int p = REAL(select)(nfds, r, w, e, &z);
        if (p != 0)
            return p;
        restore_sets(&saved, nfds, r, w, e);
    }
    return CR_BLOCKING_CANCEL(REAL(select)(nfds, r, w, e, tv));
}

CR_EXPORT int pselect(int nfds, fd_set *restrict r, fd_set *restrict w, fd_set *restrict e,
                      const struct timespec *restrict tmo, const sigset_t *restrict mask)
{
    sigset_t buf;
    const sigset_t *m = filtered(mask, &buf);
    if (ts_zero(tmo) || !cr_thread_managed())
        return REAL(pselect)(nfds, r, w, e, tmo, m);
    if (nfds >= 0 && nfds <= FD_SETSIZE && !ts_bad(tmo)) {
        struct fdsets saved;
        save_sets(&saved, nfds, r, w, e);
        int p = REAL(pselect)(nfds, r, w, e, &zero_ts, m);
        if (p != 0)
            return p;
        restore_sets(&saved, nfds, r, w, e);
    }
    sigset_t bbuf;
    return block_pselect(nfds, r, w, e, tmo, blocked_mask(m, &bbuf));
}

CR_EXPORT int epoll_wait(int epfd, struct epoll_event *ev, int maxev, int timeout)
{
    if (timeout == 0 || !cr_thread_managed())
        return REAL(epoll_wait)(epfd, ev, maxev, timeout);
    int r = REAL(epoll_wait)(epfd, ev, maxev, 0);
    if (r != 0)
        return r;
    return CR_BLOCKING_CANCEL(REAL(epoll_wait)(epfd, ev, maxev, timeout));
}

CR_EXPORT int epoll_pwait(int epfd, struct epoll_event *ev, int maxev, int timeout, const sigset_t *mask)
{
    sigset_t buf;
    const sigset_t *m = filtered(mask, &buf);
    if (timeout == 0 || !cr_thread_managed())
        return REAL(epoll_pwait)(epfd, ev, maxev, timeout, m);
    int r = REAL(epoll_pwait)(epfd, ev, maxev, 0, m);
    if (r != 0)
        return r;
    sigset_t bbuf;
    return block_epoll_pwait(epfd, ev, maxev, timeout, blocked_mask(m, &bbuf));
}

CR_EXPORT int epoll_pwait2(int epfd, struct epoll_event *ev, int maxev, const struct timespec *tmo,
                           const sigset_t *mask)
{
    sigset_t buf;
    const sigset_t *m = filtered(mask, &buf);
    if (ts_zero(tmo) || ts_bad(tmo) || !cr_thread_managed())
        return REAL(epoll_pwait2)(epfd, ev, maxev, tmo, m);
    int r = REAL(epoll_pwait2)(epfd, ev, maxev, &zero_ts, m);
    if (r != 0)
        return r;
    sigset_t bbuf;
    return block_epoll_pwait2(epfd, ev, maxev, tmo, blocked_mask(m, &bbuf));
}
