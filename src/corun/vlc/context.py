"""``corun.VLC``: a virtual library context.

A context is one linker namespace (glibc ``dlmopen(LM_ID_NEWLM)``) whose first object is corun's
namespace root (libcorun_vlc_root.so). Every library loaded into it is this context's own instance,
and inside it libraries see only the context's CPUs and environment (see docs/vlc.md). All the work
is done by the C API (libcorun_vlc.so, native/include/corun/vlc.h); this class adds Python
lifetimes, exceptions and ``with``.

Internals other layers may rely on (documented, stable within corun):

* ``vlc.handle``      the ``corun_vlc *`` of the C API (int);
* ``vlc.lmid``        the linker namespace id (``Lmid_t``; 0 for a service context): dlmopen(lmid,
                      ...) loads more objects into the same namespace, after the root;
* ``vlc.cpus``        the context's CPUs (sorted list of int);
* ``vlc.libraries``   ``{name: VLCLibrary}``; ``lib._handle`` is the namespace-local dlopen handle;
* ``vlc.enter()`` / ``vlc.leave()`` enter/leave on the calling thread (what ``with`` does), and
  :func:`corun.vlc.gate.add_thread_hook` to be told about every such enter/leave;
* :func:`corun.vlc.gate.thread_stack` the contexts the calling thread is inside, innermost last;
* :func:`corun.vlc.gate.add_close_hook` to be told before a context unloads its libraries.
"""
from __future__ import annotations

import ctypes
import itertools
import os
import threading
import weakref
from collections.abc import Iterable, Mapping
from pathlib import Path

from corun.run.cpulist import CpuListError, format_cpulist, parse_cpulist
from corun.vlc import _capi, errors
from corun.vlc.gate import Gate
from corun.vlc.library import VLCLibrary

_ids = itertools.count(1)
_live: weakref.WeakSet[VLC] = weakref.WeakSet()
_live_lock = threading.Lock()


def live_contexts() -> list[VLC]:
    """Contexts not yet closed, oldest first."""
    with _live_lock:
        return sorted((v for v in _live if not v.closed), key=lambda v: v.id)


def prewarm(n: int) -> int:
    """Create up to n linker namespaces ahead of time so that later ``VLC()`` calls are fast (the
    paper's initialization step). Returns how many were made."""
    return _capi.check(_capi.lib().corun_vlc_prewarm(int(n)), "prewarm")


def _cpulist(cpus: str | Iterable[int]) -> str:
    try:
        if isinstance(cpus, str):
            cpus = parse_cpulist(cpus)
        cpus = sorted({int(c) for c in cpus})
    except (CpuListError, TypeError, ValueError) as e:
        raise errors.VLCCpuError(str(e)) from None
    if not cpus:
        raise errors.VLCCpuError("empty CPU set")
    if cpus[0] < 0:
        raise errors.VLCCpuError(f"negative CPU number {cpus[0]}")
    return format_cpulist(cpus)


