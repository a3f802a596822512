/* harness.h — tiny test harness for the interposition test programs.
 *
 * Each program runs named checks and prints one line per check, "NAME: ok" or "NAME: FAIL ...".
 * Output must be identical with and without corun, so lines carry no timings, pids or
 * addresses; diagnostics that may differ go to stderr. `prog [CHECK...]` runs only the named
 * checks. Exit status: the number of failures (capped at 100).
 */
#ifndef INTERCEPT_TEST_HARNESS_H
#define INTERCEPT_TEST_HARNESS_H

#define _GNU_SOURCE
#include <errno.h>
#include <pthread.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

static int h_failures;
static int h_argc;
static char **h_argv;

static void h_report(const char *name, int ok, const char *fmt, ...)
{
    if (ok) {
        printf("%s: ok\n", name);
    } else {
        char buf[512];
        va_list ap;
        va_start(ap, fmt);
        vsnprintf(buf, sizeof buf, fmt, ap);
        va_end(ap);
        printf("%s: FAIL %s\n", name, buf);
        h_failures++;
    }
    fflush(stdout);
}

#define CHECK(name, cond, ...) h_report(name, !!(cond), __VA_ARGS__)

static inline double now_s(void)
{
    struct timespec t;
    clock_gettime(CLOCK_MONOTONIC, &t);
    return t.tv_sec + t.tv_nsec * 1e-9;
}

/* Absolute time `ms` from now on `clk`. */
static inline struct timespec abs_in(clockid_t clk, long ms)
{
    struct timespec t;
    clock_gettime(clk, &t);
    t.tv_sec += ms / 1000;
    t.tv_nsec += (ms % 1000) * 1000000L;
    if (t.tv_nsec >= 1000000000L) {
        t.tv_sec++;
        t.tv_nsec -= 1000000000L;
    }
    return t;
}

/* A timed wait of `ms` lasted at least that long (the real guarantee) and not absurdly longer
 * (the bound is loose: CI machines run other jobs on the same cores). */
#define TIMED_OK(elapsed, ms) ((elapsed) >= (ms) * 1e-3 * 0.98 && (elapsed) < (ms) * 1e-3 + 5.0)

static inline void msleep(long ms)
{
    struct timespec t = {ms / 1000, (ms % 1000) * 1000000L};
    while (nanosleep(&t, &t) != 0 && errno == EINTR) {
    }
}

__attribute__((unused)) static int h_selected(const char *name)
{
    if (h_argc <= 1)
        return 1;
    for (int i = 1; i < h_argc; i++)
        if (strcmp(h_argv[i], name) == 0)
            return 1;
    return 0;
}

#define RUN(fn)                                                                                  \
    do {                                                                                         \
        if (h_selected(#fn))                                                                     \
            fn();                                                                                \
    } while (0)

#define HARNESS_MAIN(body)                                                                       \
    int main(int argc, char **argv)                                                              \
    {                                                                                            \
        h_argc = argc;                                                                           \
        h_argv = argv;                                                                           \
        setvbuf(stdout, NULL, _IOLBF, 0);                                                        \
        body;                                                                                    \
        return h_failures > 100 ? 100 : h_failures;                                              \
    }

#endif
