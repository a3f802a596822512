/* gomp_barriers REGIONS: many short parallel-for regions (libgomp barriers: raw futex waits). */
#include <omp.h>
#include <stdio.h>
#include <stdlib.h>

int main(int argc, char **argv)
{
    int n = argc > 1 ? atoi(argv[1]) : 2000;
    long total = 0;
    for (int r = 0; r < n; r++) {
#pragma omp parallel for reduction(+ : total)
        for (int i = 0; i < 1000; i++)
            total += i % 7;
    }
    printf("total=%ld threads=%d\n", total, omp_get_max_threads());
    return 0;
}
