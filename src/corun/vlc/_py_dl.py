"""Thin ctypes bindings to the dynamic linker and memory-protection calls used by the routed and
isolated forms of Python VLCs (dlmopen, dlinfo, dladdr, mmap, mprotect).

Nothing here knows about contexts; every function is a direct, checked wrapper of one libc call.
"""
from __future__ import annotations

import ctypes
import os
from functools import lru_cache

RTLD_LAZY = 0x00001
RTLD_NOW = 0x00002
RTLD_NOLOAD = 0x00004
RTLD_LOCAL = 0
RTLD_DI_LMID = 1
RTLD_DI_LINKMAP = 2
LM_ID_NEWLM = -1

PROT_READ, PROT_WRITE, PROT_EXEC = 1, 2, 4
MAP_PRIVATE, MAP_ANONYMOUS = 0x02, 0x20
MAP_FAILED = ctypes.c_void_p(-1).value
PAGE = os.sysconf("SC_PAGE_SIZE")

_libc = ctypes.CDLL(None, use_errno=True)


class DlError(OSError):
    """A dynamic-linker call failed; the message is dlerror()'s."""


class _DlInfo(ctypes.Structure):
    _fields_ = [("dli_fname", ctypes.c_char_p), ("dli_fbase", ctypes.c_void_p),
                ("dli_sname", ctypes.c_char_p), ("dli_saddr", ctypes.c_void_p)]


class LinkMap(ctypes.Structure):
    """The public head of glibc's struct link_map (<link.h>)."""


LinkMap._fields_ = [("l_addr", ctypes.c_size_t), ("l_name", ctypes.c_char_p),
                    ("l_ld", ctypes.c_void_p), ("l_next", ctypes.POINTER(LinkMap)),
                    ("l_prev", ctypes.POINTER(LinkMap))]

_dlopen = _libc.dlopen
_dlopen.argtypes, _dlopen.restype = [ctypes.c_char_p, ctypes.c_int], ctypes.c_void_p
_dlmopen = _libc.dlmopen
_dlmopen.argtypes, _dlmopen.restype = [ctypes.c_long, ctypes.c_char_p, ctypes.c_int], ctypes.c_void_p
_dlsym = _libc.dlsym
_dlsym.argtypes, _dlsym.restype = [ctypes.c_void_p, ctypes.c_char_p], ctypes.c_void_p
_dlclose = _libc.dlclose
_dlclose.argtypes, _dlclose.restype = [ctypes.c_void_p], ctypes.c_int
_dlerror = _libc.dlerror
_dlerror.argtypes, _dlerror.restype = [], ctypes.c_char_p
_dlinfo = _libc.dlinfo
_dlinfo.argtypes, _dlinfo.restype = [ctypes.c_void_p, ctypes.c_int, ctypes.c_void_p], ctypes.c_int
_dladdr = _libc.dladdr
_dladdr.argtypes, _dladdr.restype = [ctypes.c_void_p, ctypes.POINTER(_DlInfo)], ctypes.c_int
_mmap = _libc.mmap
_mmap.argtypes = [ctypes.c_void_p, ctypes.c_size_t, ctypes.c_int, ctypes.c_int, ctypes.c_int,
                  ctypes.c_long]
_mmap.restype = ctypes.c_void_p
_munmap = _libc.munmap
_munmap.argtypes, _munmap.restype = [ctypes.c_void_p, ctypes.c_size_t], ctypes.c_int
_mprotect = _libc.mprotect
_mprotect.argtypes, _mprotect.restype = [ctypes.c_void_p, ctypes.c_size_t, ctypes.c_int], ctypes.c_int


def _error(what: str) -> DlError:
    msg = _dlerror()
    return DlError(f"{what}: {msg.decode(errors='replace') if msg else 'unknown error'}")


def dlopen_noload(path: str) -> int | None:
    """Handle of an already-loaded object in the base namespace, or None (takes a reference)."""
    return _dlopen(os.fsencode(path), RTLD_NOW | RTLD_NOLOAD) or None


def dlmopen(lmid: int, path: str, flags: int = RTLD_NOW | RTLD_LOCAL) -> int:
    handle = _dlmopen(lmid, os.fsencode(path), flags)
    if not handle:
        raise _error(f"dlmopen({path})")
    return handle


def dlsym(handle: int, name: str) -> int | None:
    return _dlsym(handle, name.encode()) or None


def dlclose(handle: int) -> None:
    if _dlclose(handle) != 0:
        raise _error("dlclose")


def link_map(handle: int) -> LinkMap:
    lm = ctypes.POINTER(LinkMap)()
    if _dlinfo(handle, RTLD_DI_LINKMAP, ctypes.byref(lm)) != 0:
        raise _error("dlinfo(RTLD_DI_LINKMAP)")
    return lm.contents


def namespace_of(handle: int) -> int:
    lmid = ctypes.c_long()
    if _dlinfo(handle, RTLD_DI_LMID, ctypes.byref(lmid)) != 0:
        raise _error("dlinfo(RTLD_DI_LMID)")
    return lmid.value


def object_of(address: int) -> tuple[str, int] | None:
    """(path, load base) of the loaded object containing address, or None."""
    info = _DlInfo()
    if not _dladdr(address, ctypes.byref(info)) or not info.dli_fname:
        return None
    return os.fsdecode(info.dli_fname), info.dli_fbase or 0


@lru_cache(maxsize=4096)
def realpath(path: str) -> str:
    return os.path.realpath(path)


def mmap_anonymous(size: int, prot: int = PROT_READ | PROT_WRITE) -> int:
    addr = _mmap(None, size, prot, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0)
    if addr in (None, MAP_FAILED):
        err = ctypes.get_errno()
        raise OSError(err, f"mmap({size}): {os.strerror(err)}")
    return addr


def munmap(addr: int, size: int) -> None:
    _munmap(addr, size)


def mprotect(addr: int, size: int, prot: int) -> None:
    start = addr & ~(PAGE - 1)
    end = (addr + size + PAGE - 1) & ~(PAGE - 1)
    if _mprotect(start, end - start, prot) != 0:
        err = ctypes.get_errno()
        raise OSError(err, f"mprotect({start:#x}, {end - start}): {os.strerror(err)}")
