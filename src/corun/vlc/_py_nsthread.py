"""Per-thread set-up of a linker namespace's libc copy for threads it did not start.

glibc initialises a thread's ctype pointers (``__libc_tsd_CTYPE_B/TOLOWER/TOUPPER``, read by
isspace, tolower, strtod, ...) in ``start_thread`` and in libc's own initialiser, and only for the
libc that runs them. A namespace's libc copy is initialised on the thread that loaded it, so on
every other thread that later runs code of the namespace (a Python thread inside a context) those
pointers are NULL and the first ctype call crashes (seen as a segfault in numpy's datetime parsing
on a worker thread). corun calls the namespace libc's ``__ctype_init`` once per (thread, namespace)
when a thread enters a context. Threads started inside the namespace are set up by its own libc.
"""
from __future__ import annotations

import ctypes
import threading

from corun.vlc import _py_dl

_init_fns: dict[int, ctypes._CFuncPtr | None] = {}
_lock = threading.Lock()
_tls = threading.local()


def _ctype_init(lmid: int):
    with _lock:
        if lmid not in _init_fns:
            fn = None
            try:
                h = _py_dl.dlmopen(lmid, "libc.so.6", _py_dl.RTLD_NOW | _py_dl.RTLD_NOLOAD)
                addr = _py_dl.dlsym(h, "__ctype_init")
                fn = ctypes.CFUNCTYPE(None)(addr) if addr else None
            except OSError:
                fn = None
            _init_fns[lmid] = fn
        return _init_fns[lmid]


def prepare_thread(lmid: int) -> None:
    """Make the calling thread safe to run code of namespace lmid (idempotent, cheap)."""
    if lmid <= 0:
        return
    done = getattr(_tls, "done", None)
    if done is None:
        done = _tls.done = set()
    if lmid in done:
        return
    fn = _ctype_init(lmid)
    if fn is not None:
        fn()
    done.add(lmid)
