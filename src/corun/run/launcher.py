"""``corun run``: start CMD as a managed process of a scheduler instance (the paper's ``chrt -c``).

The launcher validates everything before CMD starts, prepares the instance's shared segment, then
replaces itself with CMD (exec), so CMD's exit status, signals and standard streams are CMD's own.
Managed processes find their configuration in CORUN_* variables and load libcorun.so through
LD_PRELOAD; descendants inherit both through fork, exec and posix_spawn.
"""
from __future__ import annotations

import os
import shutil
import signal
import sys

from corun._native import library
from corun.run import native_api
from corun.run.cpulist import format_cpulist
from corun.run.options import RunOptions

PRELOAD_NAME = "libcorun.so"
VLC_TUNABLE = "glibc.rtld.nns=16"  # 15 contexts instead of 11 (docs/vlc.md)


def managed_environment(opts: RunOptions, base: dict[str, str] | None = None) -> dict[str, str]:
    env = dict(os.environ if base is None else base)
    lib = str(library(PRELOAD_NAME))
    preload = [p for p in env.get("LD_PRELOAD", "").replace(":", " ").split() if p and not p.endswith("/" + PRELOAD_NAME)]
    env["LD_PRELOAD"] = " ".join([lib, *preload])
    env["CORUN_MANAGED"] = "1"
    env["CORUN_INSTANCE"] = opts.instance
    env["CORUN_CPUS"] = format_cpulist(opts.cpus)
    env["CORUN_QUANTUM_US"] = str(round(opts.quantum_ms * 1000))
    env["CORUN_LOG_LEVEL"] = opts.log_level
    env["CORUN_THREAD_CACHE"] = str(opts.thread_cache)
    env.pop("CORUN_QUANTUM_MS", None)
    # Virtual library contexts need linker namespaces; glibc reads this only at process start.
    tunables = [t for t in env.get("GLIBC_TUNABLES", "").split(":") if t]
    if not any(t.startswith("glibc.rtld.nns=") for t in tunables):
        env["GLIBC_TUNABLES"] = ":".join([*tunables, VLC_TUNABLE])
    return env


def resolve_command(cmd: list[str]) -> str:
    if not cmd:
        raise FileNotFoundError("no command given (usage: corun run [OPTIONS] -- CMD [ARGS...])")
    path = cmd[0] if "/" in cmd[0] else shutil.which(cmd[0])
    if not path or not os.path.exists(path):
        raise FileNotFoundError(f"command not found: {cmd[0]}")
    if os.path.isdir(path) or not os.access(path, os.X_OK):
        raise PermissionError(f"not an executable file: {cmd[0]}")
    return path


def exec_managed(opts: RunOptions, cmd: list[str]) -> None:
    """Prepare the instance and exec CMD under it. Returns only by raising."""
    path = resolve_command(cmd)
    native_api.prepare(opts.instance, format_cpulist(opts.cpus))
    env = managed_environment(opts)
    sys.stdout.flush()
    sys.stderr.flush()
    # Python ignores these at start-up and exec keeps ignored signals: give CMD the defaults it
    # would have had if started without corun.
    for sig in (signal.SIGPIPE, signal.SIGXFSZ):
        signal.signal(sig, signal.SIG_DFL)
    try:
        os.execve(path, cmd, env)
    except OSError as e:
        raise PermissionError(f"cannot execute {cmd[0]}: {e.strerror}") from None