class VLC:
    """A virtual library context.

    ``VLC(cpus="0-3", env={"OPENBLAS_NUM_THREADS": "4"})``. ``cpus`` defaults to every CPU the
    process may use; each CPU must be in that set. ``service=True`` makes a *service context*:
    no namespace of its own, libraries are loaded (shared) into the base namespace, only CPU pinning
    of calls applies — for libraries that cannot be duplicated. ``pin=False`` keeps callers'
    affinity unchanged on entry (the virtual views still apply inside the namespace).

    ``isolation``: ``"namespace"`` (default) gives the context a linker namespace (full
    virtualization); ``"copy"`` loads a private file copy of each library instead (own instance,
    pools sized from the context's CPUs, threads pinned — but no virtual files, sysconf or own
    environment, and dependencies shared); ``"auto"`` uses a namespace while glibc has one left and
    copies beyond the limit. ``vlc.isolation`` tells which one a context got.
    """

    def __init__(self, cpus: str | Iterable[int] | None = None, env: Mapping[str, str] | None = None,
                 *, service: bool = False, pin: bool = True, name: str | None = None,
                 isolation: str = "namespace") -> None:
        self.id = next(_ids)
        self.name = name or f"vlc{self.id}"
        self.service = service
        self._gate: Gate | None = None
        self._libs: dict[str, VLCLibrary] = {}
        if isolation not in ("namespace", "copy", "auto"):
            raise ValueError(f"isolation must be 'namespace', 'copy' or 'auto', not {isolation!r}")
        self.isolation = "shared" if service else isolation
        capi = _capi.lib()
        if service:
            handle = capi.corun_vlc_create(_capi.SERVICE)
        elif isolation == "copy":
            handle = capi.corun_vlc_create(_capi.COPY)
        else:
            handle = capi.corun_vlc_create(0)
            self.isolation = "namespace"
            if not handle and isolation == "auto" and _capi.last_was_limit():
                handle = capi.corun_vlc_create(_capi.COPY)
                self.isolation = "copy"
        if not handle:
            raise _capi.fail(errors.VLCError, f"cannot create context {self.name}")
        self._gate = Gate(self, handle, self.name, pin)
        with _live_lock:
            _live.add(self)
        try:
            if cpus is not None:
                self.set_allowed_cpus(cpus)
            for k, v in (env or {}).items():
                self.setenv(k, v)
        except BaseException:
            self.close()
            raise

    # -- configuration -------------------------------------------------------------------------
    @property
    def handle(self) -> int:
        return self._open_gate().handle

    @property
    def lmid(self) -> int:
        return int(_capi.lib().corun_vlc_lmid(self.handle))

    @property
    def closed(self) -> bool:
        return self._gate is None or self._gate.closed

    @property
    def cpus(self) -> list[int]:
        mask = (ctypes.c_uint64 * 16)()
        _capi.check(_capi.lib().corun_vlc_get_cpumask(self.handle, mask, ctypes.sizeof(mask)))
        return [w * 64 + b for w, word in enumerate(mask) for b in range(64) if word >> b & 1]

    def set_allowed_cpus(self, cpus: str | Iterable[int]) -> None:
        """Make only these CPUs visible to (and usable by) the context's libraries. Best before
        loading: libraries size their thread pools when they load. Live threads are re-pinned."""
        text = _cpulist(cpus)
        _capi.check(_capi.lib().corun_vlc_set_cpus(self.handle, text.encode()), f"{self.name}: cpus {text}")

    def setenv(self, name: str, value: str) -> None:
        """Set a variable in the context's own environment (not the process's)."""
        _capi.check(_capi.lib().corun_vlc_setenv(self.handle, os.fsencode(name), os.fsencode(str(value))),
                    f"{self.name}: setenv {name}")

    def unsetenv(self, name: str) -> None:
        _capi.check(_capi.lib().corun_vlc_unsetenv(self.handle, os.fsencode(name)), f"{self.name}: unsetenv {name}")

    def getenv(self, name: str) -> str | None:
        v = _capi.lib().corun_vlc_getenv(self.handle, os.fsencode(name))
        return None if v is None else os.fsdecode(v)

    # -- libraries -----------------------------------------------------------------------------
    def load(self, name: str | os.PathLike[str]) -> VLCLibrary:
        """Load a library (a name searched like dlopen, or a path) as this context's own instance."""
        key = os.fspath(name)
        self._open_gate()
        if key in self._libs:
            return self._libs[key]
        h = _capi.lib().corun_vlc_load(self.handle, os.fsencode(key))
        if not h:
            raise _capi.fail(errors.VLCLibraryNotFound, f"{self.name}: load {key}")
        lib = VLCLibrary(self, key, h)
        self._libs[key] = lib
        return lib

    @property
    def libraries(self) -> dict[str, VLCLibrary]:
        return dict(self._libs)

    def threads(self) -> tuple[list[int], int]:
        """(tids of live threads started by the context's libraries, how many were ever started)."""
        tids = (ctypes.c_int * 4096)()
        started = ctypes.c_long()
        n = _capi.check(_capi.lib().corun_vlc_threads(self.handle, tids, 4096, ctypes.byref(started)))
        return list(tids[:min(n, 4096)]), started.value

    # -- entering ------------------------------------------------------------------------------
    def enter(self) -> None:
        """Enter on the calling thread: it runs on the context's CPUs until :meth:`leave`."""
        self._open_gate().enter_thread()

    def leave(self) -> None:
        self._open_gate().leave_thread()

    def __enter__(self) -> VLC:
        self.enter()
        return self

    def __exit__(self, *exc: object) -> None:
        self.leave()

    # -- lifetime ------------------------------------------------------------------------------
    def close(self) -> None:
        """Unload the context's libraries and free its namespace. Raises VLCBusyError while a
        thread is inside; later use of the context, its libraries or functions raises
        VLCClosedError. Idempotent."""
        if self._gate is None or self._gate.closed:
            return
        self._gate.destroy()

    def __del__(self) -> None:
        try:
            if self._gate is not None and not self._gate.closed:
                self._gate.destroy()
        except Exception:
            pass

    def _open_gate(self) -> Gate:
        if self._gate is None:
            raise errors.VLCClosedError(f"context {self.name} was not created")
        self._gate.check_open()
        return self._gate

    def __repr__(self) -> str:
        if self.closed:
            return f"<VLC {self.name} closed>"
        kind = f"lmid {self.lmid}" if self.isolation == "namespace" else self.isolation
        return f"<VLC {self.name} {kind} cpus {format_cpulist(self.cpus)} libs {list(self._libs)}>"
