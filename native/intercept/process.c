/* process.c — exec, spawn and wait.
 *
 * Intercepts: execve, execv, execvp, execvpe, execl, execlp, execle, fexecve (exec family);
 *             posix_spawn, posix_spawnp; wait, waitpid, wait4, waitid.
 * Not intercepted: fork and vfork (the scheduler's pthread_atfork handlers cover fork), system
 *             and popen (glibc spawns through its internal posix_spawn with `environ`, which
 *             already carries the managed environment), clone.
 *
 * Invariants:
 *  - exec: cr_exec_before() deregisters the process right before the real exec; if the exec
 *    fails, cr_exec_failed() re-registers the calling thread and the real error (return -1,
 *    errno) is returned. Both are no-ops in a vfork child. The list forms build their argv on
 *    the stack and go through the same path as their vector forms (glibc's own execl*, execvp
 *    call its internal execve, which is not interposable). PATH search, the ENOEXEC fallback to
 *    /bin/sh and error precedence are glibc's: execvp/execlp run the real execvpe.
 *  - Descendants stay managed: when this process runs under corun, a child's environment that
 *    lacks LD_PRELOAD's libcorun or one of the CORUN_* variables this process started with gets
 *    them added (an explicit value the program set is kept). This path allocates nothing on
 *    the heap (vfork children may exec). posix_spawn's optional signal mask is filtered with
 *    cr_sigmask_filter() so the child starts with the scheduler's signals deliverable.
 *  - wait family: a managed thread first polls with WNOHANG; a reaped child, an error (ECHILD,
 *    EINVAL, EINTR) or WNOHANG in the caller's options is final. Otherwise it releases its core
 *    around the real wait. Status words, rusage and siginfo are the real call's. Cancellation
 *    points (cleanup handler gives the core back).
 */
#include "intercept/intercept.h"

#include <spawn.h>
#include <stdarg.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>
#include <sys/wait.h>
#include <unistd.h>

extern char **environ;

/* ---- managed environment ---------------------------------------------------------------------- */

#define MAX_KEPT 8
static char *kept_vars[MAX_KEPT]; /* "CORUN_...=value" as this process started */
static int n_kept;
static char *self_lib;            /* path of libcorun as it appeared in LD_PRELOAD */

__attribute__((constructor)) static void env_capture(void)
{
    const char *inst = getenv("CORUN_INSTANCE");
    if (!inst || !*inst)
        return; /* not under corun: children are left alone */
    for (char **e = environ; e && *e && n_kept < MAX_KEPT; e++)
        if (strncmp(*e, "CORUN_", 6) == 0)
            kept_vars[n_kept++] = strdup(*e);
    const char *pre = getenv("LD_PRELOAD");
    if (pre) {
        /* the launcher separates entries with spaces; ld.so also accepts ':' */
        const char *p = pre;
        while (*p) {
            size_t len = strcspn(p, " :");
            if (len >= 11 && memcmp(p + len - 11, "libcorun.so", 11) == 0 &&
                (len == 11 || p[len - 12] == '/')) {
                self_lib = strndup(p, len);
                break;
            }
            p += len;
            p += strspn(p, " :");
        }
    }
}

static const char *env_find(char *const *envp, const char *kv)
{
    size_t nlen = strcspn(kv, "=") + 1; /* include '=' */
    for (char *const *e = envp; e && *e; e++)
        if (strncmp(*e, kv, nlen) == 0)
            return *e;
    return NULL;
}

static bool preload_has_self(const char *entry)
{
    const char *p = entry + 11; /* after "LD_PRELOAD=" */
    while (*p) {
        size_t len = strcspn(p, " :");
        if (len >= 11 && memcmp(p + len - 11, "libcorun.so", 11) == 0 && (len == 11 || p[len - 12] == '/'))
            return true;
        p += len;
        p += strspn(p, " :");
    }
    return false;
}

static size_t env_count(char *const *envp)
{
    size_t n = 0;
    while (envp && envp[n])
        n++;
    return n;
}

/* Bytes of stack that env_fix() needs for a new LD_PRELOAD entry (0: none needed). */
static size_t env_preload_need(char *const *envp)
{
    if (!self_lib)
        return 0;
    const char *cur = env_find(envp, "LD_PRELOAD=");
    if (cur && preload_has_self(cur))
        return 0;
    return strlen("LD_PRELOAD=") + strlen(self_lib) + 1 + (cur ? strlen(cur) : 0) + 1;
}

/* Returns envp itself when it already keeps the child managed, else `arr` (room for
 * env_count(envp) + MAX_KEPT + 2 pointers) filled with envp plus what is missing. */
