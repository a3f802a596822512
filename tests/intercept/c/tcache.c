/* tcache.c — a thread started after another one ended looks fresh, whether or not corun's thread
 * cache runs it on the same kernel thread: TLS, TSD destructors, names, signal masks,
 * cancellation state, attributes, join/detach/cancel/kill semantics, robust mutexes.
 *
 * Every check creates threads one after the other (create, join, create again), which is exactly
 * when the cache reuses a thread. stderr gets "reuse: T threads, K kernel threads" so the test
 * can tell that reuse happened under corun.
 */
#include "harness.h"

#include <locale.h>
#include <signal.h>
#include <stdatomic.h>
#include <sys/prctl.h>
#include <sys/resource.h>
#include <sys/syscall.h>

static __thread int tls_init = 42;
static __thread int tls_zero;
static __thread char tls_buf[4096] = "image";

static pid_t tid(void) { return (pid_t)syscall(SYS_gettid); }

/* kernel tids seen, to report reuse */
#define MAX_SEEN 4096
static pid_t seen[MAX_SEEN];
static int nseen, nthreads;
static pthread_mutex_t seen_lock = PTHREAD_MUTEX_INITIALIZER;
static void note_tid(void)
{
    pid_t t = tid();
    pthread_mutex_lock(&seen_lock);
    nthreads++;
    int i;
    for (i = 0; i < nseen; i++)
        if (seen[i] == t)
            break;
    if (i == nseen && nseen < MAX_SEEN)
        seen[nseen++] = t;
    pthread_mutex_unlock(&seen_lock);
}

static void *run1(void *(*fn)(void *), void *arg)
{
    pthread_t t;
    void *r = (void *)-1;
    if (pthread_create(&t, NULL, fn, arg) != 0)
        return (void *)-2;
    pthread_join(t, &r);
    return r;
}

/* ---- TLS ---- */
static void *tls_dirty(void *a)
{
    note_tid();
    int ok = tls_init == 42 && tls_zero == 0 && strcmp(tls_buf, "image") == 0;
    tls_init = 7;
    tls_zero = 9;
    strcpy(tls_buf, "dirty");
    tls_buf[4000] = 'x';
    return (void *)(long)ok;
}

static void check_tls(void)
{
    int ok = 1;
    for (int i = 0; i < 20; i++)
        ok &= (long)run1(tls_dirty, NULL) == 1;
    CHECK("tls_fresh_image", ok, "a thread saw the previous thread's __thread values");
}

/* ---- TSD ---- */
static pthread_key_t key_d, key_plain, key_again;
static atomic_int dtor_calls, dtor_wrong_thread, again_calls;
static void key_d_dtor(void *v)
{
    atomic_fetch_add(&dtor_calls, 1);
    if ((pid_t)(long)v != tid())
        atomic_fetch_add(&dtor_wrong_thread, 1);
}
static void key_again_dtor(void *v)
{
    /* sets itself again twice: glibc calls it three times (PTHREAD_DESTRUCTOR_ITERATIONS is 4) */
    int n = atomic_fetch_add(&again_calls, 1) + 1;
    if ((long)v < 3)
        pthread_setspecific(key_again, (void *)((long)v + 1));
    (void)n;
}
static void *tsd_body(void *a)
{
    note_tid();
    int fresh = pthread_getspecific(key_d) == NULL && pthread_getspecific(key_plain) == NULL &&
                pthread_getspecific(key_again) == NULL;
    pthread_setspecific(key_d, (void *)(long)tid());
    pthread_setspecific(key_plain, (void *)0x1234);
    pthread_setspecific(key_again, (void *)1);
    return (void *)(long)fresh;
}

