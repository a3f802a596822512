/* sigill_chain MODE
 *   handler: install a SIGILL handler, execute ud2, the handler skips it; prints what it saw and
 *            what sigaction reports back as the installed handler
 *   default: execute ud2 with the default disposition: the process dies of SIGILL
 *   signal:  the same as "handler", installed with signal() */
#define _GNU_SOURCE
#include <signal.h>
#include <stdio.h>
#include <string.h>
#include <ucontext.h>

static volatile int hits;

static void on_ill(int sig, siginfo_t *info, void *ctx)
{
    ucontext_t *uc = ctx;
    hits++;
    uc->uc_mcontext.gregs[REG_RIP] += 2; /* skip the ud2 */
    (void)sig;
    (void)info;
}

static void on_ill_plain(int sig)
{
    (void)sig;
    hits += 100;
}

int main(int argc, char **argv)
{
    const char *mode = argc > 1 ? argv[1] : "handler";
    if (!strcmp(mode, "handler")) {
        struct sigaction sa, back;
        memset(&sa, 0, sizeof sa);
        sa.sa_sigaction = on_ill;
        sa.sa_flags = SA_SIGINFO;
        sigaction(SIGILL, &sa, NULL);
        sigaction(SIGILL, NULL, &back);
        __asm__ volatile("ud2");
        __asm__ volatile("ud2");
        printf("hits=%d reported_handler_is_ours=%d\n", hits, back.sa_sigaction == on_ill);
        return 0;
    }
    if (!strcmp(mode, "signal")) {
        signal(SIGILL, on_ill_plain);
        void (*old)(int) = signal(SIGILL, SIG_DFL);
        printf("old_is_ours=%d\n", old == on_ill_plain);
        return 0;
    }
    __asm__ volatile("ud2");
    puts("survived");
    return 0;
}
