"""glibc's linker-namespace limit and how to raise it.

Every context uses one linker namespace, and each namespace carries its own libc copy, which needs
static TLS. glibc 2.36 allows 11 new namespaces with default tunables and 15 (its hard cap of 16
including the base) when ``GLIBC_TUNABLES=glibc.rtld.nns=16`` (or a large
``glibc.rtld.optional_static_tls``) is in the environment *when the process starts*: setting it later
has no effect, so the process must be restarted (:func:`reexec_with_tunables`).
"""
from __future__ import annotations

import os
import sys

RAISED = "glibc.rtld.nns=16"
DEFAULT_LIMIT = 11
RAISED_LIMIT = 15


def _start_environment() -> dict[str, str]:
    try:
        raw = open("/proc/self/environ", "rb").read()
    except OSError:
        return dict(os.environ)
    out = {}
    for item in raw.split(b"\0"):
        k, sep, v = item.partition(b"=")
        if sep:
            out[os.fsdecode(k)] = os.fsdecode(v)
    return out


def _tunables(text: str) -> dict[str, str]:
    return dict(t.partition("=")[::2] for t in text.split(":") if "=" in t)


def namespace_limit() -> int:
    """How many contexts (new namespaces) this process can have at once, from the tunables it
    started with."""
    t = _tunables(_start_environment().get("GLIBC_TUNABLES", ""))
    nns = int(t.get("glibc.rtld.nns", "0") or 0)
    static_tls = int(t.get("glibc.rtld.optional_static_tls", "0") or 0)
    if nns >= 16 or static_tls >= 4096:
        return RAISED_LIMIT
    if nns > 4:
        return min(RAISED_LIMIT, nns - 1)
    return DEFAULT_LIMIT


def raised_environment(env: dict[str, str] | None = None) -> dict[str, str]:
    """A copy of env (default os.environ) with GLIBC_TUNABLES raising the namespace limit."""
    env = dict(os.environ if env is None else env)
    t = env.get("GLIBC_TUNABLES", "")
    if "glibc.rtld.nns=" not in t:
        env["GLIBC_TUNABLES"] = f"{t}:{RAISED}" if t else RAISED
    return env


def reexec_with_tunables() -> None:
    """Restart this Python process with the namespace limit raised to 15, unless it already is.
    Call it first thing in a program (it replaces the process; state is lost)."""
    if namespace_limit() >= RAISED_LIMIT:
        return
    sys.stdout.flush()
    sys.stderr.flush()
    os.execve(sys.executable, [sys.executable, *sys.orig_argv[1:]], raised_environment())
