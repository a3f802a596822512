"""Make threadpoolctl report and limit a context's library instances from inside the context.

threadpoolctl finds libraries by file name (in /proc/self/maps or through dl_iterate_phdr, which
only sees the caller's namespace) and opens them with ctypes in the base namespace, so on its own it
sees and limits only the base instance. corun wraps ``ThreadpoolController._load_libraries`` (a
private method, present in threadpoolctl 3.x): after the original has run, when the calling thread
is inside a routed context, each controller of a routed library is replaced by a controller of the
same class bound to the context's instance (``ctypes.CDLL(path, handle=...)``), with an extra
``vlc`` entry naming the context. Its set_num_threads acts on the instance directly: an instance is
driven by its own context's threads, so threadpoolctl's "controlling thread" rule for a process-wide
OpenBLAS pool does not apply. Outside contexts threadpoolctl is unchanged.

``get_cached_controller()`` (used by ``threadpool_limits.wrap`` and ``ThreadpoolController.wrap``
with no controller) is wrapped too: inside a routed context it returns a controller cached for
that context (invalidated, like threadpoolctl's own, when ``len(sys.modules)`` changes or the
context gets new instances); outside, threadpoolctl's own cached controller.
"""
from __future__ import annotations

import ctypes
import os
from collections.abc import Callable
from typing import Any

_installed = False


def install(current_instances: Callable[[], list[Any]], current_key: Callable[[], Any] | None = None) -> bool:
    """Wrap threadpoolctl once; False when threadpoolctl is missing or too different.
    ``current_key()`` identifies the calling thread's context (falsy outside contexts)."""
    global _installed
    if _installed:
        return True
    try:
        import threadpoolctl
    except ImportError:
        return False
    controller_cls = getattr(threadpoolctl, "ThreadpoolController", None)
    original = getattr(controller_cls, "_load_libraries", None)
    if original is None:
        return False

    def _load_libraries(self) -> None:
        original(self)
        instances = current_instances()
        if instances:
            _substitute(self, instances)

    _load_libraries.__wrapped__ = original  # type: ignore[attr-defined]
    controller_cls._load_libraries = _load_libraries
    cached = getattr(threadpoolctl, "get_cached_controller", None)
    if cached is not None and current_key is not None:
        threadpoolctl.get_cached_controller = _context_cache(cached, controller_cls, current_instances, current_key)
    _installed = True
    return True


def _context_cache(original: Callable[[], Any], controller_cls: type, current_instances: Callable[[], list[Any]],
                   current_key: Callable[[], Any]) -> Callable[[], Any]:
    import sys
    import threading

    cache: dict[Any, tuple[tuple, Any]] = {}
    lock = threading.Lock()

    def get_cached_controller():
        key = current_key()
        if not key:
            return original()
        instances = current_instances()
        if not instances:
            return original()
        stamp = (len(sys.modules), tuple(sorted(i.handle for i in instances)))
        hit = cache.get(key)
        if hit is not None and hit[0] == stamp:
            return hit[1]
        controller = controller_cls()
        with lock:
            cache[key] = (stamp, controller)
        return controller

    get_cached_controller.__wrapped__ = original  # type: ignore[attr-defined]
    get_cached_controller.__doc__ = original.__doc__
    return get_cached_controller


def _substitute(controller: Any, instances: list[Any]) -> None:
    by_path = {os.path.realpath(i.library): i for i in instances}
    out = []
    for lc in controller.lib_controllers:
        inst = by_path.get(os.path.realpath(lc.filepath)) if lc.filepath else None
        out.append(_instance_controller(lc, inst) if inst is not None else lc)
    controller.lib_controllers = out


def _instance_controller(base: Any, inst: Any) -> Any:
    cls = _context_class(type(base))
    lc = object.__new__(cls)
    lc.parent = base.parent
    lc.prefix = base.prefix
    lc.filepath = base.filepath
    lc.dynlib = ctypes.CDLL(base.filepath, handle=inst.handle)
    lc._symbol_prefix = getattr(base, "_symbol_prefix", "")
    lc._symbol_suffix = getattr(base, "_symbol_suffix", "")
    lc.version = getattr(base, "version", None)
    for attr in ("threading_layer", "architecture"):
        if hasattr(base, attr):
            setattr(lc, attr, getattr(base, attr))
    lc.vlc = inst.context
    return lc


_classes: dict[type, type] = {}


def _context_class(base_cls: type) -> type:
    cls = _classes.get(base_cls)
    if cls is None:
        def set_num_threads(self, num_threads):
            real = getattr(self, "_real_set_num_threads", None)
            if real is not None:
                return real(num_threads)
            return base_cls.set_num_threads(self, num_threads)

        cls = _classes[base_cls] = type(f"VLC{base_cls.__name__}", (base_cls,), {
            "set_num_threads": set_num_threads,
            "__doc__": f"{base_cls.__name__} bound to a virtual library context's instance.",
        })
    return cls
