"""A library loaded into a context: a ``ctypes.CDLL`` whose functions run inside that context.

``VLCLibrary`` is a real ``ctypes.CDLL`` (attribute and item access, ``argtypes``/``restype``/
``errcheck`` on its functions, ``_handle`` is the namespace-local dlopen handle usable with dlsym and
dlinfo), and each function is a real ctypes function pointer (``ctypes.cast`` works, it can be
passed as a callback). Calling one:

* raises :class:`VLCClosedError` once the context is closed (never jumps into unloaded code);
* when the calling thread is not already inside the context, enters it for the duration of the
  call (the thread runs on the context's CPUs, because libraries such as OpenBLAS compute on the
  calling thread) and leaves it afterwards, restoring the thread's affinity.
"""
from __future__ import annotations

import ctypes
from typing import TYPE_CHECKING, Any

from corun.vlc import errors

if TYPE_CHECKING:
    from corun.vlc.context import VLC


class VLCLibrary(ctypes.CDLL):
    def __init__(self, vlc: VLC, name: str, handle: int) -> None:
        super().__init__(name, handle=handle)
        self._vlc = vlc
        base = self._FuncPtr
        gate = vlc._gate

        class _VLCFuncPtr(base):  # type: ignore[valid-type, misc]
            _flags_ = base._flags_
            _restype_ = base._restype_

            def __call__(self, *args: Any) -> Any:
                if gate.inside_here():
                    return super().__call__(*args)
                gate.enter_call()
                try:
                    return super().__call__(*args)
                finally:
                    gate.leave_call()

        self._FuncPtr = _VLCFuncPtr
        self._PlainFuncPtr = base

    @property
    def vlc(self) -> VLC:
        """The context this instance belongs to."""
        return self._vlc

    def __getattr__(self, name: str) -> Any:
        if name.startswith("__") and name.endswith("__"):
            raise AttributeError(name)
        return super().__getattr__(name)

    def __getitem__(self, name_or_ordinal: Any) -> Any:
        self._vlc._gate.check_open()
        try:
            return super().__getitem__(name_or_ordinal)
        except AttributeError as e:
            raise errors.VLCSymbolNotFound(
                f"{self._name}: undefined symbol {name_or_ordinal!r} in context {self._vlc.name}") from e

    def unguarded(self, name: str) -> Any:
        """The plain ctypes function, without the per-call guard (no entering, no use-after-close
        check; saves ~0.7 us per call). Only for hot loops that run inside ``with vlc:`` and end
        before ``close()``."""
        self._vlc._gate.check_open()
        try:
            return self._PlainFuncPtr((name, self))
        except AttributeError as e:
            raise errors.VLCSymbolNotFound(f"{self._name}: undefined symbol {name!r} in context {self._vlc.name}") from e

    def address(self, name: str) -> int:
        """Address of a symbol of this instance (raises VLCSymbolNotFound)."""
        return ctypes.cast(self[name], ctypes.c_void_p).value or 0

    def __repr__(self) -> str:
        return f"<VLCLibrary {self._name!r} in {self._vlc.name}, handle 0x{self._handle:x}>"
