/* log.c — see log.h. */
#include "common/log.h"

#include <stdarg.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/syscall.h>
#include <unistd.h>

static _Atomic int level_cache = -1;

int cr_log_level(void)
{
    int l = atomic_load_explicit(&level_cache, memory_order_relaxed);
    if (l >= 0)
        return l;
    const char *s = getenv("CORUN_LOG_LEVEL");
    l = CR_LOG_WARNING;
    if (s) {
        if (!strcasecmp(s, "error")) l = CR_LOG_ERROR;
        else if (!strcasecmp(s, "info")) l = CR_LOG_INFO;
        else if (!strcasecmp(s, "debug")) l = CR_LOG_DEBUG;
    }
    atomic_store_explicit(&level_cache, l, memory_order_relaxed);
    return l;
}

void cr_log(int level, const char *fmt, ...)
{
    static const char *names[] = {"error", "warning", "info", "debug"};
    if (level > cr_log_level())
        return;
    char buf[512];
    int n = snprintf(buf, sizeof buf, "corun[%d]: %s: ", (int)getpid(), names[level & 3]);
    va_list ap;
    va_start(ap, fmt);
    n += vsnprintf(buf + n, sizeof buf - (size_t)n - 1, fmt, ap);
    va_end(ap);
    if (n > (int)sizeof buf - 2)
        n = (int)sizeof buf - 2;
    buf[n++] = '\n';
    syscall(SYS_write, 2, buf, (size_t)n);
}
