"""Routed Python VLCs: packages imported once, their native parallel libraries per context.

    import numpy as np
    from corun import VLC
    from corun.vlc import routed

    routed.enable()                      # once: patch numpy/scipy (and later imports)
    a = VLC(cpus="0")
    with a:                              # this thread's BLAS calls run on a's own OpenBLAS,
        c = x @ y                        # sized to a's CPUs, with the caller pinned to them

How: the GOT slots through which extension modules (numpy/_core/_multiarray_umath,
numpy/linalg/_umath_linalg, scipy's LAPACK users, ...) call a routed library (bundled OpenBLAS,
libgomp, ...) are rewritten to per-symbol trampolines. A trampoline reads the calling thread's
routing table (thread-local, native/vlc/route/route.c) and jumps to the context's instance of the
symbol, or to the original when the thread is in no context (see _py_router.py for the invariant).
Modules imported later are patched as they load (a meta-path hook) and, as a safety net, whenever
a thread enters a context after the set of imported modules changed.

A context gets its instances of the routed libraries (loaded into its namespace, after its
CPU-virtualizing root) the first time a thread enters it with routing enabled. The routing state
is per OS thread, like the context itself.
"""
from __future__ import annotations

import ctypes
import importlib.abc
import importlib.machinery
import os
import sys
import threading
import warnings
from collections.abc import Iterable
from dataclasses import dataclass
from typing import Any

from corun.vlc import _py_dl
from corun.vlc._py_nsthread import prepare_thread
from corun.vlc._py_router import DEFAULT_LIBRARIES, Route, Router, instance_handle, symbol_resolver

__all__ = ["enable", "disable", "enabled", "enter", "leave", "router", "info", "instance_handle_of",
           "add_library", "DEFAULT_LIBRARIES"]

_router: Router | None = None
_lock = threading.Lock()


def router() -> Router:
    if _router is None:
        raise RuntimeError("routed VLCs are not enabled; call corun.vlc.routed.enable() first")
    return _router


def enabled() -> bool:
    return _router is not None


def enable(libraries: Iterable[str] = DEFAULT_LIBRARIES) -> Router:
    """Start routing: patch the extension modules loaded now and those imported later.

    ``libraries`` are basename prefixes of the native libraries whose calls are routed. Idempotent.
    """
    global _router
    with _lock:
        if _router is None:
            _router = Router(libraries)
            sys.meta_path.insert(0, _PatchOnImport(_router))
            os.register_at_fork(before=_before_fork)
            from corun.vlc import _py_threadpoolctl
            _py_threadpoolctl.install(current_instances, lambda: _router.current_table() if _router else 0)
            _attach_to_vlc_class()
        _router.scan()
        return _router


def add_library(lib: Any) -> int:
    """Also route the calls of a shared object the program loaded itself (a ``ctypes.CDLL`` or the
    path of an object loaded in the base namespace), e.g. a ctypes-loaded library built with
    ``-fopenmp``. Extension modules are found on their own. Returns the number of slots routed."""
    r = router()
    handle = getattr(lib, "_handle", None)
    if isinstance(handle, int) and handle:
        name = _py_dl.link_map(handle).l_name
        path = os.fsdecode(name) if name else ""
    else:
        path = os.fspath(lib)
    if not path:
        raise ValueError(f"cannot tell the file of {lib!r}")
    return r.scan([path])


def disable() -> None:
    """Put every patched GOT slot back. Threads must be outside all contexts."""
    global _router
    with _lock:
        if _router is None:
            return
        _detach_from_vlc_class()
        _router.unpatch_all()
        sys.meta_path[:] = [f for f in sys.meta_path if not isinstance(f, _PatchOnImport)]
        _router = None


# ----------------------------------------------------------------------------- enter / leave
@dataclass(frozen=True)
class Token:
    previous: int


def _loader(ctx: Any):
    def load(path: str):
        return symbol_resolver(instance_handle_of(ctx.load(path)))
    return load


def instance_handle_of(lib: Any) -> int:
    """The dlmopen handle of a library object returned by ``VLC.load``."""
    return instance_handle(lib)


