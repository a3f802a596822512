"""Rewrite GOT slots of loaded shared objects, and put them back.

A slot is one 8-byte, 8-aligned word, so a single store replaces it atomically with respect to
threads calling through it; slots inside PT_GNU_RELRO (full-RELRO objects) are made writable for
the store and read-only again afterwards.
"""
from __future__ import annotations

import ctypes
from dataclasses import dataclass

from corun.vlc import _py_dl, _py_elf


@dataclass(frozen=True)
class LoadedSlot:
    name: str
    address: int          # absolute address of the GOT word
    value: int            # what the dynamic linker stored there
    jump_slot: bool


@dataclass
class LoadedObject:
    path: str
    base: int
    relro: tuple[int, int] | None      # absolute range
    needed: tuple[str, ...]

    def in_relro(self, address: int) -> bool:
        return self.relro is not None and self.relro[0] <= address < self.relro[1]


def loaded_object(path: str) -> LoadedObject | None:
    """The object at path as loaded in the base namespace, or None when it is not loaded."""
    handle = _py_dl.dlopen_noload(path)
    if handle is None:
        return None
    try:
        base = _py_dl.link_map(handle).l_addr
    finally:
        _py_dl.dlclose(handle)
    info = _py_elf.imports(path)
    relro = (base + info.relro[0], base + info.relro[1]) if info.relro else None
    return LoadedObject(path, base, relro, info.needed)


def slots(obj: LoadedObject) -> list[LoadedSlot]:
    """Current contents of the object's import slots."""
    out = []
    for s in _py_elf.imports(obj.path).slots:
        addr = obj.base + s.offset
        out.append(LoadedSlot(s.name, addr, ctypes.c_void_p.from_address(addr).value or 0, s.jump_slot))
    return out


def write(obj: LoadedObject, writes: list[tuple[int, int]]) -> None:
    """Store each (slot address, value); RELRO pages are unprotected only around the stores."""
    protected = sorted({a & ~(_py_dl.PAGE - 1) for a, _ in writes if obj.in_relro(a)})
    for page in protected:
        _py_dl.mprotect(page, _py_dl.PAGE, _py_dl.PROT_READ | _py_dl.PROT_WRITE)
    try:
        for addr, value in writes:
            ctypes.c_void_p.from_address(addr).value = value
    finally:
        for page in protected:
            _py_dl.mprotect(page, _py_dl.PAGE, _py_dl.PROT_READ)
