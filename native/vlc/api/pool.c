/* pool.c — linker namespaces for contexts: created with the root object first, reused after close.
 *
 * Invariant: a namespace in the pool holds exactly the objects it held when it was created (the
 * root and its dependencies: libc, ld.so), so a context that takes it loads fresh instances of its
 * libraries; its environment is reset to the process's current one and its configuration replaced
 * before it is handed out. A namespace that still holds other objects after its context closed
 * (a library marked NODELETE, for instance) is unloaded instead, never reused.
 */
#include "vlc/api/internal.h"

#include <limits.h>
#include <link.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

extern char **environ;

#define POOL_MAX 16

static pthread_mutex_t pool_lock = PTHREAD_MUTEX_INITIALIZER;
static struct vlc_ns pool[POOL_MAX];
static int pooled;
static atomic_int in_use;

int vlc_ns_alive(void)
{
    return atomic_load(&in_use);
}

int vlc_is_limit_error(const char *msg)
{
    return msg && (strstr(msg, "static TLS") || strstr(msg, "no more namespaces"));
}

static char root_path_buf[PATH_MAX];
static pthread_once_t root_path_once = PTHREAD_ONCE_INIT;

static void find_root(void)
{
    const char *env = getenv("CORUN_VLC_ROOT");
    Dl_info info;
    if (env && *env)
        snprintf(root_path_buf, sizeof root_path_buf, "%s", env);
    else if (dladdr((void *)find_root, &info) && info.dli_fname) {
        const char *slash = strrchr(info.dli_fname, '/');
        snprintf(root_path_buf, sizeof root_path_buf, "%.*s/libcorun_vlc_root.so",
                 slash ? (int)(slash - info.dli_fname) : 1, slash ? info.dli_fname : ".");
    }
}

/* libcorun_vlc_root.so next to this library, or $CORUN_VLC_ROOT. */
static const char *root_path(void)
{
    pthread_once(&root_path_once, find_root);
    return root_path_buf[0] ? root_path_buf : NULL;
}

static int count_objects(void *handle)
{
    struct link_map *lm = NULL;
    if (dlinfo(handle, RTLD_DI_LINKMAP, &lm) || !lm)
        return -1;
    while (lm->l_prev)
        lm = lm->l_prev;
    int n = 0;
    for (; lm; lm = lm->l_next)
        n++;
    return n;
}

static int open_new(struct vlc_ns *ns)
{
    const char *path = root_path();
    if (!path)
        return vlc_fail(CORUN_VLC_ENOTFOUND, "cannot locate libcorun_vlc_root.so");
    memset(ns, 0, sizeof *ns);
    ns->root = dlmopen(LM_ID_NEWLM, path, RTLD_NOW | RTLD_LOCAL);
    if (!ns->root) {
        const char *e = dlerror();
        if (vlc_is_limit_error(e))
            return vlc_fail(CORUN_VLC_ELIMIT,
                "no linker namespace left for a new context (%d contexts alive; glibc: %s). glibc allows "
                "11 namespaces with default tunables and 15 when the process starts with "
                "GLIBC_TUNABLES=glibc.rtld.nns=16 in its environment (it cannot be changed later: "
                "restart with it set, e.g. corun.vlc.reexec_with_tunables()). Close unused contexts, "
                "or share the library through a service context.", vlc_ns_alive(), e);
        return vlc_fail(CORUN_VLC_ENOTFOUND, "cannot load the namespace root %s: %s", path, e ? e : "?");
    }
    dlinfo(ns->root, RTLD_DI_LMID, &ns->lmid);
    ns->configure = (int (*)(const void *, size_t))dlsym(ns->root, "corun_vlc_root_configure");
    ns->setenv = (int (*)(const char *, const char *))dlsym(ns->root, "corun_vlc_root_setenv");
    ns->getenv = (const char *(*)(const char *))dlsym(ns->root, "corun_vlc_root_getenv");
    ns->threads = (int (*)(int *, int, long *))dlsym(ns->root, "corun_vlc_root_threads");
    ns->reset = (void (*)(char *const *))dlsym(ns->root, "corun_vlc_root_reset");
    /* A thread that did not create the namespace has no ctype tables in its libc copy: isspace()
     * or strtod() there would dereference NULL. enter() sets them up (cheap, idempotent). */
    ns->ctype_init = (void (*)(void))dlsym(ns->root, "__ctype_init");
    ns->base_objects = count_objects(ns->root);
    if (!ns->configure || !ns->setenv || !ns->getenv || !ns->threads || !ns->reset) {
        dlclose(ns->root);
        return vlc_fail(CORUN_VLC_ENOTFOUND, "%s is not a corun namespace root", path);
    }
    return 0;
}

int vlc_ns_acquire(struct vlc_ns *ns)
{
    pthread_mutex_lock(&pool_lock);
    int have = pooled > 0;
    if (have)
        *ns = pool[--pooled];
    pthread_mutex_unlock(&pool_lock);
    if (have)
        ns->reset(environ);
    else {
        int r = open_new(ns);
        if (r)
            return r;
        /* The new libc copy points at the process's environ array, which a later setenv() in the
         * process may free: give the namespace its own copy now. */
        ns->reset(environ);
    }
    atomic_fetch_add(&in_use, 1);
    return 0;
}

void vlc_ns_release(struct vlc_ns *ns)
{
    atomic_fetch_sub(&in_use, 1);
    int clean = ns->base_objects > 0 && count_objects(ns->root) == ns->base_objects;
    pthread_mutex_lock(&pool_lock);
    if (clean && pooled < POOL_MAX) {
        pool[pooled++] = *ns;
        pthread_mutex_unlock(&pool_lock);
        return;
    }
    pthread_mutex_unlock(&pool_lock);
    dlclose(ns->root);
}

API int corun_vlc_prewarm(int n)
{
    int made = 0;
    for (; made < n; made++) {
        pthread_mutex_lock(&pool_lock);
        int full = pooled >= POOL_MAX || pooled >= n;
        pthread_mutex_unlock(&pool_lock);
        if (full)
            break;
        struct vlc_ns ns;
        int r = open_new(&ns);
        if (r)
            return made ? made : r;
        atomic_fetch_add(&in_use, 1);
        vlc_ns_release(&ns);
    }
    return made;
}
