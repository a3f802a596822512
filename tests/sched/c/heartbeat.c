/* heartbeat FILE: the peer of the kill -9 tests. Maps FILE (2 x u64) and, until word 1 becomes
 * non-zero, works in ~20 us chunks, storing CLOCK_MONOTONIC (ns) into word 0 after each one; every
 * ~2 ms of work it sleeps 300 us (a scheduling point at which its turn can pass to another process).
 * Prints "OK beats=<n>" and exits 0. */
#include <fcntl.h>
#include <stdatomic.h>
#include <stdint.h>
#include <stdio.h>
#include <sys/mman.h>
#include <time.h>
#include <unistd.h>

static uint64_t now_ns(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (uint64_t)ts.tv_sec * 1000000000ull + (uint64_t)ts.tv_nsec;
}

int main(int argc, char **argv)
{
    if (argc < 2)
        return 2;
    int fd = open(argv[1], O_RDWR);
    if (fd < 0)
        return 3;
    _Atomic uint64_t *w = mmap(NULL, 4096, PROT_READ | PROT_WRITE, MAP_SHARED, fd, 0);
    if (w == MAP_FAILED)
        return 4;
    long beats = 0;
    uint64_t since = now_ns();
    volatile unsigned long x = 0;
    while (atomic_load(&w[1]) == 0) {
        for (int i = 0; i < 10000; i++)
            x += (unsigned long)i;
        uint64_t t = now_ns();
        atomic_store(&w[0], t);
        beats++;
        if (t - since > 2000000) {
            struct timespec ts = {0, 300000};
            nanosleep(&ts, NULL);
            since = now_ns();
        }
    }
    printf("OK beats=%ld\n", beats);
    return 0;
}
