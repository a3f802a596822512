/* context.c — create, configure, load into and destroy contexts (see internal.h for the invariant). */
#include "vlc/api/internal.h"

#include <errno.h>
#include <limits.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/syscall.h>
#include <unistd.h>

static __thread char last_error[768];
static atomic_int alive;

int vlc_fail(int code, const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(last_error, sizeof last_error, fmt, ap);
    va_end(ap);
    return code;
}

API const char *corun_vlc_error(void)
{
    return last_error;
}

API int corun_vlc_count(void)
{
    return atomic_load(&alive);
}

int vlc_process_cpus(cpu_set_t *out)
{
    CPU_ZERO(out);
    return syscall(SYS_sched_getaffinity, 0, sizeof *out, out) < 0 ? -1 : 0;
}

API corun_vlc *corun_vlc_create(unsigned flags)
{
    corun_vlc *v = calloc(1, sizeof *v);
    if (!v) {
        vlc_fail(CORUN_VLC_ENOMEM, "out of memory");
        return NULL;
    }
    v->flags = flags;
    pthread_mutex_init(&v->lock, NULL);
    if (vlc_process_cpus(&v->cpus)) {
        vlc_fail(CORUN_VLC_ESTATE, "sched_getaffinity failed");
        free(v);
        return NULL;
    }
    if ((flags & (CORUN_VLC_SERVICE | CORUN_VLC_COPY)) == 0) {
        if (vlc_ns_acquire(&v->ns)) {
            free(v);
            return NULL;
        }
        if (v->ns.configure(&v->cpus, sizeof v->cpus)) {
            vlc_ns_release(&v->ns);
            vlc_fail(CORUN_VLC_EINVAL, "namespace root rejected the CPU set");
            free(v);
            return NULL;
        }
    }
    atomic_fetch_add(&alive, 1);
    return v;
}

API int corun_vlc_destroy(corun_vlc *v)
{
    if (!v)
        return vlc_fail(CORUN_VLC_EINVAL, "NULL context");
    if (atomic_load(&v->inside))
        return vlc_fail(CORUN_VLC_EBUSY, "%d thread(s) are still inside the context", atomic_load(&v->inside));
    for (int i = v->nlibs - 1; i >= 0; i--)
        dlclose(v->libs[i]);
    if (v->ns.root)
        vlc_ns_release(&v->ns);
    free(v->libs);
    pthread_mutex_destroy(&v->lock);
    free(v);
    atomic_fetch_sub(&alive, 1);
    return 0;
}

static int parse_cpulist(const char *s, cpu_set_t *out)
{
    CPU_ZERO(out);
    if (!s || !*s)
        return -1;
    while (*s) {
        char *end;
        long a = strtol(s, &end, 10), b = a;
        if (end == s || a < 0)
            return -1;
        s = end;
        if (*s == '-') {
            b = strtol(s + 1, &end, 10);
            if (end == s + 1 || b < a)
                return -1;
            s = end;
        }
        if (b >= CPU_SETSIZE)
            return -1;
        for (long i = a; i <= b; i++)
            CPU_SET((int)i, out);
        if (*s == ',')
            s++;
        else if (*s)
            return -1;
    }
    return 0;
}

API int corun_vlc_set_cpumask(corun_vlc *v, const void *mask, size_t size)
{
    if (!v || !mask)
        return vlc_fail(CORUN_VLC_EINVAL, "NULL argument");
    cpu_set_t want, allowed;
    CPU_ZERO(&want);
    memcpy(&want, mask, size < sizeof want ? size : sizeof want);
    if (CPU_COUNT(&want) == 0)
        return vlc_fail(CORUN_VLC_EINVAL, "empty CPU set");
    vlc_process_cpus(&allowed);
    for (int i = 0; i < CPU_SETSIZE; i++)
        if (CPU_ISSET(i, &want) && !CPU_ISSET(i, &allowed))
            return vlc_fail(CORUN_VLC_ECPU, "CPU %d is not in this process's allowed set", i);
    pthread_mutex_lock(&v->lock);
    v->cpus = want;
    int r = v->ns.configure ? v->ns.configure(&want, sizeof want) : 0;
    pthread_mutex_unlock(&v->lock);
    return r ? vlc_fail(CORUN_VLC_EINVAL, "root rejected CPUs") : 0;
}