static void check_tsd(void)
{
    pthread_key_create(&key_d, key_d_dtor);
    pthread_key_create(&key_plain, NULL);
    pthread_key_create(&key_again, key_again_dtor);
    int fresh = 1, before_join = 1;
    for (int i = 0; i < 10; i++) {
        int calls = atomic_load(&dtor_calls);
        fresh &= (long)run1(tsd_body, NULL) == 1;
        before_join &= atomic_load(&dtor_calls) == calls + 1; /* ran before join returned */
    }
    CHECK("tsd_fresh_values", fresh, "a thread saw a value set by the previous thread");
    CHECK("tsd_destructor_once_per_thread", atomic_load(&dtor_calls) == 10 && before_join,
          "destructor calls %d (want 10, each before join returns: %d)", atomic_load(&dtor_calls), before_join);
    CHECK("tsd_destructor_in_thread", atomic_load(&dtor_wrong_thread) == 0, "%d calls on another thread",
          atomic_load(&dtor_wrong_thread));
    CHECK("tsd_destructor_rounds", atomic_load(&again_calls) == 30, "re-arming destructor called %d times (want 30)",
          atomic_load(&again_calls));
    /* a deleted key's destructor does not run */
    pthread_key_t gone;
    pthread_key_create(&gone, key_d_dtor);
    int calls = atomic_load(&dtor_calls);
    pthread_key_delete(gone);
    run1(tsd_body, NULL);
    CHECK("tsd_deleted_key_no_destructor", atomic_load(&dtor_calls) == calls + 1, "calls %d want %d",
          atomic_load(&dtor_calls), calls + 1);
}

/* ---- names ---- */
static void *name_body(void *a)
{
    note_tid();
    char name[16] = {0};
    pthread_getname_np(pthread_self(), name, sizeof name);
    int ok = strcmp(name, (const char *)a) == 0;
    pthread_setname_np(pthread_self(), "changed-name");
    return (void *)(long)ok;
}

static void check_names(void)
{
    char old[16];
    prctl(PR_GET_NAME, old);
    prctl(PR_SET_NAME, "creator-a");
    int ok = (long)run1(name_body, "creator-a") == 1 && (long)run1(name_body, "creator-a") == 1;
    prctl(PR_SET_NAME, "creator-b");
    ok &= (long)run1(name_body, "creator-b") == 1;
    prctl(PR_SET_NAME, old);
    CHECK("name_inherited_from_creator", ok, "a thread did not start with its creator's name");
}

/* ---- signal masks ---- */
static void *mask_body(void *a)
{
    note_tid();
    sigset_t cur;
    pthread_sigmask(SIG_BLOCK, NULL, &cur);
    int want_usr1 = ((long)a & 1) != 0, want_usr2 = ((long)a & 2) != 0;
    int ok = sigismember(&cur, SIGUSR1) == want_usr1 && sigismember(&cur, SIGUSR2) == want_usr2;
    sigset_t s;
    sigemptyset(&s);
    sigaddset(&s, SIGUSR1);
    pthread_sigmask(SIG_UNBLOCK, &s, NULL);
    sigemptyset(&s);
    sigaddset(&s, SIGUSR2);
    pthread_sigmask(SIG_BLOCK, &s, NULL);
    return (void *)(long)ok;
}

static void check_sigmask(void)
{
    sigset_t s, old;
    sigemptyset(&s);
    sigaddset(&s, SIGUSR1);
    pthread_sigmask(SIG_BLOCK, &s, &old);
    int ok = (long)run1(mask_body, (void *)1L) == 1 && (long)run1(mask_body, (void *)1L) == 1;
    CHECK("sigmask_inherited_from_creator", ok, "a thread did not start with its creator's mask");
    /* a mask in the attributes wins */
    pthread_attr_t at;
    pthread_attr_init(&at);
    sigset_t m;
    sigemptyset(&m);
    sigaddset(&m, SIGUSR2);
    pthread_attr_setsigmask_np(&at, &m);
    pthread_t t;
    void *r = NULL;
    pthread_create(&t, &at, mask_body, (void *)2L);
    pthread_join(t, &r);
    pthread_attr_destroy(&at);
    CHECK("sigmask_from_attributes", (long)r == 1, "mask from attributes not applied");
    pthread_sigmask(SIG_SETMASK, &old, NULL);
}

