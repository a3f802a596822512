"""ctypes view of the control functions libcorun.so exports for the launcher and observers.

These never run on a scheduling path: they create/validate an instance's shared segment, reap
the state of dead processes, and take snapshots for ``corun status``.
"""
from __future__ import annotations

import ctypes
import functools

from corun._native import library


class InstanceError(RuntimeError):
    """The instance's shared segment cannot be used (foreign owner, other layout, corrupt)."""


@functools.lru_cache(maxsize=1)
def lib() -> ctypes.CDLL:
    so = ctypes.CDLL(str(library("libcorun.so")))
    so.corun_instance_prepare.argtypes = [ctypes.c_char_p, ctypes.c_char_p, ctypes.c_char_p, ctypes.c_size_t]
    so.corun_instance_prepare.restype = ctypes.c_int
    so.corun_instance_cleanup.argtypes = [ctypes.c_char_p]
    so.corun_instance_cleanup.restype = ctypes.c_int
    so.corun_instance_snapshot.argtypes = [ctypes.c_char_p, ctypes.c_char_p, ctypes.c_size_t]
    so.corun_instance_snapshot.restype = ctypes.c_int
    return so


def prepare(instance: str, cpus: str) -> None:
    """Create the instance (or check the existing one fits): raises InstanceError with one line."""
    err = ctypes.create_string_buffer(512)
    if lib().corun_instance_prepare(instance.encode(), cpus.encode(), err, len(err)) != 0:
        raise InstanceError(err.value.decode(errors="replace"))


def cleanup(instance: str) -> int:
    """Reap dead processes; remove the segment if no live process remains. Returns live count."""
    return lib().corun_instance_cleanup(instance.encode())


def snapshot(instance: str) -> str:
    """JSON text describing the instance's cores, processes and threads (see corun.sched.status)."""
    size = 1 << 16
    while True:
        buf = ctypes.create_string_buffer(size)
        n = lib().corun_instance_snapshot(instance.encode(), buf, size)
        if n < 0:
            raise InstanceError(buf.value.decode(errors="replace") or f"instance {instance!r} not found")
        if n < size:
            return buf.value.decode()
        size = n + 1
