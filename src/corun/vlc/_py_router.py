"""The routing engine behind routed Python VLCs (see routed.py for the user-facing side).

State, all guarded by one lock and changed only by scan(), sync() and drop():

* symbols: every (routed library, symbol name) pair that some patched GOT slot calls gets a global
  index; ``originals[index]`` is the address the dynamic linker had bound (the base instance).
* trampolines: one per index (``_py_trampoline``), jumping through the calling thread's routing
  table or, outside any context, to ``originals[index]``.
* patched objects: extension modules whose GOT slots bound to a routed library now hold the
  trampoline addresses; the original values are kept for unpatch().
* routes: one per context that has been entered: its own instances of the routed libraries and a
  table (an mmap'ed array of code addresses, capacity fixed at creation so it never moves).

Invariant: a trampoline for index i is stored into a GOT slot only after every live route's table
holds a valid address at i (the context's instance symbol, or the original when the instance lacks
it). So a thread that is inside a context always finds a usable address, whatever it calls.
"""
from __future__ import annotations

import ctypes
import os
import sys
import sysconfig
import threading
import weakref
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from typing import Any

from corun.vlc import _py_dl, _py_got
from corun.vlc._py_forward import is_forwarder
from corun.vlc._py_trampoline import RouteTLS, TrampolinePool

# Basename prefixes of the libraries whose calls are routed (parallel runtimes bundled by wheels).
DEFAULT_LIBRARIES: tuple[str, ...] = ("libscipy_openblas", "libopenblas", "libblis", "libgomp", "libomp")
TABLE_CAPACITY = 1 << 16           # entries per routing table (512 KiB of address space, lazily backed)
_DYNLOAD = os.path.join(sysconfig.get_path("platstdlib"), "lib-dynload") + os.sep

# A context's instance of a library: given the base library's real path, return a function that
# maps a symbol name to that instance's address (None if the instance lacks it).
InstanceLoader = Callable[[str], "Instance"]


@dataclass
class _Patched:
    obj: _py_got.LoadedObject
    saved: list[tuple[int, int]]       # (slot address, original value)


@dataclass
class Route:
    """One context's routing table and its instances of the routed libraries."""
    name: str
    load: InstanceLoader
    alive: Callable[[], bool]                        # False once the context is closed
    table: int                                       # address of TABLE_CAPACITY c_void_p entries
    filled: int = 0                                  # indices [0, filled) hold valid addresses
    instances: dict[str, Instance] = field(default_factory=dict)
    closed: bool = False
    # Called with no argument on a thread that leaves the context (outermost entry); filled by
    # routed.py for instances that keep per-thread state (libgomp's per-master thread pool).
    # (number of instances when computed, hooks)
    on_leave: tuple[int, list[Callable[[], Any]]] = (-1, [])

    def entry(self, index: int) -> int:
        return ctypes.c_void_p.from_address(self.table + 8 * index).value or 0


