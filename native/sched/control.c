/* control.c — functions for the launcher and observers (Python, via ctypes). Never on a
 * scheduling path; each call opens the segment, takes the lock briefly and lets go.
 *
 *   corun_instance_prepare   validate an existing segment for `corun run` (or accept none);
 *                            removes a stale one whose processes all died
 *   corun_instance_cleanup   reap dead processes, remove the segment if none is left
 *   corun_instance_snapshot  JSON description of cores, processes and threads
 * Invariant: none of them registers the calling process or changes a live process's state.
 */
#include "sched/internal.h"

#include "common/sys.h"

#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>

#define EXPORT __attribute__((visibility("default")))

int cr_parse_cpus(const char *text, int *out, int max);

static struct cr_shm *open_existing(const char *instance, const char *cpus_text, char *err, size_t len)
{
    static int cpus[CR_MAX_CORES];
    int n = 0;
    if (cpus_text) {
        n = cr_parse_cpus(cpus_text, cpus, CR_MAX_CORES);
        if (n <= 0) {
            snprintf(err, len, "invalid CPU list %s", cpus_text);
            return NULL;
        }
    }
    return cr_shm_open(instance, cpus_text ? cpus : NULL, cpus_text ? n : 1, 0, false, err, len);
}

/* Returns the number of live processes left; removes the segment at zero. Lock held. */
static int reap_and_maybe_remove(struct cr_shm *s, const char *instance)
{
    cr_shm_reap_dead(s, false);
    if (s->nlive == 0 && !atomic_load(&s->removed)) {
        char name[128];
        atomic_store(&s->removed, 1);
        cr_shm_name(instance, name, sizeof name);
        shm_unlink(name);
    }
    return s->nlive;
}

EXPORT int corun_instance_prepare(const char *instance, const char *cpus, char *err, size_t errlen)
{
    char local[512];
    struct cr_shm *s = open_existing(instance, cpus, local, sizeof local);
    if (!s) {
        if (strstr(local, "no such instance")) /* CMD's first process will create it */
            return 0;
        snprintf(err, errlen, "%s", local);
        return -1;
    }
    cr_shm_lock(s);
    reap_and_maybe_remove(s, instance);
    cr_shm_unlock(s);
    munmap(s, s->total_size);
    return 0;
}

EXPORT int corun_instance_cleanup(const char *instance)
{
    char err[512];
    struct cr_shm *s = open_existing(instance, NULL, err, sizeof err);
    if (!s)
        return strstr(err, "no such instance") ? 0 : -1;
    cr_shm_lock(s);
    int live = reap_and_maybe_remove(s, instance);
    cr_shm_unlock(s);
    munmap(s, s->total_size);
    return live;
}

struct out {
    char *buf;
    size_t len, used;
};

__attribute__((format(printf, 2, 3))) static void put(struct out *o, const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    int n = vsnprintf(o->used < o->len ? o->buf + o->used : NULL, o->used < o->len ? o->len - o->used : 0, fmt, ap);
    va_end(ap);
    if (n > 0)
        o->used += (size_t)n;
}

static const char *state_name(int st)
{
    switch (st) {
    case CR_RUNNING: return "running";
    case CR_READY: return "ready";
    case CR_BLOCKED: return "blocked";
    case CR_STOLEN: return "stolen";
    default: return "free";
    }
}

static void json_str(struct out *o, const char *s, size_t max)
{
    put(o, "\"");
    for (size_t i = 0; i < max && s[i]; i++) {
        unsigned char c = (unsigned char)s[i];
        if (c == '"' || c == '\\')
            put(o, "\\%c", c);
        else if (c < 0x20 || c >= 0x7f)
            put(o, "\\u%04x", c);
        else
            put(o, "%c", c);
    }
    put(o, "\"");
}

EXPORT int corun_instance_snapshot(const char *instance, char *buf, size_t len)
{
    char err[512];
    struct cr_shm *s = open_existing(instance, NULL, err, sizeof err);
    if (!s) {
        snprintf(buf, len, "%s", err);
        return -1;
    }
    struct out o = {buf, len, 0};
    struct cr_proc *procs = cr_procs(s);
    struct cr_thread *threads = cr_threads(s);
    cr_shm_lock(s);
    cr_shm_reap_dead(s, false);
    uint64_t now = cr_now_ns();
    put(&o, "{\"instance\": ");
    json_str(&o, instance, 64);
    put(&o, ", \"version\": %u, \"quantum_us\": %u, \"segment_bytes\": %llu, \"turn_pid\": %d, \"nready\": %d,",
        s->version, s->quantum_us, (unsigned long long)s->total_size,
        s->turn != CR_NONE ? procs[s->turn].pid : 0, s->nready);
    put(&o, " \"stats\": {\"grants\": %llu, \"steals\": %llu, \"preempts\": %llu, \"rotations\": %llu,"
        " \"probes\": %llu, \"spin_yields\": %llu},",
        (unsigned long long)s->stats_grants, (unsigned long long)s->stats_steals,
        (unsigned long long)s->stats_preempts, (unsigned long long)s->stats_rotations,
        (unsigned long long)s->stats_probes, (unsigned long long)atomic_load(&s->stats_spin_yields));
    put(&o, " \"cores\": [");
    for (unsigned c = 0; c < s->ncores; c++) {
        int t = s->core_owner[c];
        put(&o, "%s{\"index\": %u, \"cpu\": %d, \"owner_tid\": %d, \"owner_pid\": %d, \"held_us\": %llu}",
            c ? ", " : "", c, s->cpu_of_core[c], t != CR_NONE ? threads[t].tid : 0,
            t != CR_NONE ? procs[threads[t].proc].pid : 0,
            t != CR_NONE ? (unsigned long long)((now - threads[t].since_ns) / 1000) : 0ull);
    }
    put(&o, "], \"processes\": [");
    int np = 0;
    if (s->ring != CR_NONE) {
        int p = s->ring;
        do {
            struct cr_proc *pr = &procs[p];
            int blocked = 0, stolen = 0;
            for (int t = pr->threads; t != CR_NONE; t = threads[t].pnext) {
                int st = atomic_load(&threads[t].state);
                blocked += st == CR_BLOCKED;
                stolen += st == CR_STOLEN;
            }
            put(&o, "%s{\"pid\": %d, \"comm\": ", np++ ? ", " : "", pr->pid);
            json_str(&o, pr->comm, sizeof pr->comm);
            put(&o, ", \"threads\": %d, \"running\": %d, \"ready\": %d, \"blocked\": %d, \"stolen\": %d}",
                pr->nthreads, pr->nrunning, pr->nready, blocked, stolen);
            p = pr->ring_next;
        } while (p != s->ring && p != CR_NONE);
    }
    put(&o, "], \"threads\": [");
    int nt = 0;
    if (s->ring != CR_NONE) {
        int p = s->ring;
        do {
            for (int t = procs[p].threads; t != CR_NONE; t = threads[t].pnext)
                put(&o, "%s{\"tid\": %d, \"pid\": %d, \"state\": \"%s\", \"core\": %d, \"spin\": %d}",
                    nt++ ? ", " : "", threads[t].tid, procs[p].pid, state_name(atomic_load(&threads[t].state)),
                    threads[t].core, (int)atomic_load(&threads[t].spin));
            p = procs[p].ring_next;
        } while (p != s->ring && p != CR_NONE);
    }
    put(&o, "]}");
    reap_and_maybe_remove(s, instance); /* a stale instance (all its processes killed) goes away */
    cr_shm_unlock(s);
    munmap(s, s->total_size);
    return (int)o.used;
}
