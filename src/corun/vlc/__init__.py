"""Virtual library contexts (VLCs): a native library's own instance and own CPUs inside one process.

    from corun import VLC
    a = VLC(cpus="0", env={"OPENBLAS_NUM_THREADS": "1"})
    blas = a.load("libopenblas.so.0")      # a's own instance, a ctypes.CDLL
    blas.openblas_get_num_threads()        # -> 1: it sees one CPU
    with a: ...                            # this thread runs on a's CPUs inside the block
    a.close()

See docs/vlc.md for the design, the mechanisms and their limits.
"""
from corun.vlc.context import VLC, live_contexts, prewarm
from corun.vlc.errors import (VLCBusyError, VLCClosedError, VLCCpuError, VLCError, VLCLibraryNotFound,
                              VLCLimitError, VLCSymbolNotFound)
from corun.vlc.gate import add_close_hook, add_thread_hook, remove_close_hook, remove_thread_hook, thread_stack
from corun.vlc.info import info
from corun.vlc.library import VLCLibrary
from corun.vlc.tunables import namespace_limit, reexec_with_tunables

__all__ = ["VLC", "VLCLibrary", "VLCError", "VLCLibraryNotFound", "VLCSymbolNotFound", "VLCCpuError",
           "VLCLimitError", "VLCClosedError", "VLCBusyError", "info", "live_contexts", "prewarm", "namespace_limit",
           "reexec_with_tunables", "add_thread_hook", "remove_thread_hook", "add_close_hook", "remove_close_hook",
           "thread_stack"]