/* ---- cancellation state, errno, locale, alternate stack, nice ---- */
static void *state_body(void *a)
{
    note_tid();
    int st, ty;
    pthread_setcancelstate(PTHREAD_CANCEL_DISABLE, &st);
    pthread_setcanceltype(PTHREAD_CANCEL_ASYNCHRONOUS, &ty);
    int ok = st == PTHREAD_CANCEL_ENABLE && ty == PTHREAD_CANCEL_DEFERRED;
    ok = ok * 2 + (errno == 0);
    errno = 123;
    ok = ok * 2 + (uselocale((locale_t)0) == LC_GLOBAL_LOCALE);
    locale_t l = newlocale(LC_ALL_MASK, "C", (locale_t)0);
    if (l)
        uselocale(l); /* leaked on purpose: the thread ends with a thread locale set */
    stack_t ss;
    ok = ok * 2 + (sigaltstack(NULL, &ss) == 0 && (ss.ss_flags & SS_DISABLE));
    static char alt[3][65536];
    ss.ss_sp = alt[(long)a % 3];
    ss.ss_size = sizeof alt[0];
    ss.ss_flags = 0;
    sigaltstack(&ss, NULL);
    pthread_setcanceltype(PTHREAD_CANCEL_DEFERRED, NULL); /* end deferred: async around return is unsafe */
    return (void *)(long)ok;
}

static void check_state(void)
{
    long all = 15;
    for (long i = 0; i < 6; i++)
        all &= (long)run1(state_body, (void *)i);
    CHECK("cancel_state_fresh", all & 8, "cancel state/type not enable/deferred");
    CHECK("errno_fresh", all & 4, "errno not 0 at thread start");
    CHECK("locale_fresh", all & 2, "thread locale not the global one");
    CHECK("altstack_fresh", all & 1, "alternate signal stack inherited");
}

static void *nice_body(void *a)
{
    note_tid();
    errno = 0;
    int p = getpriority(PRIO_PROCESS, 0);
    int ok = errno == 0 && p == (int)(long)a;
    setpriority(PRIO_PROCESS, 0, p + 3);
    return (void *)(long)ok;
}

static void check_nice(void)
{
    errno = 0;
    int mine = getpriority(PRIO_PROCESS, 0);
    int ok = (long)run1(nice_body, (void *)(long)mine) == 1 && (long)run1(nice_body, (void *)(long)mine) == 1;
    CHECK("nice_fresh", ok, "a thread started with the previous thread's nice value");
}

/* ---- attributes ---- */
static void *attr_body(void *a)
{
    note_tid();
    pthread_attr_t at;
    size_t ss = 0, gs = 0;
    int ds = -1;
    pthread_getattr_np(pthread_self(), &at);
    pthread_attr_getstacksize(&at, &ss);
    pthread_attr_getguardsize(&at, &gs);
    pthread_attr_getdetachstate(&at, &ds);
    pthread_attr_destroy(&at);
    size_t *want = a;
    int ok = ss >= want[0] && ss < want[0] + (1u << 20) && gs == want[1] && ds == (int)want[2];
    if (!ok)
        fprintf(stderr, "attr: stack %zu guard %zu detach %d; want >= %zu, %zu, %zu\n", ss, gs, ds, want[0],
                want[1], want[2]);
    if (ds == PTHREAD_CREATE_DETACHED) {
        want[3] = ok ? 1 : 2;
    }
    return (void *)(long)ok;
}

