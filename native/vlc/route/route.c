/* route.c — the per-thread "current routing table" read by corun's call trampolines.
 *
 * corun routes the calls that already-loaded Python extension modules make into a native library
 * (numpy's bundled OpenBLAS, for example) to the instance of that library that lives in the calling
 * thread's virtual library context. The extension's GOT slots are rewritten to point at small
 * trampolines generated at run time (src/corun/vlc/_py_trampoline.py); each trampoline does
 *
 *         mov  r11, fs:[TPOFF]          ; corun_route_table of the calling thread
 *         test r11, r11
 *         jz   original                 ; outside any context: the original target
 *         jmp  [r11 + 8 * index]        ; inside: this context's address for the symbol
 *
 * Invariants:
 *  - corun_route_table uses the initial-exec TLS model, so its offset from the thread pointer is one
 *    constant for all threads of the process (corun_route_tpoff()); the trampolines embed it.
 *  - NULL means "outside any context". A non-NULL value points to a table of code addresses indexed
 *    by global symbol index; whoever installs a table keeps it alive while any thread may use it and
 *    fills every index that has a trampoline before that trampoline is reachable from a GOT.
 *  - Only the owning thread writes its own slot (corun_route_swap); no locks are needed.
 */
#include <stdint.h>

#define ROUTE_API __attribute__((visibility("default")))

ROUTE_API __thread void *corun_route_table __attribute__((tls_model("initial-exec")));

/* Offset of corun_route_table from the thread pointer (%fs base on x86-64). */
ROUTE_API long corun_route_tpoff(void)
{
    char *tp;
    __asm__("mov %%fs:0, %0" : "=r"(tp));
    return (long)((char *)&corun_route_table - tp);
}

/* Install table for the calling thread; returns the table that was installed before. */
ROUTE_API void *corun_route_swap(void *table)
{
    void *old = corun_route_table;
    corun_route_table = table;
    return old;
}

ROUTE_API void *corun_route_current(void)
{
    return corun_route_table;
}