class Router:
    def __init__(self, libraries: Iterable[str] = DEFAULT_LIBRARIES) -> None:
        self.libraries = tuple(libraries)
        self.tls = RouteTLS()
        self.pool = TrampolinePool(self.tls.tpoff)
        self._lock = threading.RLock()
        self._index: dict[tuple[str, str], int] = {}
        self._names: list[tuple[str, str]] = []       # index -> (library path, symbol)
        self._originals: list[int] = []
        self._trampolines: list[int] = []
        self._patched: dict[str, _Patched] = {}
        self._examined: set[str] = set()
        self._routes: dict[int, Route] = {}
        self._seen_modules = -1
        self._owner_cache: dict[int, str | None] = {}

    # ----------------------------------------------------------------- discovery and patching
    def routed_library(self, path: str) -> bool:
        base = os.path.basename(path)
        return any(base.startswith(p) for p in self.libraries)

    def _owner(self, address: int) -> str | None:
        """Real path of the routed library that contains address, else None."""
        if address not in self._owner_cache:
            found = _py_dl.object_of(address)
            path = _py_dl.realpath(found[0]) if found else None
            self._owner_cache[address] = path if path and self.routed_library(path) else None
        return self._owner_cache[address]

    def maybe_scan(self) -> None:
        """Scan when the set of imported modules changed since the last scan (cheap otherwise)."""
        if len(sys.modules) != self._seen_modules:
            self.scan()

    def scan(self, paths: Iterable[str] | None = None) -> int:
        """Patch every loaded extension module (or the given objects) that calls a routed library.
        Returns the number of slots newly routed."""
        with self._lock:
            self._seen_modules = len(sys.modules)
            if paths is None:
                paths = [f for m in list(sys.modules.values()) if not is_forwarder(m)
                         and isinstance(f := getattr(m, "__file__", None), str) and f.endswith(".so")]
            plan: list[tuple[_py_got.LoadedObject, list[tuple[int, int, int]]]] = []
            for path in paths:
                real = _py_dl.realpath(path)
                if real in self._examined or real.startswith(_DYNLOAD):
                    continue
                obj = _py_got.loaded_object(real)     # None: not loaded in the base namespace (yet)
                if obj is None:
                    continue
                self._examined.add(real)
                if not any(self.routed_library(n) for n in obj.needed):
                    continue
                todo = []
                for slot in _py_got.slots(obj):
                    lib = self._owner(slot.value) if slot.value else None
                    if lib is not None:
                        todo.append((slot.address, slot.value, self._symbol_index(lib, slot.name, slot.value)))
                if todo:
                    plan.append((obj, todo))
            if not plan:
                return 0
            self.pool.seal()
            for route in self._routes.values():
                self._sync_locked(route)
            count = 0
            for obj, todo in plan:
                saved = [(addr, value) for addr, value, _ in todo]
                _py_got.write(obj, [(addr, self._trampolines[i]) for addr, _, i in todo])
                self._patched[obj.path] = _Patched(obj, saved)
                count += len(todo)
            return count

    def _symbol_index(self, lib: str, name: str, original: int) -> int:
        key = (lib, name)
        index = self._index.get(key)
        if index is None:
            index = len(self._names)
            if index >= TABLE_CAPACITY:
                raise RuntimeError(f"corun routing: more than {TABLE_CAPACITY} routed symbols")
            self._index[key] = index
            self._names.append(key)
            self._originals.append(original)
            self._trampolines.append(self.pool.add(index, original))
        return index

    def unpatch_all(self) -> None:
        """Put every patched GOT slot back to its original value (trampolines stay mapped)."""
        with self._lock:
            for p in self._patched.values():
                _py_got.write(p.obj, p.saved)
            self._patched.clear()
            self._examined.clear()
            self._seen_modules = -1

    # ----------------------------------------------------------------- per-context routes
    def route(self, key: object, name: str, load: InstanceLoader,
              alive: Callable[[], bool] = lambda: True,
              on_create: Callable[[Route], None] | None = None) -> Route:
        """The route of the context identified by key, created (and synced) on first use.
        ``on_create(route)`` runs once, after the table exists and before any instance is loaded."""
        with self._lock:
            r = self._routes.get(id(key))
            if r is None:
                table = _py_dl.mmap_anonymous(TABLE_CAPACITY * 8)
                r = self._routes[id(key)] = Route(name, load, alive, table)
                weakref.finalize(key, self._forget, id(key))
                if on_create is not None:
                    on_create(r)
            self._sync_locked(r)
            return r

    def _sync_locked(self, r: Route) -> None:
        """Load missing instances and fill the table up to the current number of symbols."""
        if r.closed or r.filled == len(self._names) or not r.alive():
            return
        for index in range(r.filled, len(self._names)):
            lib, sym = self._names[index]
            inst = r.instances.get(lib)
            if inst is None:
                inst = r.instances[lib] = r.load(lib)
            addr = inst(sym) or self._originals[index]
            ctypes.c_void_p.from_address(r.table + 8 * index).value = addr
        r.filled = len(self._names)

    def drop(self, key: object) -> None:
        """Forget a context's route (before the context closes its instances). Threads must have
        left the context; a later enter() recreates the route."""
        self._forget(id(key))

    def _forget(self, ident: int) -> None:
        with self._lock:
            r = self._routes.pop(ident, None)
        if r is not None:
            r.closed = True
            r.instances.clear()
            # The table stays mapped: a thread that still holds it keeps reading valid memory.

    def routes(self) -> list[Route]:
        """Routes of contexts that are still open."""
        with self._lock:
            return [r for r in self._routes.values() if not r.closed and r.alive()]

    def find_route(self, key: object) -> Route | None:
        return self._routes.get(id(key))

    # ----------------------------------------------------------------- threads
    def enter(self, route: Route) -> int:
        """Make the calling thread's routed calls go to route; returns the previous table."""
        return self.tls.swap(route.table) or 0

    def leave(self, previous: int) -> None:
        self.tls.swap(previous or None)

    def current_table(self) -> int:
        return self.tls.current() or 0

    def current_route(self) -> Route | None:
        table = self.current_table()
        if not table:
            return None
        with self._lock:
            return next((r for r in self._routes.values() if r.table == table), None)

    # ----------------------------------------------------------------- introspection
    def symbols(self) -> list[tuple[str, str]]:
        return list(self._names)

    def patched_modules(self) -> list[str]:
        return sorted(self._patched)

    def original(self, lib: str, name: str) -> int | None:
        i = self._index.get((lib, name))
        return None if i is None else self._originals[i]

    def routed_libraries(self) -> list[str]:
        return sorted({lib for lib, _ in self._names})


class Instance:
    """A library instance by its dlopen/dlmopen handle; calling it resolves a symbol address."""

    __slots__ = ("handle",)

    def __init__(self, handle: int) -> None:
        self.handle = handle

    def __call__(self, name: str) -> int | None:
        return _py_dl.dlsym(self.handle, name)


def symbol_resolver(handle: int) -> Instance:
    return Instance(handle)


def instance_symbol(instance: Any, name: str) -> int | None:
    """Address of symbol name in a library instance object returned by a context's load()."""
    return _py_dl.dlsym(instance_handle(instance), name)


def instance_handle(instance: Any) -> int:
    for attr in ("handle", "_handle"):
        h = getattr(instance, attr, None)
        if isinstance(h, int) and h:
            return h
    raise TypeError(f"cannot find the dlmopen handle of {instance!r}")
