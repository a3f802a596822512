/* nested_teams OUTER INNER REGIONS [lock]
 * OUTER pthreads, each running REGIONS `#pragma omp parallel num_threads(INNER)` regions (libgomp
 * gives every pthread its own team: nested teams, as a BLAS built with OpenMP called from a
 * threaded program). Each region sums a deterministic integer series over its threads (reduction)
 * with a barrier in the middle, and checks the team size.
 * With "lock", every region is entered under one process-wide lock taken by spinning on a
 * compare-and-swap without calling anything, as OpenBLAS's OpenMP build does in exec_blas (its
 * single buffer set): the outer threads that do not hold it spin while the holder's team needs
 * the cores.
 * Prints "OK outer=.. inner=.. regions=.. sum=.." (the same under any scheduler) and exits 0, or
 * "BAD ..." and exits 3. */
#include <omp.h>
#include <pthread.h>
#include <stdatomic.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define WORK 20000

static int outer, inner, regions, use_lock;
static atomic_int lock_word;
static atomic_int bad;

struct result {
    uint64_t sum;
};

static uint64_t series(uint64_t from, uint64_t to, uint64_t salt)
{
    uint64_t s = 0;
    for (uint64_t i = from; i < to; i++)
        s += (i * 2654435761u + salt) % 1009u;
    return s;
}

static void *run(void *arg)
{
    int me = (int)(intptr_t)arg;
    uint64_t total = 0;
    for (int r = 0; r < regions; r++) {
        if (use_lock) {
            int free_ = 0;
            while (!atomic_compare_exchange_weak(&lock_word, &free_, 1))
                free_ = 0;
        }
        uint64_t sum = 0, salt = (uint64_t)me * 7919u + (uint64_t)r;
        int arrived = 0;
#pragma omp parallel num_threads(inner) reduction(+ : sum)
        {
            int n = omp_get_num_threads(), t = omp_get_thread_num();
            if (n != inner)
                atomic_store(&bad, 1);
            uint64_t lo = (uint64_t)WORK * t / n, hi = (uint64_t)WORK * (t + 1) / n;
            sum += series(lo, (lo + hi) / 2, salt);
#pragma omp atomic
            arrived++;
#pragma omp barrier
            if (arrived != n)
                atomic_store(&bad, 2);
            sum += series((lo + hi) / 2, hi, salt);
        }
        if (sum != series(0, WORK, salt))
            atomic_store(&bad, 3);
        if (use_lock)
            atomic_store(&lock_word, 0);
        total += sum;
    }
    return (void *)(uintptr_t)total;
}

int main(int argc, char **argv)
{
    if (argc < 4) {
        fputs("usage: nested_teams OUTER INNER REGIONS [lock]\n", stderr);
        return 2;
    }
    outer = atoi(argv[1]);
    inner = atoi(argv[2]);
    regions = atoi(argv[3]);
    use_lock = argc > 4 && strcmp(argv[4], "lock") == 0;
    if (outer < 1 || outer > 64 || inner < 1 || regions < 1)
        return 2;
    pthread_t th[64];
    for (int i = 0; i < outer; i++)
        if (pthread_create(&th[i], NULL, run, (void *)(intptr_t)i) != 0)
            return 2;
    uint64_t sum = 0;
    for (int i = 0; i < outer; i++) {
        void *ret;
        pthread_join(th[i], &ret);
        sum += (uint64_t)(uintptr_t)ret;
    }
    if (atomic_load(&bad)) {
        printf("BAD check=%d\n", atomic_load(&bad));
        return 3;
    }
    printf("OK outer=%d inner=%d regions=%d sum=%llu\n", outer, inner, regions, (unsigned long long)sum);
    return 0;
}