static int attr_case(size_t stack, size_t guard, int detached)
{
    pthread_attr_t at;
    pthread_attr_init(&at);
    if (stack)
        pthread_attr_setstacksize(&at, stack);
    if (guard)
        pthread_attr_setguardsize(&at, guard);
    pthread_attr_setdetachstate(&at, detached);
    size_t want[4];
    pthread_attr_getstacksize(&at, &want[0]);
    pthread_attr_getguardsize(&at, &want[1]);
    want[2] = (size_t)detached;
    want[3] = 0;
    pthread_t t;
    void *r = NULL;
    pthread_create(&t, &at, attr_body, want);
    pthread_attr_destroy(&at);
    if (detached) {
        for (int i = 0; i < 2000 && __atomic_load_n(&want[3], __ATOMIC_SEQ_CST) == 0; i++)
            usleep(1000);
        return want[3] == 1;
    }
    pthread_join(t, &r);
    return (long)r == 1;
}

static void check_attrs(void)
{
    int ok = 1;
    ok &= attr_case(0, 0, PTHREAD_CREATE_JOINABLE);
    ok &= attr_case(1 << 20, 0, PTHREAD_CREATE_JOINABLE);
    ok &= attr_case(0, 0, PTHREAD_CREATE_JOINABLE);
    ok &= attr_case(1 << 20, 3 * 4096, PTHREAD_CREATE_JOINABLE);
    ok &= attr_case(1 << 20, 0, PTHREAD_CREATE_JOINABLE);
    ok &= attr_case(0, 0, PTHREAD_CREATE_DETACHED);
    ok &= attr_case(0, 0, PTHREAD_CREATE_JOINABLE);
    CHECK("attr_stack_guard_detach", ok, "a thread did not get the stack, guard or detach state asked for");
    /* joining a thread created detached */
    pthread_attr_t at;
    pthread_attr_init(&at);
    pthread_attr_setdetachstate(&at, PTHREAD_CREATE_DETACHED);
    size_t want[4] = {0, 0, PTHREAD_CREATE_DETACHED, 0};
    pthread_attr_getstacksize(&at, &want[0]);
    pthread_attr_getguardsize(&at, &want[1]);
    pthread_t t;
    pthread_create(&t, &at, attr_body, want);
    pthread_attr_destroy(&at);
    int r = pthread_join(t, NULL);
    for (int i = 0; i < 2000 && __atomic_load_n(&want[3], __ATOMIC_SEQ_CST) == 0; i++)
        usleep(1000);
    CHECK("join_detached_einval", r == EINVAL, "join of a detached thread returned %d", r);
}

/* ---- join, detach, cancel, kill of finished threads ---- */
static void *ret_arg(void *a)
{
    note_tid();
    return a;
}
static void *exit_arg(void *a)
{
    note_tid();
    pthread_exit(a);
}
static void *wait_cancel(void *a)
{
    note_tid();
    for (;;)
        pause();
    return NULL;
}
static atomic_int detached_runs;
static void *detached_body(void *a)
{
    note_tid();
    atomic_fetch_add(&detached_runs, 1);
    return NULL;
}

