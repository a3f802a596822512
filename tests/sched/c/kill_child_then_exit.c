/* kill_child_then_exit: fork a child that sleeps, SIGKILL it once it is running, reap it, and
 * exit at once: the parent is then the last live process of the instance. */
#include <signal.h>
#include <stdio.h>
#include <sys/wait.h>
#include <unistd.h>

int main(void)
{
    int p[2];
    if (pipe(p) != 0)
        return 2;
    pid_t k = fork();
    if (k == 0) {
        close(p[0]);
        write(p[1], "x", 1); /* attached (constructor and fork handler ran before this) */
        for (;;)
            pause();
    }
    close(p[1]);
    char c;
    if (read(p[0], &c, 1) != 1)
        return 3;
    kill(k, SIGKILL);
    int st;
    waitpid(k, &st, 0);
    printf("killed %d\n", (int)k);
    return WIFSIGNALED(st) && WTERMSIG(st) == SIGKILL ? 0 : 4;
}
