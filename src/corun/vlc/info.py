"""``corun.vlc.info()``: what every live context holds, in the spirit of threadpoolctl's
``threadpool_info()`` (which cannot see other linker namespaces: glibc's dl_iterate_phdr reports
only the caller's)."""
from __future__ import annotations

import ctypes
from typing import Any

from corun.run.cpulist import format_cpulist
from corun.vlc.context import VLC, live_contexts
from corun.vlc.library import VLCLibrary

RTLD_DI_LINKMAP = 2

# (symbol, API name) of thread-count getters of common threaded libraries.
_GETTERS = [
    ("openblas_get_num_threads", "openblas"),
    ("openblas_get_num_threads64_", "openblas"),
    ("scipy_openblas_get_num_threads64_", "openblas"),
    ("scipy_openblas_get_num_threads", "openblas"),
    ("bli_thread_get_num_threads", "blis"),
    ("mkl_get_max_threads", "mkl"),
    ("omp_get_max_threads", "openmp"),
]


class _LinkMap(ctypes.Structure):
    _fields_ = [("l_addr", ctypes.c_void_p), ("l_name", ctypes.c_char_p)]


_libc = ctypes.CDLL(None)
_dlinfo = _libc.dlinfo
_dlinfo.argtypes = [ctypes.c_void_p, ctypes.c_int, ctypes.c_void_p]
_dlinfo.restype = ctypes.c_int


def library_path(lib: VLCLibrary) -> str:
    """Absolute path the dynamic linker loaded the instance from."""
    lm = ctypes.POINTER(_LinkMap)()
    if _dlinfo(lib._handle, RTLD_DI_LINKMAP, ctypes.byref(lm)) != 0 or not lm:
        return lib._name
    return (lm.contents.l_name or b"").decode(errors="replace") or lib._name


def library_info(lib: VLCLibrary) -> dict[str, Any]:
    out: dict[str, Any] = {"name": lib._name, "path": library_path(lib), "handle": lib._handle}
    for sym, api in _GETTERS:
        try:
            fn = lib[sym]
        except AttributeError:
            continue
        fn.restype, fn.argtypes = ctypes.c_int, []
        out["user_api"], out["num_threads"] = api, int(fn())
        break
    return out


def context_info(v: VLC) -> dict[str, Any]:
    tids, started = v.threads()
    return {
        "name": v.name, "lmid": v.lmid, "service": v.service, "cpus": format_cpulist(v.cpus),
        "num_cpus": len(v.cpus), "threads_alive": len(tids), "threads_started": started,
        "libraries": [library_info(lib) for lib in v.libraries.values()],
    }


def info() -> list[dict[str, Any]]:
    """One dict per live context: name, lmid, cpus, live/started threads of its libraries, and per
    library its path and, where the library has a known getter, its thread-pool size."""
    return [context_info(v) for v in live_contexts()]
