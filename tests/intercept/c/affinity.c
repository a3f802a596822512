/* Affinity as the program sees it: the inherited set first, then the hints it sets, through
 * glibc's sched_* and pthread_* calls, the raw syscall() form and thread attributes. Under corun
 * the thread really runs pinned to one core (reported on stderr, compared by the test). */
#include "harness.h"

#include <sched.h>
#include <sys/syscall.h>

static void show(const char *label, const cpu_set_t *s)
{
    printf("%s:", label);
    for (int i = 0; i < CPU_SETSIZE; i++)
        if (CPU_ISSET(i, s))
            printf(" %d", i);
    printf("\n");
}

static void real_allowed(const char *label)
{
    /* what the kernel really applies to this thread (differs under corun: pinned) */
    char path[64], line[256];
    snprintf(path, sizeof path, "/proc/thread-self/status");
    FILE *f = fopen(path, "r");
    while (f && fgets(line, sizeof line, f))
        if (strncmp(line, "Cpus_allowed_list:", 18) == 0)
            fprintf(stderr, "REAL %s %s", label, line + 18 + strspn(line + 18, " \t"));
    if (f)
        fclose(f);
}

static cpu_set_t inherited;
static int first_cpu, last_cpu;

struct other {
    volatile int ready, stop;
    cpu_set_t seen;
};

static void *other_thread(void *p)
{
    struct other *o = p;
    o->ready = 1;
    while (!o->stop)
        msleep(5);
    return NULL;
}

static void *attr_thread(void *p)
{
    cpu_set_t *s = p;
    CPU_ZERO(s);
    sched_getaffinity(0, sizeof *s, s);
    real_allowed("attr_thread");
    return NULL;
}

