/* An OpenMP program (compiled with gcc, linked against LLVM's libomp by the test): more threads
 * than cores, parallel regions, reductions, locks, critical sections and barriers. libomp waits
 * through pthread condvars/mutexes, sched_yield and futexes issued via libc's syscall(), all of
 * which corun intercepts. */
#include <omp.h>
#include <stdio.h>

int main(void)
{
    long sum = 0, crit = 0, locked = 0;
    omp_lock_t l;
    omp_init_lock(&l);
    for (int r = 0; r < 1000; r++) {
#pragma omp parallel num_threads(4) reduction(+ : sum)
        {
            sum += omp_get_thread_num() + 1;
            if (r % 10 == 0) {
                omp_set_lock(&l);
                locked++;
                omp_unset_lock(&l);
            }
#pragma omp barrier
#pragma omp critical
            crit++;
        }
    }
    omp_destroy_lock(&l);
    printf("omp_sum: %ld\nomp_critical: %ld\nomp_locked: %ld\n", sum, crit, locked);
    return sum == 10000 && crit == 4000 && locked == 400 ? 0 : 1;
}
