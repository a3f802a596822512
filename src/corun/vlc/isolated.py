"""Isolated Python VLCs (the VLC paper's PyVLC form): a separate instance of a package, with its own
native libraries, inside a context.

    from corun import VLC
    from corun.vlc import isolated
    isolated.enable()
    a = VLC(cpus="0")
    with a:
        import numpy as np_a           # a's own numpy: own module state, own OpenBLAS in a's namespace
    np_b = isolated.import_module(VLC(cpus="1"), "numpy")   # also: ctx.import_module("numpy")

Which modules are isolated: every module whose top-level package is not shared. Shared: the
standard library, built-in modules, corun itself and the exempt list (``DEFAULT_SHARED`` plus
``enable(shared=...)`` / :func:`share`). A shared module is the one base instance for everyone.

How (see docs/vlc-python.md for the full design):

* Each context has a *space*: ``{module name: module}`` of its instances.
* Extension modules of a space are loaded into the context's linker namespace through the libpython
  shim (pyshim.py) and initialised by corun (_py_extload.py). Pure-Python modules are simply
  executed again, which gives fresh module objects.
* Once a package has an instance in some context, its ``sys.modules`` entries are forwarding
  modules (_py_forward.py) that resolve, per thread, to the instance of the context the thread is
  in (or importing for), else to the base instance.
* An import that needs loading runs inside an *import frame* for one space: under one re-entrant
  lock, the space's own modules are put into ``sys.modules`` for the affected top-level packages,
  CPython's import machinery runs unchanged (finding parents, submodules, circular imports), and
  at the end whatever it added is recorded in the space and the entries become forwarders again.
  Which space an import belongs to: the space of the importing module (from its globals), else
  the context the thread is in, else the base.
* ``builtins.__import__`` is wrapped (the paper does the same) so that ``import`` statements,
  including those in C (``PyImport_Import``), take the fast path through the right space; imports
  that bypass it (``importlib.import_module``) are caught by a meta-path finder.

Limits: an instance's objects must be used from threads inside its context (or by its own code):
C code of an instance that looks a module up by name from a thread in another context gets that
context's module. Arrays move between instances by the buffer protocol / ``__array_interface__``
(no copy); operations that need one instance's types on another's objects fail with an error.
"""
from __future__ import annotations

import builtins
import importlib.abc
import importlib.machinery
import importlib.util
import sys
import threading
import weakref
from collections.abc import Iterable
from types import ModuleType
from typing import Any

from corun.vlc import _py_forward, pyshim
from corun.vlc._py_extload import NamespaceExtensionLoader
from corun.vlc._py_forward import ForwardingModule, is_forwarder
from corun.vlc._py_nsthread import prepare_thread
from corun.vlc._py_warm import WARMERS, warm

__all__ = ["enable", "disable", "enabled", "share", "shared", "import_module", "space_of", "modules",
           "DEFAULT_SHARED", "CrossContextError"]

DEFAULT_SHARED: tuple[str, ...] = (
    "corun", "pytest", "_pytest", "pluggy", "iniconfig", "py", "_distutils_hack", "setuptools",
    "pkg_resources", "pip", "typing_extensions", "elftools", "threadpoolctl", "hypothesis",
    "sortedcontainers", "exceptiongroup", "packaging", "tomli",
)


class CrossContextError(ImportError):
    """An import would mix two contexts' instances (for example, started for one context while
    another context's import is in progress on the same thread)."""


class Space:
    """One context's instances of isolated modules."""

    def __init__(self, vlc: Any) -> None:
        self.vlc = weakref.ref(vlc)
        self.name = str(getattr(vlc, "name", f"vlc@{id(vlc):#x}"))
        self.lmid = int(vlc.lmid)
        self.modules: dict[str, ModuleType] = {}

    def __repr__(self) -> str:
        return f"<isolated space of {self.name}: {len(self.modules)} modules>"


class _Frame:
    __slots__ = ("space", "tops")

    def __init__(self, space: Space | None) -> None:
        self.space = space
        self.tops: set[str] = set()


