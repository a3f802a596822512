/* affinity.h — helpers shared by affinity.c and syscall.c. */
#ifndef CORUN_INTERCEPT_AFFINITY_H
#define CORUN_INTERCEPT_AFFINITY_H

#include "intercept/intercept.h"

#include <stdbool.h>
#include <stddef.h>

/* Size in bytes of the kernel's CPU mask (nr_cpu_ids rounded up to longs); 0 if unknown. */
size_t cr_kernel_mask_bytes(void);
/* The kernel accepts `size` for sched_getaffinity (room for nr_cpu_ids bits, a multiple of
 * sizeof(long)); it may be smaller than cr_kernel_mask_bytes(). */
bool cr_get_size_ok(size_t size);
/* `set` names at least one CPU within the kernel's mask (otherwise the kernel says EINVAL). */
bool cr_set_nonempty(size_t size, const cpu_set_t *set);

/* True once the scheduler accepted an affinity hint in this process (or its parent before fork):
 * until then every managed thread sees the same default set and pthread_create need not ask. */
bool cr_hints_used(void);
/* cr_affinity_set() that records a successful hint for cr_hints_used(). */
bool cr_affinity_hint(pid_t tid, size_t size, const cpu_set_t *set);

#endif