def route_of(ctx: Any) -> Route:
    """The context's route (its routing table and instances), created on first use."""
    r = router()
    r.maybe_scan()
    name = str(getattr(ctx, "name", None) or f"vlc@{id(ctx):#x}")
    return r.route(ctx, name, _loader(ctx), alive=lambda: not getattr(ctx, "closed", False),
                   on_create=lambda route: _link_namespace_threads(ctx, route.table))


def _root_set_route(lmid: int):
    """The namespace root's corun_vlc_root_set_route(tpoff, table), or None (no namespace)."""
    from corun._native import library
    h = _py_dl.dlmopen(lmid, str(library("libcorun_vlc_root.so")), _py_dl.RTLD_NOW | _py_dl.RTLD_NOLOAD)
    try:
        addr = _py_dl.dlsym(h, "corun_vlc_root_set_route")
    finally:
        _py_dl.dlclose(h)          # the context keeps the root loaded
    return ctypes.CFUNCTYPE(None, ctypes.c_long, ctypes.c_void_p)(addr) if addr else None


def _link_namespace_threads(ctx: Any, table: int | None) -> None:
    """Have every thread that ctx's namespace starts from now on (libgomp team threads, OpenBLAS
    workers) begin with ctx's routing table: the outlined OpenMP code of an extension module runs on
    those threads and calls omp_get_thread_num, GOMP_barrier, ... through the extension's GOT; they
    must reach the instance that started the thread. ``table=None`` unlinks."""
    if getattr(ctx, "isolation", "namespace") != "namespace" or getattr(ctx, "closed", False):
        return
    lmid = getattr(ctx, "lmid", 0)
    if not lmid:
        return
    fn = _root_set_route(lmid)
    if fn is not None:
        fn(_router.tls.tpoff if _router is not None else 0, table)


def enter(ctx: Any) -> Token | None:
    """Route the calling thread's calls to ctx's instances (no-op when routing is not enabled).
    Called when a thread enters a VLC; returns what leave() needs."""
    if _router is None:
        return None
    lmid = getattr(ctx, "lmid", 0)
    if lmid:
        prepare_thread(lmid)
    return Token(_router.enter(route_of(ctx)))


def leave(token: Token | None) -> None:
    if token is not None and _router is not None:
        _router.leave(token.previous)


def forget(ctx: Any) -> None:
    """Drop ctx's route; called before the context closes its libraries."""
    if _router is not None:
        if _router.find_route(ctx) is not None:
            try:
                _link_namespace_threads(ctx, None)
            except OSError:
                pass
        _router.drop(ctx)


_tls = threading.local()


def _thread_hook(ctx: Any, entering: bool) -> None:
    """corun.vlc.gate thread hook: route while the thread is inside a context via ``with``."""
    stack = getattr(_tls, "stack", None)
    if stack is None:
        stack = _tls.stack = []
    if entering:
        try:
            stack.append((ctx, enter(ctx)))
        except Exception as e:  # never leave the thread half-entered: report and run unrouted
            stack.append((ctx, None))
            warnings.warn(f"corun routed VLC: cannot route {getattr(ctx, 'name', ctx)}: {e}",
                          RuntimeWarning, stacklevel=3)
    elif stack:
        left, token = stack.pop()
        try:
            if token is not None and _router is not None and not any(c is left for c, _ in stack):
                _release_thread_state(left)
        finally:
            leave(token)


def _gomp_pause(inst) -> Any:
    addr = inst("omp_pause_resource_all")
    return (lambda f=ctypes.CFUNCTYPE(ctypes.c_int, ctypes.c_int)(addr): f(_OMP_PAUSE_HARD)) if addr else None


_OMP_PAUSE_HARD = 2       # omp_pause_resource_t: omp_pause_soft = 1, omp_pause_hard = 2