_lock = threading.RLock()
_tls = threading.local()
_enabled = False
_orig_import = builtins.__import__
_shared: set[str] = set(DEFAULT_SHARED)
_stdlib: frozenset[str] = frozenset(sys.stdlib_module_names) | frozenset(sys.builtin_module_names)
_spaces: "weakref.WeakKeyDictionary[Any, Space]" = weakref.WeakKeyDictionary()
_base: dict[str, ModuleType] = {}              # base instances of modules of forwarded packages
_forwarded: set[str] = set()                   # top-level packages whose entries are forwarders
_names: dict[str, set[str]] = {}               # forwarded top -> every module name known under it
_forwarders: dict[str, ForwardingModule] = {}


# ----------------------------------------------------------------------------- configuration
def enable(shared: Iterable[str] = ()) -> None:
    """Install the import hooks: from now on ``with vlc: import pkg`` imports into vlc. Idempotent.
    ``shared``: more top-level packages to share instead of isolating."""
    global _enabled
    share(*shared)
    with _lock:
        if _enabled:
            return
        from corun.vlc.context import VLC
        from corun.vlc.gate import add_thread_hook
        _py_forward.set_resolver(_resolve)
        builtins.__import__ = _import
        sys.meta_path.insert(0, _Finder())
        add_thread_hook(_thread_hook)
        if not hasattr(VLC, "import_module"):
            VLC.import_module = _vlc_import_module    # type: ignore[attr-defined]
        pyshim.shim_path()                            # written now: imports into contexts stay fast
        _enabled = True


def disable() -> None:
    """Remove the hooks (instances stay alive; forwarders keep resolving). For tests."""
    global _enabled
    with _lock:
        if not _enabled:
            return
        from corun.vlc.gate import remove_thread_hook
        if builtins.__import__ is _import:
            builtins.__import__ = _orig_import
        sys.meta_path[:] = [f for f in sys.meta_path if not isinstance(f, _Finder)]
        try:
            remove_thread_hook(_thread_hook)
        except ValueError:
            pass
        _enabled = False


def enabled() -> bool:
    return _enabled


def share(*names: str) -> None:
    """Share these top-level packages between all contexts (must happen before they are isolated)."""
    for n in names:
        top = n.partition(".")[0]
        if top in _forwarded:
            raise ValueError(f"{top} already has isolated instances; share it before importing it in a context")
        _shared.add(top)


def shared(top: str) -> bool:
    return top in _shared or top in _stdlib or top.startswith("_frozen") or top == "__main__"


# ----------------------------------------------------------------------------- spaces
def space_of(vlc: Any) -> Space | None:
    """The space of a context (None for a service context, which has no namespace of its own)."""
    if getattr(vlc, "service", False) or not vlc.lmid:
        return None
    with _lock:
        sp = _spaces.get(vlc)
        if sp is None:
            sp = _spaces[vlc] = Space(vlc)
        return sp


def modules(vlc: Any) -> dict[str, ModuleType]:
    """The context's instances, by module name (a copy)."""
    sp = space_of(vlc)
    return dict(sp.modules) if sp else {}


def import_module(vlc: Any, name: str) -> ModuleType:
    """Import `name` into the context (like ``with vlc: import name``) and return the instance."""
    enable()
    sp = space_of(vlc)
    vlc.enter()
    if sp is not None:
        prepare_thread(sp.lmid)
    try:
        if sp is None:
            return importlib.import_module(name)
        _do_import(sp, name, None, None, ("__name__",), 0, name)
        return sp.modules[name]
    finally:
        vlc.leave()


def _vlc_import_module(self: Any, name: str) -> ModuleType:
    """Import a module into this context and return this context's instance of it."""
    return import_module(self, name)


def _thread_hook(vlc: Any, entering: bool) -> None:
    stack = _stack()
    if entering:
        sp = space_of(vlc)
        if sp is not None:
            prepare_thread(sp.lmid)
        stack.append(sp)
    elif stack:
        stack.pop()


def _stack() -> list[Space | None]:
    st = getattr(_tls, "stack", None)
    if st is None:
        st = _tls.stack = []
    return st


def _frame() -> _Frame | None:
    return getattr(_tls, "frame", None)


def _thread_space() -> Space | None:
    frame = _frame()
    if frame is not None:
        return frame.space
    st = getattr(_tls, "stack", None)
    return st[-1] if st else None


def _top(name: str) -> str:
    return name.partition(".")[0]


def _mods(space: Space | None) -> dict[str, ModuleType]:
    return space.modules if space is not None else _base


