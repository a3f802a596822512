/* copy.c — the second isolation mechanism, for when no linker namespace is left (CORUN_VLC_COPY).
 *
 * Invariant: every load gets a private instance by loading a private file copy of the library
 * (glibc recognises an already-loaded library by name and inode, not by contents) with
 * RTLD_LOCAL|RTLD_DEEPBIND, so the copy binds to its own symbols before any other instance's. The
 * copy is loaded while the calling thread is pinned to the context's CPUs: constructors that size
 * their pools from the thread's real affinity (OpenBLAS) size them to the context, and threads they
 * create inherit the pinning. Nothing else is virtualized (no root object: sysconf, /proc and the
 * environment are the process's), and dependencies are shared with the rest of the process.
 */
#include "vlc/api/internal.h"

#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/sendfile.h>
#include <sys/stat.h>
#include <unistd.h>

static const char *const default_dirs[] = {"/lib/x86_64-linux-gnu", "/usr/lib/x86_64-linux-gnu", "/usr/local/lib",
                                           "/lib64", "/usr/lib64", "/lib", "/usr/lib"};

/* A name without '/' is looked up in LD_LIBRARY_PATH, then the standard directories. */
static int find_library(const char *name, char *out, size_t cap)
{
    if (strchr(name, '/')) {
        snprintf(out, cap, "%s", name);
        return access(out, R_OK);
    }
    const char *lp = getenv("LD_LIBRARY_PATH");
    if (lp) {
        char dirs[4096];
        snprintf(dirs, sizeof dirs, "%s", lp);
        for (char *save = NULL, *d = strtok_r(dirs, ":", &save); d; d = strtok_r(NULL, ":", &save)) {
            snprintf(out, cap, "%s/%s", d, name);
            if (access(out, R_OK) == 0)
                return 0;
        }
    }
    for (size_t i = 0; i < sizeof default_dirs / sizeof *default_dirs; i++) {
        snprintf(out, cap, "%s/%s", default_dirs[i], name);
        if (access(out, R_OK) == 0)
            return 0;
    }
    return -1;
}

static int copy_file(const char *from, const char *to)
{
    int in = open(from, O_RDONLY | O_CLOEXEC), out = -1, r = -1;
    struct stat st;
    if (in < 0 || fstat(in, &st))
        goto done;
    out = open(to, O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, 0700);
    if (out < 0)
        goto done;
    off_t off = 0;
    while (off < st.st_size)
        if (sendfile(out, in, &off, (size_t)(st.st_size - off)) <= 0)
            goto done;
    r = 0;
done:
    if (in >= 0)
        close(in);
    if (out >= 0)
        close(out);
    return r;
}

void *vlc_copy_load(corun_vlc *v, const char *name)
{
    char path[PATH_MAX], dir[PATH_MAX], copy[2 * PATH_MAX];
    if (find_library(name, path, sizeof path)) {
        vlc_fail(CORUN_VLC_ENOTFOUND, "cannot load %s: not found (a copy context searches LD_LIBRARY_PATH and "
                 "the standard directories; give a path)", name);
        return NULL;
    }
    const char *tmp = getenv("TMPDIR");
    snprintf(dir, sizeof dir, "%s/corun-vlc-XXXXXX", tmp && *tmp ? tmp : "/tmp");
    if (!mkdtemp(dir)) {
        vlc_fail(CORUN_VLC_ENOMEM, "cannot create a directory for the copy of %s: %s", name, strerror(errno));
        return NULL;
    }
    const char *base = strrchr(path, '/');
    snprintf(copy, sizeof copy, "%s/%s", dir, base ? base + 1 : path);
    void *h = NULL;
    if (copy_file(path, copy)) {
        vlc_fail(CORUN_VLC_ENOMEM, "cannot copy %s to %s: %s", path, copy, strerror(errno));
    } else {
        int entered = corun_vlc_enter(v) == 0;
        h = dlopen(copy, RTLD_NOW | RTLD_LOCAL | RTLD_DEEPBIND);
        const char *e = h ? NULL : dlerror();
        if (entered)
            corun_vlc_leave();
        if (!h)
            vlc_fail(CORUN_VLC_ENOTFOUND, "cannot load %s: %s", name, e ? e : "?");
    }
    unlink(copy);   /* the mapping stays; the file is not needed any more */
    rmdir(dir);
    return h;
}
