"""Exceptions raised by VLCs. All derive from :class:`VLCError` (a ``RuntimeError``)."""
from __future__ import annotations


class VLCError(RuntimeError):
    """Any failure of a virtual library context."""


class VLCLibraryNotFound(VLCError, OSError):
    """A library could not be found or loaded into the context."""


class VLCSymbolNotFound(VLCError, AttributeError):
    """The library has no such symbol (also an AttributeError, as with ctypes)."""


class VLCCpuError(VLCError, ValueError):
    """A CPU list is malformed, empty, or names a CPU outside this process's allowed set."""


class VLCLimitError(VLCError):
    """No linker namespace is left for a new context; the message names the limit and the fix."""


class VLCClosedError(VLCError):
    """The context (or a library or function of it) was used after close()."""


class VLCBusyError(VLCError):
    """close() while threads are inside the context or calls into it are in flight."""
