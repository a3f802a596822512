/* exec family, posix_spawn, system and popen: children stay managed (they see LD_PRELOAD with
 * libcorun and CORUN_INSTANCE), exit statuses pass through, a failed exec leaves the process
 * working. Lines "ENV label preload=P instance=I" differ between plain and corun runs by design
 * (the test checks them separately); all other output is identical. */
#include "harness.h"

#include <fcntl.h>
#include <spawn.h>
#include <sys/wait.h>

extern char **environ;
static char self[4096];

static void env_line(const char *label)
{
    const char *pre = getenv("LD_PRELOAD");
    const char *inst = getenv("CORUN_INSTANCE");
    printf("ENV %s preload=%d instance=%d\n", label, pre && strstr(pre, "libcorun.so") != NULL,
           inst && *inst);
    fflush(stdout);
}

static int child_status(pid_t pid)
{
    int st;
    if (waitpid(pid, &st, 0) != pid)
        return -1;
    return WIFEXITED(st) ? WEXITSTATUS(st) : 128 + WTERMSIG(st);
}

#define SH_ENV                                                                                   \
    "case \"$LD_PRELOAD\" in *libcorun.so*) p=1;; *) p=0;; esac; "                             \
    "if [ -n \"$CORUN_INSTANCE\" ]; then i=1; else i=0; fi; "

static void exec_family(void)
{
    char *argv_child[] = {"exec-child", "child", "execv", "11", NULL};
    pid_t pid = fork();
    if (pid == 0) {
        execv(self, argv_child);
        _exit(99);
    }
    CHECK("exec_execv_status", child_status(pid) == 11, "status");

    pid = fork();
    if (pid == 0) {
        execl(self, "exec-child", "child", "execl", "12", (char *)NULL);
        _exit(99);
    }
    CHECK("exec_execl_status", child_status(pid) == 12, "status");

    pid = fork();
    if (pid == 0) {
        char *envp[] = {"FOO=1", NULL}; /* a stripped environment */
        execle(self, "exec-child", "child", "execle_stripped_env", "13", (char *)NULL, envp);
        _exit(99);
    }
    CHECK("exec_execle_status", child_status(pid) == 13, "status");

    pid = fork();
    if (pid == 0) {
        char *envp[] = {NULL};
        char *av[] = {"exec-child", "child", "execve_empty_env", "14", NULL};
        execve(self, av, envp);
        _exit(99);
    }
    CHECK("exec_execve_status", child_status(pid) == 14, "status");

    pid = fork();
    if (pid == 0) {
        execlp("sh", "sh", "-c", SH_ENV "echo \"ENV execlp_sh preload=$p instance=$i\"; exit 15", (char *)NULL);
        _exit(99);
    }
    CHECK("exec_execlp_status", child_status(pid) == 15, "status");

    pid = fork();
    if (pid == 0) {
        char *av[] = {"sh", "-c", SH_ENV "echo \"ENV execvp_sh preload=$p instance=$i\"; exit 16", NULL};
        execvp("sh", av);
        _exit(99);
    }
    CHECK("exec_execvp_status", child_status(pid) == 16, "status");

    pid = fork();
    if (pid == 0) {
        char *envp[] = {"PATH=/usr/bin:/bin", NULL};
        char *av[] = {"sh", "-c", SH_ENV "echo \"ENV execvpe_sh_stripped_env preload=$p instance=$i\"; exit 17", NULL};
        execvpe("sh", av, envp);
        _exit(99);
    }
    CHECK("exec_execvpe_status", child_status(pid) == 17, "status");

    pid = fork();
    if (pid == 0) {
        int fd = open(self, O_RDONLY | O_CLOEXEC);
        char *av[] = {"exec-child", "child", "fexecve", "18", NULL};
        fexecve(fd, av, environ);
        _exit(99);
    }
    CHECK("exec_fexecve_status", child_status(pid) == 18, "status");

    /* vfork + exec */
    pid = vfork();
    if (pid == 0) {
        execl(self, "exec-child", "child", "vfork_execl", "19", (char *)NULL);
        _exit(99);
    }
    CHECK("exec_vfork_status", child_status(pid) == 19, "status");

    /* a failed exec returns the real error and the process keeps working */
    errno = 0;
    int r = execl("/nonexistent/corun-test", "x", (char *)NULL);
    int e = errno;
    pthread_mutex_t m = PTHREAD_MUTEX_INITIALIZER;
    int ok = pthread_mutex_lock(&m) == 0 && pthread_mutex_unlock(&m) == 0;
    pthread_t t;
    ok = ok && pthread_create(&t, NULL, (void *(*)(void *))(void *)msleep, (void *)20L) == 0 && pthread_join(t, NULL) == 0;
    msleep(10);
    CHECK("exec_failure_recovers", r == -1 && e == ENOENT && ok, "r=%d errno=%d", r, e);
    errno = 0;
    char *av[] = {"x", NULL};
    r = execvp("corun-no-such-command", av);
    CHECK("execvp_failure_enoent", r == -1 && errno == ENOENT, "r=%d errno=%d", r, errno);
}

