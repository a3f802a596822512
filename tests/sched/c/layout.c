/* layout [NCORES...]: the shared segment's layout as this checkout's native/sched/shm.h defines
 * it, as JSON: header field offsets, struct sizes, and cr_shm_size() for each NCORES (the same
 * formula as native/sched/shm.c, with the page size of this machine). Built with -I native. */
#include "sched/shm.h"

#include <stdio.h>
#include <stdlib.h>
#include <unistd.h>

static size_t seg_size(unsigned ncores, unsigned max_procs, unsigned max_threads)
{
    size_t hdr = (sizeof(struct cr_shm) + 63) & ~(size_t)63;
    size_t sz = hdr + (size_t)max_procs * sizeof(struct cr_proc) + (size_t)max_threads * sizeof(struct cr_thread) +
                (size_t)max_procs * ncores * sizeof(struct cr_queue);
    long page = sysconf(_SC_PAGESIZE);
    return (sz + (size_t)page - 1) & ~((size_t)page - 1);
}

#define OFF(f) printf("\"%s\": %zu, ", #f, offsetof(struct cr_shm, f))

int main(int argc, char **argv)
{
    printf("{\"offsets\": {");
    OFF(magic); OFF(version); OFF(uid); OFF(total_size); OFF(ncores); OFF(max_procs); OFF(max_threads);
    OFF(quantum_us); OFF(header_check); OFF(removed); OFF(lock); OFF(nlive); OFF(cpu_of_core);
    printf("\"end\": %zu}, ", sizeof(struct cr_shm));
    printf("\"sizeof\": {\"cr_shm\": %zu, \"cr_proc\": %zu, \"cr_thread\": %zu, \"cr_queue\": %zu, \"mutex\": %zu}, ",
           sizeof(struct cr_shm), sizeof(struct cr_proc), sizeof(struct cr_thread), sizeof(struct cr_queue),
           sizeof(pthread_mutex_t));
    printf("\"magic\": %llu, \"version\": %u, \"max_cores\": %d, \"max_procs\": %d, \"max_threads\": %d, \"page\": %ld, ",
           (unsigned long long)CR_MAGIC, CR_LAYOUT_VERSION, CR_MAX_CORES, CR_MAX_PROCS, CR_MAX_THREADS,
           sysconf(_SC_PAGESIZE));
    printf("\"segment_bytes\": {");
    for (int i = 1; i < argc; i++)
        printf("%s\"%d\": %zu", i > 1 ? ", " : "", atoi(argv[i]),
               seg_size((unsigned)atoi(argv[i]), CR_MAX_PROCS, CR_MAX_THREADS));
    printf("}}\n");
    return 0;
}
