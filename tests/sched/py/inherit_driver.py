"""Start descendants in every way a program can, each of which reports its pid and waits.

    inherit_driver.py DIR WAITER

Descendants (tag: how): fork (os.fork, Python keeps running), forkexec (os.fork + os.execv),
posix_spawn (os.posix_spawn), subprocess (subprocess.Popen), mp_fork / mp_spawn / mp_forkserver
(multiprocessing.Process in each start method), pipe_a / pipe_b (sh -c 'A | B'), grandchild
(a Python child that starts WAITER with subprocess.run), system (os.system). Each writes
DIR/<tag>.pid and waits for DIR/release. Exits 0 when every descendant exited 0.
"""
import multiprocessing as mp
import os
import subprocess
import sys
import time


def wait_release(tag: str, d: str) -> None:
    with open(f"{d}/{tag}.pid.tmp", "w") as f:
        f.write(f"{os.getpid()}\n")
    os.rename(f"{d}/{tag}.pid.tmp", f"{d}/{tag}.pid")
    for _ in range(6000):
        if os.path.exists(f"{d}/release"):
            return
        time.sleep(0.01)
    raise SystemExit(3)


def mp_target(tag: str, d: str) -> None:
    wait_release(tag, d)


def main() -> int:
    d, w = sys.argv[1], sys.argv[2]
    pids, popens, procs = [], [], []
    pid = os.fork()
    if pid == 0:
        try:
            wait_release("fork", d)
        finally:
            os._exit(0)
    pids.append(pid)
    pid = os.fork()
    if pid == 0:
        os.execv(w, [w, "forkexec", d])
    pids.append(pid)
    pids.append(os.posix_spawn(w, [w, "posix_spawn", d], os.environ))
    popens.append(subprocess.Popen([w, "subprocess", d]))
    popens.append(subprocess.Popen(["sh", "-c", f'"{w}" pipe_a "{d}" | "{w}" pipe_b "{d}"']))
    popens.append(subprocess.Popen([sys.executable, "-c",
                                    f"import subprocess, sys; sys.exit(subprocess.run([{w!r}, 'grandchild', {d!r}]).returncode)"]))
    popens.append(subprocess.Popen([sys.executable, "-c", f"import os, sys; sys.exit(os.system('\"{w}\" system \"{d}\"') >> 8)"]))
    for method in ("fork", "spawn", "forkserver"):
        p = mp.get_context(method).Process(target=mp_target, args=(f"mp_{method}", d))
        p.start()
        procs.append(p)
    bad = []
    for pid in pids:
        _, st = os.waitpid(pid, 0)
        if os.waitstatus_to_exitcode(st) != 0:
            bad.append((pid, st))
    for p in popens:
        if p.wait(timeout=90) != 0:
            bad.append((p.args, p.returncode))
    for p in procs:
        p.join(90)
        if p.exitcode != 0:
            bad.append((p.name, p.exitcode))
    print("OK" if not bad else f"BAD {bad}")
    return 1 if bad else 0


if __name__ == "__main__":
    sys.exit(main())