static void spawns(void)
{
    pid_t pid;
    char *av[] = {"exec-child", "child", "posix_spawn", "21", NULL};
    int r = posix_spawn(&pid, self, NULL, NULL, av, environ);
    CHECK("spawn_posix_spawn_status", r == 0 && child_status(pid) == 21, "r=%d", r);

    char *av2[] = {"sh", "-c", SH_ENV "echo \"ENV posix_spawnp_sh preload=$p instance=$i\"; exit 22", NULL};
    r = posix_spawnp(&pid, "sh", NULL, NULL, av2, environ);
    CHECK("spawn_posix_spawnp_status", r == 0 && child_status(pid) == 22, "r=%d", r);

    /* a spawn attribute mask that blocks everything, and an empty environment */
    posix_spawnattr_t at;
    posix_spawnattr_init(&at);
    sigset_t all;
    sigfillset(&all);
    posix_spawnattr_setsigmask(&at, &all);
    posix_spawnattr_setflags(&at, POSIX_SPAWN_SETSIGMASK);
    char *envp[] = {NULL};
    char *av3[] = {"exec-child", "child", "posix_spawn_masked_empty_env", "23", NULL};
    r = posix_spawn(&pid, self, NULL, &at, av3, envp);
    CHECK("spawn_posix_spawn_attr_status", r == 0 && child_status(pid) == 23, "r=%d", r);

    r = posix_spawn(&pid, "/nonexistent/corun-test", NULL, NULL, av, environ);
    CHECK("spawn_posix_spawn_enoent", r == ENOENT, "r=%d", r);

    int st = system(SH_ENV "echo \"ENV system_sh preload=$p instance=$i\"; exit 24");
    CHECK("spawn_system_status", WIFEXITED(st) && WEXITSTATUS(st) == 24, "st=%d", st);

    char cmd[4200];
    snprintf(cmd, sizeof cmd, "'%s' child popen 25", self);
    FILE *f = popen(cmd, "r");
    char line[256];
    while (f && fgets(line, sizeof line, f))
        printf("%s", line);
    st = f ? pclose(f) : -1;
    CHECK("spawn_popen_status", WIFEXITED(st) && WEXITSTATUS(st) == 25, "st=%d", st);
}

static int child(int argc, char **argv)
{
    env_line(argv[2]);
    if (strcmp(argv[2], "execle_stripped_env") == 0 && !(getenv("FOO") && strcmp(getenv("FOO"), "1") == 0))
        return 77; /* execle must pass the environment it was given */
    /* do a little synchronisation work as a managed process */
    pthread_mutex_t m = PTHREAD_MUTEX_INITIALIZER;
    pthread_mutex_lock(&m);
    pthread_mutex_unlock(&m);
    msleep(2);
    return atoi(argv[3]);
}

int main(int argc, char **argv)
{
    setvbuf(stdout, NULL, _IOLBF, 0);
    if (argc >= 4 && strcmp(argv[1], "child") == 0)
        return child(argc, argv);
    ssize_t n = readlink("/proc/self/exe", self, sizeof self - 1);
    self[n > 0 ? n : 0] = 0;
    h_argc = 1;
    env_line("parent");
    exec_family();
    spawns();
    if (h_failures)
        return 100;
    /* finally replace this process: its exit status is the command's */
    execl(self, "exec-child", "child", "final_exec", "42", (char *)NULL);
    return 101;
}