static char *const *env_fix(char *const *envp, char **arr, char *prebuf, size_t preneed)
{
    if (!n_kept && !self_lib)
        return envp;
    bool change = preneed != 0;
    for (int i = 0; i < n_kept && !change; i++)
        change = env_find(envp, kept_vars[i]) == NULL;
    if (!change)
        return envp;
    size_t n = 0;
    for (char *const *e = envp; e && *e; e++) {
        if (preneed && strncmp(*e, "LD_PRELOAD=", 11) == 0)
            continue;
        arr[n++] = *e;
    }
    for (int i = 0; i < n_kept; i++)
        if (!env_find(envp, kept_vars[i]))
            arr[n++] = kept_vars[i];
    if (preneed) {
        const char *cur = env_find(envp, "LD_PRELOAD=");
        strcpy(prebuf, "LD_PRELOAD=");
        strcat(prebuf, self_lib);
        if (cur && cur[11]) {
            strcat(prebuf, " ");
            strcat(prebuf, cur + 11);
        }
        arr[n++] = prebuf;
    }
    arr[n] = NULL;
    return arr;
}

/* Declares the stack room env_fix needs and computes the child's environment into `out`. */
#define WITH_MANAGED_ENV(envp, out)                                                              \
    size_t cr_pn_ = env_preload_need(envp);                                                      \
    char *cr_arr_[env_count(envp) + MAX_KEPT + 2];                                               \
    char cr_pre_[cr_pn_ ? cr_pn_ : 1];                                                           \
    char *const *out = env_fix(envp, cr_arr_, cr_pre_, cr_pn_)

/* ---- exec family -------------------------------------------------------------------------------- */

static int do_execve(const char *path, char *const argv[], char *const envp[])
{
    WITH_MANAGED_ENV(envp, env);
    if (access(path, X_OK) != 0) /* certain to fail (a shell's PATH search): stay registered */
        return REAL(execve)(path, argv, env);
    cr_exec_before();
    int r = REAL(execve)(path, argv, env);
    cr_exec_failed();
    return r;
}

static int do_execvpe(const char *file, char *const argv[], char *const envp[])
{
    WITH_MANAGED_ENV(envp, env);
    cr_exec_before();
    int r = REAL(execvpe)(file, argv, env);
    cr_exec_failed();
    return r;
}

CR_EXPORT int execve(const char *path, char *const argv[], char *const envp[])
{
    return do_execve(path, argv, envp);
}

CR_EXPORT int execv(const char *path, char *const argv[])
{
    return do_execve(path, argv, environ);
}

CR_EXPORT int execvp(const char *file, char *const argv[])
{
    return do_execvpe(file, argv, environ);
}

CR_EXPORT int execvpe(const char *file, char *const argv[], char *const envp[])
{
    return do_execvpe(file, argv, envp);
}

CR_EXPORT int fexecve(int fd, char *const argv[], char *const envp[])
{
    WITH_MANAGED_ENV(envp, env);
    cr_exec_before();
    int r = REAL(fexecve)(fd, argv, env);
    cr_exec_failed();
    return r;
}

/* glibc declares arg0 nonnull, but execl(path, NULL) exists in the wild: test it opaquely. */
static inline bool nonnull_hidden(const char *p)
{
    const char *volatile v = p;
    return v != NULL;
}

/* Count the list arguments after arg0 up to the terminating NULL. */
#define COUNT_LIST(arg0, last, n)                                                                \
    do {                                                                                         \
        va_list cr_ap_;                                                                          \
        va_start(cr_ap_, last);                                                                  \
        n = 1;                                                                                   \
        if (nonnull_hidden(arg0))                                                                \
            while (va_arg(cr_ap_, char *))                                                       \
                n++;                                                                             \
        va_end(cr_ap_);                                                                          \
    } while (0)

/* Declare `char *argv[]` holding arg0 and the list arguments (NULL-terminated), and leave the
 * started va_list `ap` just after the list's terminating NULL (execle's envp comes next). */
