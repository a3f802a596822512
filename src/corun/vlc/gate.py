"""The per-thread entry into a context and the guard that makes use-after-close an exception.

Invariant: a thread is inside a context exactly between a successful C ``corun_vlc_enter_flags``
and the matching ``corun_vlc_leave``; the C side counts such threads and refuses to destroy the
context while any is inside. ``lock`` makes "check not closed, then enter" atomic with respect to
close, so no thread can enter a destroyed context. Each thread keeps its own stack of the contexts
it is in (``_tls.stack``), innermost last.
"""
from __future__ import annotations

import threading
from typing import Callable

from corun.vlc import _capi, errors

_tls = threading.local()

ThreadHook = Callable[[object, bool], None]
_thread_hooks: list[ThreadHook] = []


def add_thread_hook(hook: ThreadHook) -> None:
    """Call ``hook(vlc, entering)`` on the calling thread whenever it enters (``True``) or leaves
    (``False``) a context through ``with vlc:`` / ``vlc.enter()``; not on the implicit entry around
    single function calls. For layers that route calls by the thread's current context."""
    _thread_hooks.append(hook)


def remove_thread_hook(hook: ThreadHook) -> None:
    _thread_hooks.remove(hook)


CloseHook = Callable[[object], None]
_close_hooks: list[CloseHook] = []


def add_close_hook(hook: CloseHook) -> None:
    """Call ``hook(vlc)`` when a context is about to close, before its libraries are unloaded (for
    layers that hold addresses inside them). Exceptions from hooks are ignored."""
    _close_hooks.append(hook)


def remove_close_hook(hook: CloseHook) -> None:
    _close_hooks.remove(hook)


def thread_stack() -> list:
    """The contexts the calling thread is inside, innermost last (do not modify)."""
    st = getattr(_tls, "stack", None)
    if st is None:
        st = _tls.stack = []
    return st


class Gate:
    def __init__(self, owner: object, handle: int, name: str, pin: bool) -> None:
        self.owner = owner
        self.handle = handle
        self.name = name
        self.flags = 0 if pin else _capi.NOPIN
        self.closed = False
        self.lock = threading.Lock()
        self._capi = _capi.lib()

    def check_open(self) -> None:
        if self.closed:
            raise errors.VLCClosedError(f"context {self.name} is closed")

    def inside_here(self) -> bool:
        st = getattr(_tls, "stack", None)
        return bool(st) and st[-1] is self.owner

    def _enter(self) -> None:
        with self.lock:
            self.check_open()
            _capi.check(self._capi.corun_vlc_enter_flags(self.handle, self.flags), f"enter {self.name}")

    def enter_call(self) -> None:
        self._enter()

    def leave_call(self) -> None:
        self._capi.corun_vlc_leave()

    def enter_thread(self) -> None:
        self._enter()
        thread_stack().append(self.owner)
        for hook in _thread_hooks:
            hook(self.owner, True)

    def leave_thread(self) -> None:
        st = thread_stack()
        if not st or st[-1] is not self.owner:
            raise errors.VLCError(f"leaving {self.name}, which is not the calling thread's innermost context")
        for hook in reversed(_thread_hooks):
            hook(self.owner, False)
        st.pop()
        self._capi.corun_vlc_leave()

    def destroy(self) -> None:
        if self.closed:
            return
        for hook in list(_close_hooks):   # outside the lock: hooks may still call into the context
            try:
                hook(self.owner)
            except Exception:
                pass
        with self.lock:
            if self.closed:
                return
            _capi.check(self._capi.corun_vlc_destroy(self.handle), f"close {self.name}")
            self.closed = True