# ----------------------------------------------------------------------------- resolving
def _resolve(name: str) -> ModuleType:
    """Forwarders' target for the calling thread; imports the module there when missing.

    ``PyImport_Import`` (C) calls ``__import__`` and then reads ``sys.modules`` — a forwarder — and
    its caller looks attributes up on it. The space ``__import__`` chose for that name (from the
    importing code's globals) is left as a one-shot hint, so the lookup that follows agrees."""
    hint = getattr(_tls, "hint", None)
    if hint is not None and hint[0] == name:
        _tls.hint = None
        space = hint[1]
    else:
        space = _thread_space()
    m = _mods(space).get(name)
    if m is None:
        _do_import(space, name, None, None, ("__name__",), 0, name)
        m = _mods(space).get(name)
        if m is None:
            raise ModuleNotFoundError(f"No module named {name!r} in {space.name if space else 'the base'}",
                                      name=name)
    return m


def _space_of_globals(globals: dict | None) -> tuple[bool, Space | None]:
    """(known, space) of the module whose globals these are."""
    if not globals:
        return False, None
    name = globals.get("__name__")
    if not isinstance(name, str) or _top(name) not in _forwarded:
        return False, None
    for sp in list(_spaces.values()):
        m = sp.modules.get(name)
        if m is not None and m.__dict__ is globals:
            return True, sp
    m = _base.get(name)
    if m is not None and m.__dict__ is globals:
        return True, None
    return False, None


def _import(name: str, globals: dict | None = None, locals: Any = None, fromlist: Any = (), level: int = 0):
    """builtins.__import__: route imports of isolated packages to the right space."""
    if level:
        package = _calc_package(globals)
        if package is None:
            return _orig_import(name, globals, locals, fromlist, level)
        absname = importlib.util.resolve_name("." * level + name, package) if name else \
            importlib.util.resolve_name("." * level, package)
    else:
        absname = name
    top = _top(absname)
    if shared(top):
        return _orig_import(name, globals, locals, fromlist, level)
    frame = _frame()
    if frame is not None:
        space = frame.space
    else:
        known, space = _space_of_globals(globals)
        if not known:
            space = _thread_space()
        if space is None and top not in _forwarded:
            return _orig_import(name, globals, locals, fromlist, level)   # untouched base package
        _tls.hint = (absname, space)
        mods = _mods(space)
        m = mods.get(absname)
        if m is not None:
            if fromlist:
                if "*" not in fromlist and all(isinstance(x, str) and hasattr(m, x) for x in fromlist):
                    return m
            elif level == 0 and top in mods:
                return mods[top]
    return _do_import(space, name, globals, locals, fromlist, level, absname)


def _calc_package(globals: dict | None) -> str | None:
    if not globals:
        return None
    pkg = globals.get("__package__")
    if pkg:
        return pkg
    spec = globals.get("__spec__")
    if spec is not None:
        return spec.parent
    name = globals.get("__name__")
    if not isinstance(name, str):
        return None
    return name if "__path__" in globals else name.rpartition(".")[0]


def _do_import(space: Space | None, name: str, globals, locals, fromlist, level: int, absname: str):
    result = _in_frame(space, _top(absname), lambda: _orig_import(name, globals, locals, fromlist, level))
    if is_forwarder(result):
        result = _mods(space).get(result._corun_forward, result)  # type: ignore[attr-defined]
    return result


def _in_frame(space: Space | None, top: str, fn, loading: str | None = None):
    """Run fn inside an import frame for space with package `top` swapped in. `loading`: name of a
    module being loaded right now (it belongs to space, not to the base)."""
    with _lock:
        frame = _frame()
        outer = frame is None
        if outer:
            _warm_base_before_isolating(top)
            frame = _tls.frame = _Frame(space)
        elif frame.space is not space:
            raise CrossContextError(
                f"import in {top!r} for {space.name if space else 'the base'} while an import for "
                f"{frame.space.name if frame.space else 'the base'} is in progress on this thread")
        try:
            mine = sys.modules.pop(loading, None) if loading else None
            try:
                _enter_top(frame, top)
            finally:
                if mine is not None:
                    sys.modules[loading] = mine
            return fn()
        finally:
            if outer:
                _tls.frame = None
                _close_frame(frame)
                _warm_after(frame)


_warmed: set[tuple[int, str]] = set()