static void check_lifecycle(void)
{
    int ok = 1;
    for (long i = 0; i < 50; i++)
        ok &= (long)run1(ret_arg, (void *)i) == i;
    CHECK("join_value_each_thread", ok, "join returned another thread's value");

    ok = (long)run1(exit_arg, (void *)77L) == 77 && (long)run1(ret_arg, (void *)5L) == 5;
    CHECK("join_pthread_exit_then_reuse", ok, "pthread_exit value or the next thread's value lost");

    pthread_t t;
    void *r = NULL;
    pthread_create(&t, NULL, wait_cancel, NULL);
    usleep(20000);
    pthread_cancel(t);
    pthread_join(t, &r);
    ok = r == PTHREAD_CANCELED && (long)run1(ret_arg, (void *)6L) == 6;
    CHECK("join_cancelled_then_reuse", ok, "cancelled thread's result %p", r);

    /* the thread has finished (not joined): cancel and kill succeed and do nothing */
    pthread_create(&t, NULL, ret_arg, (void *)8L);
    usleep(50000);
    int kr = pthread_kill(t, 0), cr = pthread_cancel(t);
    int tr = pthread_tryjoin_np(t, &r);
    ok = kr == 0 && cr == 0 && tr == 0 && (long)r == 8 && (long)run1(ret_arg, (void *)9L) == 9;
    CHECK("finished_thread_cancel_kill_noop", ok, "kill %d cancel %d tryjoin %d value %ld", kr, cr, tr, (long)r);

    /* tryjoin while running, timed join that times out, then a real join */
    pthread_create(&t, NULL, wait_cancel, NULL);
    int busy = pthread_tryjoin_np(t, &r);
    struct timespec ts = abs_in(CLOCK_REALTIME, 50);
    int timed = pthread_timedjoin_np(t, &r, &ts);
    ts = abs_in(CLOCK_MONOTONIC, 20);
    int clocked = pthread_clockjoin_np(t, &r, CLOCK_MONOTONIC, &ts);
    pthread_cancel(t);
    int joined = pthread_join(t, &r);
    CHECK("join_forms_while_running", busy == EBUSY && timed == ETIMEDOUT && clocked == ETIMEDOUT && joined == 0 &&
          r == PTHREAD_CANCELED, "tryjoin %d timedjoin %d clockjoin %d join %d", busy, timed, clocked, joined);

    /* detach after the thread finished, and while it runs */
    pthread_create(&t, NULL, ret_arg, (void *)1L);
    usleep(20000);
    int d1 = pthread_detach(t);
    pthread_create(&t, NULL, detached_body, NULL);
    int d2 = pthread_detach(t);
    for (int i = 0; i < 2000 && atomic_load(&detached_runs) < 1; i++)
        usleep(1000);
    CHECK("detach_finished_and_running", d1 == 0 && d2 == 0 && atomic_load(&detached_runs) == 1, "detach %d %d", d1,
          d2);

    /* many detached threads, then many joinable ones */
    pthread_attr_t at;
    pthread_attr_init(&at);
    pthread_attr_setdetachstate(&at, PTHREAD_CREATE_DETACHED);
    int made = 0;
    for (int i = 0; i < 300; i++)
        made += pthread_create(&t, &at, detached_body, NULL) == 0;
    pthread_attr_destroy(&at);
    for (int i = 0; i < 5000 && atomic_load(&detached_runs) < 1 + made; i++)
        usleep(1000);
    CHECK("detached_storm", made == 300 && atomic_load(&detached_runs) == 301, "made %d ran %d", made,
          atomic_load(&detached_runs) - 1);
}

/* ---- robust mutex held when the thread ends ---- */
static pthread_mutex_t robust;
static void *lock_and_leave(void *a)
{
    note_tid();
    pthread_mutex_lock(&robust);
    return NULL;
}

static void check_robust(void)
{
    pthread_mutexattr_t ma;
    pthread_mutexattr_init(&ma);
    pthread_mutexattr_setrobust(&ma, PTHREAD_MUTEX_ROBUST);
    pthread_mutex_init(&robust, &ma);
    run1(lock_and_leave, NULL);
    int r = pthread_mutex_lock(&robust);
    if (r == EOWNERDEAD)
        pthread_mutex_consistent(&robust);
    pthread_mutex_unlock(&robust);
    int again = (long)run1(ret_arg, (void *)3L) == 3;
    CHECK("robust_owner_dead", r == EOWNERDEAD && again, "lock after owner ended returned %d", r);
}

/* ---- concurrent creators ---- */
static atomic_long storm_sum;
static void *add_arg(void *a)
{
    note_tid();
    atomic_fetch_add(&storm_sum, (long)a);
    return a;
}
static void *creator(void *a)
{
    long bad = 0;
    for (long i = 1; i <= 300; i++) {
        pthread_t t[3];
        for (int j = 0; j < 3; j++)
            pthread_create(&t[j], NULL, add_arg, (void *)(i * 3 + j));
        for (int j = 0; j < 3; j++) {
            void *r;
            pthread_join(t[j], &r);
            bad += (long)r != i * 3 + j;
        }
    }
    return (void *)bad;
}