static void affinity(void)
{
    CPU_ZERO(&inherited);
    int r0 = sched_getaffinity(0, sizeof inherited, &inherited);
    show("affinity_inherited", &inherited);
    real_allowed("main_start");
    first_cpu = -1;
    for (int i = 0; i < CPU_SETSIZE; i++)
        if (CPU_ISSET(i, &inherited)) {
            if (first_cpu < 0)
                first_cpu = i;
            last_cpu = i;
        }
    cpu_set_t p;
    CPU_ZERO(&p);
    int r1 = pthread_getaffinity_np(pthread_self(), sizeof p, &p);
    CHECK("affinity_get_forms_agree", r0 == 0 && r1 == 0 && CPU_EQUAL(&p, &inherited), "r=%d,%d", r0, r1);

    /* raw get: returns the number of bytes the kernel's mask has */
    cpu_set_t raw;
    memset(&raw, 0xee, sizeof raw);
    long n = syscall(SYS_sched_getaffinity, 0, sizeof raw, &raw);
    int same = n > 0 && memcmp(&raw, &inherited, (size_t)n) == 0;
    printf("affinity_raw_get: bytes=%ld same=%d\n", n, same);
    errno = 0;
    long n2 = syscall(SYS_sched_getaffinity, 0, 4L, &raw);
    printf("affinity_raw_get_small: %ld errno=%d\n", n2, errno);
    errno = 0;
    int r2 = sched_getaffinity(0, 3, &raw);
    printf("affinity_get_small: %d errno=%d\n", r2, errno);

    /* the size libgomp asks with: CPU_ALLOC_SIZE(configured CPUs), which the kernel accepts even
     * when it is smaller than the mask it fills (corun answered these with the real, pinned set) */
    size_t asz = CPU_ALLOC_SIZE(sysconf(_SC_NPROCESSORS_CONF));
    cpu_set_t *a1 = CPU_ALLOC(sysconf(_SC_NPROCESSORS_CONF)), *a2 = CPU_ALLOC(sysconf(_SC_NPROCESSORS_CONF));
    CPU_ZERO_S(asz, a1);
    CPU_ZERO_S(asz, a2);
    int ra = sched_getaffinity(0, asz, a1);
    int rb = pthread_getaffinity_np(pthread_self(), asz, a2);
    int ca = CPU_COUNT_S(asz, a1), cb = CPU_COUNT_S(asz, a2);
    memset(&raw, 0, sizeof raw);
    long nc = syscall(SYS_sched_getaffinity, 0, (long)asz, &raw);
    int cc = nc > 0 ? CPU_COUNT_S((size_t)nc, &raw) : -1;
    printf("affinity_alloc_size_seen: size=%zu r=%d,%d raw=%ld counts=%d,%d,%d\n", asz, ra, rb, nc, ca, cb, cc);
    CHECK("affinity_get_alloc_size", ra == 0 && rb == 0 && nc == (long)asz && ca == CPU_COUNT(&inherited) &&
          cb == ca && cc == ca, "r=%d,%d raw=%ld counts=%d,%d,%d", ra, rb, nc, ca, cb, cc);
    CPU_FREE(a1);
    CPU_FREE(a2);

    /* set then get: the program sees what it set */
    cpu_set_t one;
    CPU_ZERO(&one);
    CPU_SET(last_cpu, &one);
    int r3 = sched_setaffinity(0, sizeof one, &one);
    CPU_ZERO(&p);
    sched_getaffinity(0, sizeof p, &p);
    CHECK("affinity_sched_set_get", r3 == 0 && CPU_EQUAL(&p, &one), "r=%d", r3);
    show("affinity_after_set", &p);

    CPU_ZERO(&one);
    CPU_SET(first_cpu, &one);
    long r4 = syscall(SYS_sched_setaffinity, 0, sizeof one, &one);
    memset(&raw, 0, sizeof raw);
    long n3 = syscall(SYS_sched_getaffinity, 0, sizeof raw, &raw);
    CHECK("affinity_raw_set_get", r4 == 0 && n3 == n && CPU_EQUAL(&raw, &one), "r=%ld n=%ld", r4, n3);

    int r5 = pthread_setaffinity_np(pthread_self(), sizeof inherited, &inherited);
    CPU_ZERO(&p);
    pthread_getaffinity_np(pthread_self(), sizeof p, &p);
    CHECK("affinity_pthread_set_get", r5 == 0 && CPU_EQUAL(&p, &inherited), "r=%d", r5);
    real_allowed("main_after_sets");

    /* empty sets are rejected as by the kernel */
    cpu_set_t empty;
    CPU_ZERO(&empty);
    errno = 0;
    int r6 = sched_setaffinity(0, sizeof empty, &empty), e6 = errno;
    int r7 = pthread_setaffinity_np(pthread_self(), sizeof empty, &empty);
    errno = 0;
    long r8 = syscall(SYS_sched_setaffinity, 0, sizeof empty, &empty);
    int e8 = errno;
    printf("affinity_empty: sched=%d/%d pthread=%d raw=%ld/%d\n", r6, e6, r7, r8, e8);

    /* another thread's affinity, by pthread_t and by tid */
    struct other o = {0};
    pthread_t t;
    pthread_create(&t, NULL, other_thread, &o);
    while (!o.ready)
        msleep(1);
    CPU_ZERO(&p);
    int r9 = pthread_getaffinity_np(t, sizeof p, &p);
    int inh = CPU_EQUAL(&p, &inherited);
    CPU_ZERO(&one);
    CPU_SET(last_cpu, &one);
    int r10 = pthread_setaffinity_np(t, sizeof one, &one);
    CPU_ZERO(&p);
    pthread_getaffinity_np(t, sizeof p, &p);
    CHECK("affinity_other_thread", r9 == 0 && inh && r10 == 0 && CPU_EQUAL(&p, &one), "r=%d,%d inh=%d", r9, r10, inh);
    o.stop = 1;
    pthread_join(t, NULL);

    /* a CPU set in the thread attributes becomes what the thread sees */
    pthread_attr_t a;
    pthread_attr_init(&a);
    CPU_ZERO(&one);
    CPU_SET(first_cpu, &one);
    pthread_attr_setaffinity_np(&a, sizeof one, &one);
    cpu_set_t seen;
    int r11 = pthread_create(&t, &a, attr_thread, &seen);
    pthread_join(t, NULL);
    CHECK("affinity_attr_cpuset", r11 == 0 && CPU_EQUAL(&seen, &one), "r=%d", r11);

    /* a new thread without attributes sees the inherited set */
    pthread_create(&t, NULL, attr_thread, &seen);
    pthread_join(t, NULL);
    CHECK("affinity_new_thread_inherits", CPU_EQUAL(&seen, &inherited), "differs");

    /* ... and the creator's current set (hint) when it changed it */
    CPU_ZERO(&one);
    CPU_SET(last_cpu, &one);
    sched_setaffinity(0, sizeof one, &one);
    pthread_create(&t, NULL, attr_thread, &seen);
    pthread_join(t, NULL);
    sched_setaffinity(0, sizeof inherited, &inherited);
    CHECK("affinity_new_thread_inherits_creator_set", CPU_EQUAL(&seen, &one), "differs");
}

HARNESS_MAIN({ RUN(affinity); })
