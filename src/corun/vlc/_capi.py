"""ctypes binding of libcorun_vlc.so (native/include/corun/vlc.h): the one implementation of
contexts, shared by the Python API and C/C++ programs. Private: use :class:`corun.vlc.VLC`."""
from __future__ import annotations

import ctypes
import functools

from corun._native import library
from corun.vlc import errors

EINVAL, ECPU, ELIMIT, ENOTFOUND, ENOSYM, EBUSY, ESTATE, ENOMEM = -1, -2, -3, -4, -5, -6, -7, -8
SERVICE = 1
COPY = 2
NOPIN = 1

_EXC: dict[int, type[errors.VLCError]] = {
    EINVAL: errors.VLCCpuError, ECPU: errors.VLCCpuError, ELIMIT: errors.VLCLimitError,
    ENOTFOUND: errors.VLCLibraryNotFound, ENOSYM: errors.VLCSymbolNotFound, EBUSY: errors.VLCBusyError,
}

_SIGS = {
    "corun_vlc_create": (ctypes.c_void_p, [ctypes.c_uint]),
    "corun_vlc_destroy": (ctypes.c_int, [ctypes.c_void_p]),
    "corun_vlc_set_cpus": (ctypes.c_int, [ctypes.c_void_p, ctypes.c_char_p]),
    "corun_vlc_get_cpumask": (ctypes.c_int, [ctypes.c_void_p, ctypes.c_void_p, ctypes.c_size_t]),
    "corun_vlc_setenv": (ctypes.c_int, [ctypes.c_void_p, ctypes.c_char_p, ctypes.c_char_p]),
    "corun_vlc_unsetenv": (ctypes.c_int, [ctypes.c_void_p, ctypes.c_char_p]),
    "corun_vlc_getenv": (ctypes.c_char_p, [ctypes.c_void_p, ctypes.c_char_p]),
    "corun_vlc_load": (ctypes.c_void_p, [ctypes.c_void_p, ctypes.c_char_p]),
    "corun_vlc_sym": (ctypes.c_void_p, [ctypes.c_void_p, ctypes.c_void_p, ctypes.c_char_p]),
    "corun_vlc_enter_flags": (ctypes.c_int, [ctypes.c_void_p, ctypes.c_uint]),
    "corun_vlc_leave": (ctypes.c_int, []),
    "corun_vlc_current": (ctypes.c_void_p, []),
    "corun_vlc_lmid": (ctypes.c_long, [ctypes.c_void_p]),
    "corun_vlc_threads": (ctypes.c_int, [ctypes.c_void_p, ctypes.POINTER(ctypes.c_int), ctypes.c_int,
                                         ctypes.POINTER(ctypes.c_long)]),
    "corun_vlc_count": (ctypes.c_int, []),
    "corun_vlc_prewarm": (ctypes.c_int, [ctypes.c_int]),
    "corun_vlc_error": (ctypes.c_char_p, []),
}


@functools.cache
def lib() -> ctypes.CDLL:
    """libcorun_vlc.so with typed prototypes (loaded once, into the base namespace)."""
    dll = ctypes.CDLL(str(library("libcorun_vlc.so")))
    for name, (restype, argtypes) in _SIGS.items():
        fn = getattr(dll, name)
        fn.restype, fn.argtypes = restype, argtypes
    return dll


def last_error() -> str:
    msg = lib().corun_vlc_error()
    return msg.decode(errors="replace") if msg else "unknown error"


def check(code: int, what: str = "") -> int:
    """Raise the exception for a negative return code of the C API."""
    if code >= 0:
        return code
    exc = _EXC.get(code, errors.VLCError)
    msg = last_error()
    raise exc(f"{what}: {msg}" if what else msg)


def last_was_limit() -> bool:
    """Whether the calling thread's last failure was the linker-namespace limit."""
    msg = last_error()
    return "no linker namespace left" in msg


def fail(default: type[errors.VLCError], what: str) -> errors.VLCError:
    """Exception for a NULL pointer result; the kind is read from the message of the C API."""
    msg = last_error()
    exc = errors.VLCLimitError if last_was_limit() else default
    return exc(f"{what}: {msg}")