#define DECLARE_LIST_ARGV(arg0, argv, ap)                                                        \
    size_t argv##_n_;                                                                            \
    COUNT_LIST(arg0, arg0, argv##_n_);                                                           \
    char *argv[argv##_n_ + 1];                                                                   \
    va_list ap;                                                                                  \
    va_start(ap, arg0);                                                                          \
    argv[0] = nonnull_hidden(arg0) ? (char *)arg0 : NULL;                                        \
    for (size_t i_ = 1; i_ < argv##_n_; i_++)                                                    \
        argv[i_] = va_arg(ap, char *);                                                           \
    argv[argv##_n_] = NULL;                                                                      \
    if (nonnull_hidden(arg0))                                                                    \
        (void)va_arg(ap, char *) /* the terminating NULL */

CR_EXPORT int execl(const char *path, const char *arg0, ...)
{
    DECLARE_LIST_ARGV(arg0, argv, ap);
    va_end(ap);
    return do_execve(path, argv, environ);
}

CR_EXPORT int execlp(const char *file, const char *arg0, ...)
{
    DECLARE_LIST_ARGV(arg0, argv, ap);
    va_end(ap);
    return do_execvpe(file, argv, environ);
}

CR_EXPORT int execle(const char *path, const char *arg0, ...)
{
    DECLARE_LIST_ARGV(arg0, argv, ap);
    char *const *envp = va_arg(ap, char *const *);
    va_end(ap);
    return do_execve(path, argv, envp);
}

/* ---- posix_spawn ------------------------------------------------------------------------------- */

/* A copy of the spawn attributes with the scheduler's signals removed from the child's mask. */
static const posix_spawnattr_t *spawn_attr(const posix_spawnattr_t *in, posix_spawnattr_t *copy)
{
    short flags = 0;
    sigset_t mask;
    if (!in || posix_spawnattr_getflags(in, &flags) != 0 || !(flags & POSIX_SPAWN_SETSIGMASK) ||
        posix_spawnattr_getsigmask(in, &mask) != 0)
        return in;
    sigset_t filt = mask;
    cr_sigmask_filter(&filt);
    if (memcmp(&filt, &mask, sizeof mask) == 0)
        return in;
    *copy = *in; /* glibc's posix_spawnattr_t holds plain values, no pointers */
    posix_spawnattr_setsigmask(copy, &filt);
    return copy;
}

CR_EXPORT int posix_spawn(pid_t *restrict pid, const char *restrict path,
                          const posix_spawn_file_actions_t *fa, const posix_spawnattr_t *restrict attr,
                          char *const argv[restrict], char *const envp[restrict])
{
    posix_spawnattr_t copy;
    WITH_MANAGED_ENV(envp, env);
    return REAL(posix_spawn)(pid, path, fa, spawn_attr(attr, &copy), argv, env);
}

CR_EXPORT int posix_spawnp(pid_t *restrict pid, const char *restrict file,
                           const posix_spawn_file_actions_t *fa, const posix_spawnattr_t *restrict attr,
                           char *const argv[restrict], char *const envp[restrict])
{
    posix_spawnattr_t copy;
    WITH_MANAGED_ENV(envp, env);
    return REAL(posix_spawnp)(pid, file, fa, spawn_attr(attr, &copy), argv, env);
}

/* ---- wait family ------------------------------------------------------------------------------- */

CR_EXPORT pid_t waitpid(pid_t pid, int *status, int options)
{
    if ((options & WNOHANG) || !cr_thread_managed())
        return REAL(waitpid)(pid, status, options);
    pid_t r = REAL(waitpid)(pid, status, options | WNOHANG);
    if (r != 0)
        return r;
    return CR_BLOCKING_CANCEL(REAL(waitpid)(pid, status, options));
}

CR_EXPORT pid_t wait(int *status)
{
    if (!cr_thread_managed())
        return REAL(wait)(status);
    pid_t r = REAL(waitpid)(-1, status, WNOHANG);
    if (r != 0)
        return r;
    return CR_BLOCKING_CANCEL(REAL(wait)(status));
}

CR_EXPORT pid_t wait4(pid_t pid, int *status, int options, struct rusage *ru)
{
    if ((options & WNOHANG) || !cr_thread_managed())
        return REAL(wait4)(pid, status, options, ru);
    pid_t r = REAL(wait4)(pid, status, options | WNOHANG, ru);
    if (r != 0)
        return r;
    return CR_BLOCKING_CANCEL(REAL(wait4)(pid, status, options, ru));
}

CR_EXPORT int waitid(idtype_t idtype, id_t id, siginfo_t *info, int options)
{
    if ((options & WNOHANG) || !cr_thread_managed())
        return REAL(waitid)(idtype, id, info, options);
    if (!info) /* nothing to tell a reaped child from none by: no probe */
        return CR_BLOCKING_CANCEL(REAL(waitid)(idtype, id, info, options));
    info->si_pid = 0;
    int r = REAL(waitid)(idtype, id, info, options | WNOHANG);
    if (r != 0 || info->si_pid != 0)
        return r;
    return CR_BLOCKING_CANCEL(REAL(waitid)(idtype, id, info, options));
}
