"""Call trampolines generated at run time into executable pages (no compiler, no assembler).

Trampoline number ``index`` is 64 bytes of x86-64 code and data::

    mov  r11, qword fs:[TPOFF]     64 4c 8b 1c 25 <tpoff:i32>     ; this thread's routing table
    test r11, r11                  4d 85 db
    jz   .original                 74 07
    jmp  qword [r11 + 8*index]     41 ff a3 <8*index:i32>          ; the context's address
  .original:
    jmp  qword [rip + 0]           ff 25 00 00 00 00
    .quad ORIGINAL                                                  ; the address before routing

r11 is the scratch register of the SysV ABI that no argument uses (PLT stubs clobber it too), so
arguments, including ``al`` for variadic calls, reach the target untouched and the target returns
straight to the original caller. TPOFF is the thread-pointer offset of ``corun_route_table``
(native/vlc/route/route.c). Pages are written while read-write and then made read-execute; a
trampoline never changes after it is published.
"""
from __future__ import annotations

import ctypes
import struct
import threading

from corun._native import library
from corun.vlc import _py_dl

SLOT = 64
PER_PAGE = _py_dl.PAGE // SLOT
MAX_INDEX = (2**31 - 1) // 8


class RouteTLS:
    """The native per-thread routing-table pointer (libcorun_vlc_route.so)."""

    def __init__(self) -> None:
        lib = ctypes.CDLL(str(library("libcorun_vlc_route.so")))
        self.tpoff: int = ctypes.CFUNCTYPE(ctypes.c_long)(("corun_route_tpoff", lib))()
        self.swap = ctypes.CFUNCTYPE(ctypes.c_void_p, ctypes.c_void_p)(("corun_route_swap", lib))
        self.current = ctypes.CFUNCTYPE(ctypes.c_void_p)(("corun_route_current", lib))
        self._lib = lib


def encode(tpoff: int, index: int, original: int) -> bytes:
    if not 0 <= index <= MAX_INDEX:
        raise ValueError(f"trampoline index {index} out of range")
    code = (b"\x64\x4c\x8b\x1c\x25" + struct.pack("<i", tpoff)
            + b"\x4d\x85\xdb"
            + b"\x74\x07"
            + b"\x41\xff\xa3" + struct.pack("<i", 8 * index)
            + b"\xff\x25\x00\x00\x00\x00" + struct.pack("<Q", original))
    return code.ljust(SLOT, b"\xcc")


class TrampolinePool:
    """Allocates trampolines page by page; a page is filled read-write, then sealed read-execute
    and never written again."""

    def __init__(self, tpoff: int) -> None:
        self._tpoff = tpoff
        self._lock = threading.Lock()
        self._pages: list[int] = []
        self._page: int | None = None      # page being filled (read-write, not yet executable)
        self._pending: list[tuple[int, bytes]] = []
        self._used = PER_PAGE

    def add(self, index: int, original: int) -> int:
        """Queue a trampoline; its address is final but only usable after seal()."""
        with self._lock:
            if self._used == PER_PAGE:
                self._seal_locked()
                self._page = _py_dl.mmap_anonymous(_py_dl.PAGE)
                self._pages.append(self._page)
                self._used = 0
            assert self._page is not None
            addr = self._page + self._used * SLOT
            self._used += 1
            self._pending.append((addr, encode(self._tpoff, index, original)))
            return addr

    def seal(self) -> None:
        """Make every queued trampoline executable."""
        with self._lock:
            self._seal_locked()

    def _seal_locked(self) -> None:
        # A sealed page is never written again (another thread may be executing it), so the
        # page being filled is closed too and the next add() starts a fresh one.
        if not self._pending:
            return
        for addr, code in self._pending:
            ctypes.memmove(addr, code, len(code))
        for page in {addr & ~(_py_dl.PAGE - 1) for addr, _ in self._pending}:
            _py_dl.mprotect(page, _py_dl.PAGE, _py_dl.PROT_READ | _py_dl.PROT_EXEC)
        self._pending.clear()
        self._used = PER_PAGE

    @property
    def pages(self) -> int:
        return len(self._pages)
