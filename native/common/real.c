/* real.c — resolves the next definition of an interposed symbol (see real.h). */
#include "common/real.h"

#include "common/log.h"

#include <stdlib.h>

void *cr_real_lookup(const char *name, const char *version)
{
    void *p = version ? dlvsym(RTLD_NEXT, name, version) : dlsym(RTLD_NEXT, name);
    if (!p)
        p = dlsym(RTLD_DEFAULT, name);
    if (!p) {
        cr_log(CR_LOG_ERROR, "cannot resolve %s", name);
        abort();
    }
    return p;
}