def _release_thread_state(ctx: Any) -> None:
    """The calling thread leaves ctx for good (outermost entry): end its OpenMP thread pool in
    ctx's libgomp. libgomp keeps one pool per *master* thread, parked inside the instance's code;
    the context may be closed (its libgomp unloaded) later from any thread, which only the master
    itself can make safe (omp_pause_resource_all joins the master's workers). The next region in
    the context starts a fresh pool (one pthread_create per worker)."""
    route = _router.find_route(ctx) if _router is not None else None
    if route is None or route.closed:
        return
    n, hooks = route.on_leave
    if n != len(route.instances):
        hooks = [f for lib, inst in list(route.instances.items())
                 if os.path.basename(lib).startswith("libgomp") and (f := _gomp_pause(inst)) is not None]
        route.on_leave = (len(route.instances), hooks)
    for f in hooks:
        f()


def _attach_to_vlc_class() -> None:
    """Have every ``with vlc:`` / ``vlc.enter()`` route the thread (corun.vlc.gate's hook)."""
    from corun.vlc.gate import add_thread_hook
    add_thread_hook(_thread_hook)


def _detach_from_vlc_class() -> None:
    from corun.vlc.gate import remove_thread_hook
    try:
        remove_thread_hook(_thread_hook)
    except ValueError:
        pass


# ----------------------------------------------------------------------------- introspection
@dataclass(frozen=True)
class InstanceInfo:
    context: str
    library: str            # real path of the base library this instance duplicates
    handle: int             # dlmopen handle of the instance
    num_threads: int | None


def _num_threads(resolve) -> int | None:
    for name in ("openblas_get_num_threads", "scipy_openblas_get_num_threads64_",
                 "scipy_openblas_get_num_threads", "omp_get_max_threads", "bli_thread_get_num_threads"):
        addr = resolve(name)
        if addr:
            return ctypes.CFUNCTYPE(ctypes.c_int)(addr)()
    return None


def current_instances() -> list[InstanceInfo]:
    """Instances the calling thread's routed calls go to now (empty outside contexts)."""
    if _router is None:
        return []
    route = _router.current_route()
    if route is None:
        return []
    return [InstanceInfo(route.name, lib, inst.handle, _num_threads(inst))
            for lib, inst in route.instances.items()]


def info() -> list[dict[str, Any]]:
    """Every routed context's instances with their thread counts, and the patched modules."""
    if _router is None:
        return []
    out = []
    for route in _router.routes():
        for lib, res in route.instances.items():
            out.append({"context": route.name, "library": lib, "num_threads": _num_threads(res)})
    return out


# ----------------------------------------------------------------------------- imports and fork
class _PatchingLoader(importlib.abc.Loader):
    """Wraps an ExtensionFileLoader: the module's GOT is routed right after the object is loaded,
    before the module's code runs."""

    def __init__(self, inner: importlib.machinery.ExtensionFileLoader, owner: Router) -> None:
        self._inner = inner
        self._owner = owner

    def create_module(self, spec):
        module = self._inner.create_module(spec)
        if spec.origin:
            self._owner.scan([spec.origin])
        return module

    def exec_module(self, module) -> None:
        self._inner.exec_module(module)

    def __getattr__(self, name: str):
        return getattr(self._inner, name)


class _PatchOnImport(importlib.abc.MetaPathFinder):
    def __init__(self, owner: Router) -> None:
        self._owner = owner
        self._busy = threading.local()

    def find_spec(self, fullname, path, target=None):
        if getattr(self._busy, "on", False):
            return None
        self._busy.on = True
        try:
            for finder in sys.meta_path:
                if finder is self or not hasattr(finder, "find_spec"):
                    continue
                spec = finder.find_spec(fullname, path, target)
                if spec is not None:
                    break
            else:
                return None
        finally:
            self._busy.on = False
        if type(spec.loader) is importlib.machinery.ExtensionFileLoader:   # base namespace only
            spec.loader = _PatchingLoader(spec.loader, self._owner)
        return spec


def _before_fork() -> None:
    """Stop the worker threads of every context's instances: they registered their fork handlers
    with their namespace's libc, which the base fork() does not run, so a child would inherit a
    pool it can never join. The pools restart on next use, in parent and child."""
    r = _router
    if r is None:
        return
    for route in r.routes():
        for res in list(route.instances.values()):
            addr = res("blas_thread_shutdown_")
            if addr:
                ctypes.CFUNCTYPE(ctypes.c_int)(addr)()

