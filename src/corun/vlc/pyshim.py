"""The libpython shim: lets CPython extension modules loaded into a VLC's linker namespace bind to
the running interpreter.

An extension dlmopen()ed into a new namespace fails with undefined Python C API symbols: the
interpreter lives in the base namespace, which other namespaces cannot see. corun writes, at run
time and without a linker, a shared object that defines every symbol libpython exports as an
absolute (SHN_ABS) symbol whose value is that symbol's address in this process (glibc uses absolute
values as they are). For each extension it then writes a tiny *wrapper* object whose DT_NEEDED
entries are [shim, extension]. Loading the wrapper into the namespace makes the shim part of the
extension's lookup scope (glibc gives a dependency the scope of the object that loaded it), after
the namespace's root, whose CPU virtualization therefore still applies.

Both live in memfd files (no disk litter) for the life of the process; their paths are
``/proc/self/fd/N``. Invariant: the shim's addresses are this process's, so shim files are never
shared between processes (a forked child inherits the same addresses, hence a valid shim).
"""
from __future__ import annotations

import ctypes
import os
import threading

from corun.vlc import _py_dl, _py_elf
from corun.vlc._py_elfwrite import AbsSymbol, shared_object

_lock = threading.Lock()
_shim: str | None = None
_wrappers: dict[str, str] = {}
_fds: list[int] = []


def libpython() -> tuple[str, int]:
    """(path, load base) of the object that holds the Python C API in this process."""
    addr = ctypes.cast(ctypes.pythonapi.Py_IncRef, ctypes.c_void_p).value
    found = _py_dl.object_of(addr)
    if found is None:
        raise RuntimeError("cannot locate the Python C API in this process")
    path, base = found
    if not os.path.isabs(path) or not os.path.exists(path):   # statically linked interpreter
        path = os.path.realpath("/proc/self/exe")
    return path, base


def shim_symbols() -> list[AbsSymbol]:
    """Every exported libpython symbol (functions and data) with its address in this process."""
    path, base = libpython()
    out = []
    handle = ctypes.pythonapi._handle
    for e in _py_elf.exports(path):
        if e.kind in ("STT_FUNC", "STT_OBJECT", "STT_NOTYPE"):
            out.append(AbsSymbol(e.name, base + e.value, e.kind, e.size, e.bind))
        elif e.kind == "STT_GNU_IFUNC":
            addr = _py_dl.dlsym(handle, e.name)
            if addr:
                out.append(AbsSymbol(e.name, addr, "STT_FUNC", e.size, e.bind))
    return out


def _memfd(name: str, data: bytes) -> str:
    fd = os.memfd_create(name, os.MFD_CLOEXEC)
    os.write(fd, data)
    _fds.append(fd)
    return f"/proc/self/fd/{fd}"


def shim_path() -> str:
    """Path of this process's libpython shim (written on first use)."""
    global _shim
    with _lock:
        if _shim is None:
            _shim = _memfd("corun-libpython-shim", shared_object(shim_symbols(), soname="corun-libpython-shim.so"))
        return _shim


def wrapper_path(extension: str) -> str:
    """Path of the wrapper that loads `extension` with the shim in its lookup scope."""
    extension = os.path.realpath(extension)
    shim = shim_path()
    with _lock:
        w = _wrappers.get(extension)
        if w is None:
            w = _wrappers[extension] = _memfd("corun-ext-wrapper", shared_object([], [shim, extension]))
        return w
