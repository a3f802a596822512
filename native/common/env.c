/* env.c — see env.h. */
#include "common/env.h"
#include "common/log.h"

#include <stdlib.h>

unsigned cr_env_uint(const char *name, unsigned dflt, unsigned lo, unsigned hi)
{
    const char *v = getenv(name);
    if (!v || !*v)
        return dflt;
    char *end;
    unsigned long x = strtoul(v, &end, 10);
    if (*end || x < lo || x > hi) {
        cr_log(CR_LOG_WARNING, "ignoring %s=%s (expected %u..%u)", name, v, lo, hi);
        return dflt;
    }
    return (unsigned)x;
}