static void check_storm(void)
{
    pthread_t c[4];
    for (int i = 0; i < 4; i++)
        pthread_create(&c[i], NULL, creator, NULL);
    long bad = 0;
    for (int i = 0; i < 4; i++) {
        void *r;
        pthread_join(c[i], &r);
        bad += (long)r;
    }
    long want = 0;
    for (long i = 1; i <= 300; i++)
        for (int j = 0; j < 3; j++)
            want += 4 * (i * 3 + j);
    CHECK("concurrent_create_join", bad == 0 && atomic_load(&storm_sum) == want, "bad %ld sum %ld want %ld", bad,
          atomic_load(&storm_sum), want);
}

/* ---- fork from a reused thread ---- */
#include <sys/wait.h>
static void *fork_body(void *a)
{
    note_tid();
    pid_t p = fork();
    if (p == 0) {
        void *r = run1(ret_arg, (void *)4L);
        _exit((long)r == 4 ? 0 : 1);
    }
    int st = -1;
    waitpid(p, &st, 0);
    return (void *)(long)(WIFEXITED(st) && WEXITSTATUS(st) == 0);
}

static void check_fork(void)
{
    int ok = (long)run1(ret_arg, (void *)1L) == 1 && (long)run1(fork_body, NULL) == 1 && (long)run1(fork_body, NULL) == 1;
    CHECK("fork_in_reused_thread", ok, "fork or thread creation in the child failed");
}

static void *late_return(void *a)
{
    msleep(100);
    printf("main_exit: ok\n");
    fflush(stdout);
    return NULL;
}

/* ---- signals: an ended thread takes none ---- */
static void *unblock_usr1(void *a)
{
    note_tid();
    sigset_t s;
    sigemptyset(&s);
    sigaddset(&s, SIGUSR1);
    pthread_sigmask(SIG_UNBLOCK, &s, NULL);
    return NULL;
}

static void check_signal_after_end(void)
{
    /* SIGUSR1 blocked everywhere but in threads that ended: a process-directed SIGUSR1 must wait
     * for sigwait (an idle reused thread that took it would kill the process: default action) */
    sigset_t s, old;
    sigemptyset(&s);
    sigaddset(&s, SIGUSR1);
    pthread_sigmask(SIG_BLOCK, &s, &old);
    for (int i = 0; i < 4; i++)
        run1(unblock_usr1, NULL);
    kill(getpid(), SIGUSR1);
    int sig = 0;
    int r = sigwait(&s, &sig);
    pthread_sigmask(SIG_SETMASK, &old, NULL);
    CHECK("ended_thread_takes_no_signal", r == 0 && sig == SIGUSR1, "sigwait %d sig %d", r, sig);
}

static void main_exit(void)
{
    /* main leaves by pthread_exit while finished threads could be cached, and the last thread
     * returns normally later: the process must end then (the test gives the cache a long idle
     * timeout), as it does without corun. */
    for (int i = 0; i < 5; i++)
        run1(ret_arg, NULL);
    pthread_t t;
    pthread_create(&t, NULL, late_return, NULL);
    pthread_detach(t);
    pthread_exit(NULL);
}

HARNESS_MAIN({
    if (h_argc > 1 && strcmp(h_argv[1], "main_exit") == 0)
        main_exit();
    RUN(check_tls);
    RUN(check_tsd);
    RUN(check_names);
    RUN(check_sigmask);
    RUN(check_state);
    RUN(check_nice);
    RUN(check_attrs);
    RUN(check_lifecycle);
    RUN(check_robust);
    RUN(check_storm);
    RUN(check_fork);
    RUN(check_signal_after_end);
    fprintf(stderr, "reuse: %d threads, %d kernel threads\n", nthreads, nseen);
})