def _warm_base_before_isolating(top: str) -> None:
    """Fill the base instance's lazy caches before `top` is first isolated (see _py_warm.py)."""
    m = sys.modules.get(top)
    if top in WARMERS and top not in _forwarded and m is not None and not is_forwarder(m) \
            and (0, top) not in _warmed:
        _warmed.add((0, top))
        _in_frame(None, top, lambda: warm(top, m))


def _warm_after(frame: _Frame) -> None:
    mods = _mods(frame.space)
    for top in list(frame.tops):
        key = (id(frame.space) if frame.space else 0, top)
        if top in WARMERS and key not in _warmed and top in mods:
            _warmed.add(key)
            _in_frame(frame.space, top, lambda: warm(top, mods[top]))


def _under(top: str) -> list[str]:
    dot = top + "."
    return [k for k in list(sys.modules) if k == top or k.startswith(dot)]


def _enter_top(frame: _Frame, top: str) -> None:
    """Put the frame's space's modules of package `top` into sys.modules (caller holds _lock)."""
    if top in frame.tops or shared(top):
        return
    frame.tops.add(top)
    names = _names.setdefault(top, set())
    if top not in _forwarded:
        # First isolation of this package: what sys.modules holds now is the base instance.
        for k in _under(top):
            m = sys.modules[k]
            if not is_forwarder(m):
                _base[k] = m
                names.add(k)
        _forwarded.add(top)
    for k in _under(top):          # forwarders, and on first isolation the base's real modules
        del sys.modules[k]
    for k, m in _mods(frame.space).items():
        if _top(k) == top and k not in sys.modules:
            sys.modules[k] = m


def _close_frame(frame: _Frame) -> None:
    """Record what the import added to the space and restore forwarders (caller holds _lock)."""
    mods = _mods(frame.space)
    for top in frame.tops:
        names = _names.setdefault(top, set())
        present = set()
        for k in _under(top):
            m = sys.modules[k]
            if not is_forwarder(m):
                mods[k] = m
                names.add(k)
                present.add(k)
        for k in [k for k in mods if _top(k) == top and k not in present]:
            del mods[k]                              # removed during the import (failed, or deleted)
        for k in names:
            fw = _forwarders.get(k)
            if fw is None:
                fw = _forwarders[k] = ForwardingModule(k)
            sys.modules[k] = fw


# ----------------------------------------------------------------------------- finder and loaders
def _find_plain(fullname: str, path, target) -> Any:
    for finder in sys.meta_path:
        if isinstance(finder, _Finder) or type(finder).__name__ == "_PatchOnImport":
            continue
        find = getattr(finder, "find_spec", None)
        if find is None:
            continue
        spec = find(fullname, path, target)
        if spec is not None:
            return spec
    return None


class _Finder(importlib.abc.MetaPathFinder):
    """Gives extension modules of a space the namespace loader, and frames imports that reach
    the import system without going through builtins.__import__ (importlib.import_module)."""

    def find_spec(self, fullname: str, path, target=None):
        top = _top(fullname)
        if shared(top):
            return None
        frame = _frame()
        if frame is not None:
            with _lock:
                _enter_top(frame, top)
            if frame.space is None:
                return None
            spec = _find_plain(fullname, path, target)
            if spec is not None and isinstance(spec.loader, importlib.machinery.ExtensionFileLoader):
                spec.loader = NamespaceExtensionLoader(fullname, spec.origin, frame.space.lmid)
            return spec
        space = _thread_space()
        if space is None and top not in _forwarded:
            return None
        spec = _find_plain(fullname, path, target)
        if spec is None or spec.loader is None:
            return spec
        if space is not None and isinstance(spec.loader, importlib.machinery.ExtensionFileLoader):
            spec.loader = NamespaceExtensionLoader(fullname, spec.origin, space.lmid)
        spec.loader = _FramingLoader(spec.loader, space)
        return spec


class _FramingLoader(importlib.abc.Loader):
    """Runs a module's code inside an import frame for its space (for imports that started
    outside builtins.__import__)."""

    def __init__(self, inner: Any, space: Space | None) -> None:
        self._inner = inner
        self._space = space

    def create_module(self, spec):
        return self._inner.create_module(spec)

    def exec_module(self, module: ModuleType) -> None:
        name = module.__name__
        _in_frame(self._space, _top(name), lambda: self._inner.exec_module(module), loading=name)

    def __getattr__(self, name: str):
        return getattr(self._inner, name)
