/* load.c — Table 3: time to load N instances of a library.
 *   load vlc  LIB N       N contexts (new namespaces), LIB loaded into each
 *   load base LIB N       LIB dlopen()ed once per call, N calls (only the first loads; the standard way)
 *   load copy LIB N DIR   N file copies of LIB in DIR, each dlopen()ed RTLD_LOCAL|RTLD_DEEPBIND
 * Prints {"total_ms": ..., "per_instance_ms": ...}; run it in a fresh process per sample. */
#define _GNU_SOURCE
#include <corun/vlc.h>

#include <dlfcn.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

static double now_ms(void)
{
    struct timespec t;
    clock_gettime(CLOCK_MONOTONIC, &t);
    return t.tv_sec * 1e3 + t.tv_nsec / 1e6;
}

int main(int argc, char **argv)
{
    const char *mode = argv[1], *lib = argv[2];
    int n = atoi(argv[3]);
    double t0 = now_ms(), create_ms = 0;
    for (int i = 0; i < n; i++) {
        void *h;
        if (!strcmp(mode, "vlc")) {
            double c0 = now_ms();
            corun_vlc *v = corun_vlc_create(0);
            create_ms += now_ms() - c0;
            h = v ? corun_vlc_load(v, lib) : NULL;
        } else if (!strcmp(mode, "base")) {
            h = dlopen(lib, RTLD_NOW | RTLD_LOCAL);
        } else {
            char path[4096];
            snprintf(path, sizeof path, "%s/copy%d.so", argv[4], i);
            h = dlopen(path, RTLD_NOW | RTLD_LOCAL | RTLD_DEEPBIND);
        }
        if (!h) {
            fprintf(stderr, "load failed: %s %s\n", corun_vlc_error(), dlerror());
            return 1;
        }
    }
    double total = now_ms() - t0;
    printf("{\"total_ms\": %.3f, \"create_ms\": %.3f, \"per_instance_ms\": %.3f}\n", total, create_ms, total / n);
    return 0;
}