API int corun_vlc_set_cpus(corun_vlc *v, const char *cpulist)
{
    cpu_set_t s;
    if (parse_cpulist(cpulist, &s))
        return vlc_fail(CORUN_VLC_EINVAL, "invalid CPU list '%s'", cpulist ? cpulist : "(null)");
    return corun_vlc_set_cpumask(v, &s, sizeof s);
}

API int corun_vlc_get_cpumask(corun_vlc *v, void *mask, size_t size)
{
    if (!v || !mask)
        return vlc_fail(CORUN_VLC_EINVAL, "NULL argument");
    pthread_mutex_lock(&v->lock);
    cpu_set_t s = v->cpus;
    pthread_mutex_unlock(&v->lock);
    memset(mask, 0, size);
    memcpy(mask, &s, size < sizeof s ? size : sizeof s);
    return CPU_COUNT(&s);
}

static int env_op(corun_vlc *v, const char *name, const char *value)
{
    if (!v || !name || !*name || strchr(name, '='))
        return vlc_fail(CORUN_VLC_EINVAL, "invalid environment variable name");
    if (!v->ns.setenv)
        return vlc_fail(CORUN_VLC_ESTATE, "a service or copy context shares the process environment; use setenv()");
    pthread_mutex_lock(&v->lock);
    int r = v->ns.setenv(name, value);
    pthread_mutex_unlock(&v->lock);
    return r ? vlc_fail(CORUN_VLC_ENOMEM, "setenv %s failed: %s", name, strerror(-r)) : 0;
}

API int corun_vlc_setenv(corun_vlc *v, const char *name, const char *value)
{
    if (!value)
        return vlc_fail(CORUN_VLC_EINVAL, "NULL value");
    return env_op(v, name, value);
}

API int corun_vlc_unsetenv(corun_vlc *v, const char *name)
{
    return env_op(v, name, NULL);
}

API const char *corun_vlc_getenv(corun_vlc *v, const char *name)
{
    if (!v || !name)
        return NULL;
    return v->ns.getenv ? v->ns.getenv(name) : getenv(name);
}

/* Keep h for dlclose at destroy; dlclose()s it and fails when out of memory. */
static void *remember(corun_vlc *v, void *h)
{
    pthread_mutex_lock(&v->lock);
    if (v->nlibs == v->caplibs) {
        int cap = v->caplibs ? 2 * v->caplibs : 8;
        void **n = realloc(v->libs, (size_t)cap * sizeof *n);
        if (!n) {
            pthread_mutex_unlock(&v->lock);
            dlclose(h);
            vlc_fail(CORUN_VLC_ENOMEM, "out of memory");
            return NULL;
        }
        v->libs = n;
        v->caplibs = cap;
    }
    v->libs[v->nlibs++] = h;
    pthread_mutex_unlock(&v->lock);
    return h;
}

API void *corun_vlc_load(corun_vlc *v, const char *name)
{
    if (!v || !name || !*name) {
        vlc_fail(CORUN_VLC_EINVAL, "NULL argument");
        return NULL;
    }
    if (v->flags & CORUN_VLC_COPY) {
        void *c = vlc_copy_load(v, name);   /* enters the context around the load: not under lock */
        return c ? remember(v, c) : NULL;
    }
    void *h = v->ns.root ? dlmopen(v->ns.lmid, name, RTLD_NOW | RTLD_LOCAL) : dlopen(name, RTLD_NOW | RTLD_LOCAL);
    if (!h) {
        const char *e = dlerror();
        vlc_fail(vlc_is_limit_error(e) ? CORUN_VLC_ELIMIT : CORUN_VLC_ENOTFOUND, "cannot load %s: %s", name,
                 e ? e : "?");
        return NULL;
    }
    return remember(v, h);
}

API void *corun_vlc_sym(corun_vlc *v, void *lib, const char *name)
{
    if (!v || !lib || !name) {
        vlc_fail(CORUN_VLC_EINVAL, "NULL argument");
        return NULL;
    }
    dlerror();
    void *p = dlsym(lib, name);
    if (!p)
        vlc_fail(CORUN_VLC_ENOSYM, "undefined symbol %s", name);
    return p;
}

API long corun_vlc_lmid(corun_vlc *v)
{
    return v ? (long)v->ns.lmid : -1;
}

API int corun_vlc_threads(corun_vlc *v, int *tids, int cap, long *started)
{
    if (!v)
        return vlc_fail(CORUN_VLC_EINVAL, "NULL context");
    if (!v->ns.threads) {
        if (started)
            *started = 0;
        return 0;
    }
    return v->ns.threads(tids, cap, started);
}
