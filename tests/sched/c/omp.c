/* omp REPS
 * OpenMP constructs with known results, REPS times: parallel for with reductions (static and
 * dynamic schedules), explicit barriers with a check that every thread arrived, critical
 * sections, atomics, single + tasks (a recursive task tree and a flat task batch).
 * Prints "OK threads=<n> sum=<...>" or "BAD <what>" (exit 1). */
#include <omp.h>
#include <stdio.h>
#include <stdlib.h>

static long fib_tasks(int n)
{
    if (n < 2)
        return n;
    long a, b;
#pragma omp task shared(a) if (n > 12)
    a = fib_tasks(n - 1);
#pragma omp task shared(b) if (n > 12)
    b = fib_tasks(n - 2);
#pragma omp taskwait
    return a + b;
}

int main(int argc, char **argv)
{
    int reps = argc > 1 ? atoi(argv[1]) : 200;
    int want = omp_get_max_threads();
    long grand = 0;
    for (int r = 0; r < reps; r++) {
        const long N = 20000;
        long s = 0, expect = 0;
        double d = 0.0;
        for (long i = 0; i < N; i++)
            expect += (i * (r + 1)) % 7;
#pragma omp parallel for reduction(+ : s, d) schedule(static)
        for (long i = 0; i < N; i++) {
            s += (i * (r + 1)) % 7;
            d += 1.0;
        }
        if (s != expect || d != (double)N) {
            printf("BAD reduction r=%d %ld %ld\n", r, s, expect);
            return 1;
        }
        long m = 0;
#pragma omp parallel for reduction(max : m) schedule(dynamic, 64)
        for (long i = 0; i < N; i++)
            if ((i * 31 + r) % 1009 > m)
                m = (i * 31 + r) % 1009;
        if (m != 1008) {
            printf("BAD max r=%d %ld\n", r, m);
            return 1;
        }

        int arrived = 0, crit = 0, nthreads = 0, bad = 0;
        long atom = 0;
#pragma omp parallel shared(arrived, crit, nthreads, bad, atom)
        {
#pragma omp single
            nthreads = omp_get_num_threads();
#pragma omp atomic
            arrived++;
#pragma omp barrier
            if (arrived != nthreads)
#pragma omp atomic write
                bad = 1;
#pragma omp barrier
#pragma omp critical
            {
                int c = crit; /* non-atomic read-modify-write: only safe inside the critical section */
                for (volatile int k = 0; k < 100; k++)
                    ;
                crit = c + 1;
            }
            for (int k = 0; k < 1000; k++)
#pragma omp atomic
                atom++;
#pragma omp barrier
            if (crit != nthreads || atom != 1000L * nthreads)
#pragma omp atomic write
                bad = 2;
        }
        if (bad || nthreads != want) {
            printf("BAD team r=%d bad=%d nthreads=%d want=%d crit=%d\n", r, bad, nthreads, want, crit);
            return 1;
        }

        long f = 0, flat = 0;
        if (r % 10 == 0) {
#pragma omp parallel
#pragma omp single
            {
                f = fib_tasks(18);
                for (int k = 0; k < 64; k++) {
#pragma omp task shared(flat)
                    {
#pragma omp atomic
                        flat += k;
                    }
                }
#pragma omp taskwait
            }
            if (f != 2584 || flat != 64 * 63 / 2) {
                printf("BAD tasks r=%d fib=%ld flat=%ld\n", r, f, flat);
                return 1;
            }
        }
        grand += s + m + f + flat;
    }
    printf("OK threads=%d sum=%ld\n", want, grand);
    return 0;
}
