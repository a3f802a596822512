/* waiter TAG DIR: write DIR/TAG.pid (this process's pid), then wait until DIR/release exists
 * (polling with nanosleep, at most 60 s) and exit 0; exit 3 on timeout. */
#include <stdio.h>
#include <stdlib.h>
#include <time.h>
#include <unistd.h>

int main(int argc, char **argv)
{
    if (argc < 3)
        return 2;
    char tmp[4096], path[4096], rel[4096];
    snprintf(tmp, sizeof tmp, "%s/%s.pid.tmp", argv[2], argv[1]);
    snprintf(path, sizeof path, "%s/%s.pid", argv[2], argv[1]);
    snprintf(rel, sizeof rel, "%s/release", argv[2]);
    FILE *f = fopen(tmp, "w");
    if (!f)
        return 4;
    fprintf(f, "%d\n", (int)getpid());
    fclose(f);
    rename(tmp, path);
    struct timespec ts = {0, 10 * 1000 * 1000};
    for (int i = 0; i < 6000; i++) {
        if (access(rel, F_OK) == 0)
            return 0;
        nanosleep(&ts, NULL);
    }
    return 3;
}
