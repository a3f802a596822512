/* common.c — helpers shared by the interposers (see intercept.h). Intercepts nothing. */
#include "intercept/intercept.h"

void cr_cancel_block_end(void *unused)
{
    (void)unused;
    cr_block_end();
}
