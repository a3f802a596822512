"""corun: share a machine between parallel runtimes without oversubscription collapse.

Two mechanisms:
  * ``corun run -- CMD``: a node-wide user-space cooperative scheduler (SCHED_COOP) for unmodified
    programs and all their descendants;
  * :class:`corun.VLC`: virtual library contexts that give a native library its own instance and
    its own CPUs inside one process.
"""
__version__ = "0.1.0"

__all__ = ["VLC", "__version__"]


def __getattr__(name):  # lazy: importing corun must not load native code
    if name == "VLC":
        from corun.vlc import VLC

        return VLC
    raise AttributeError(f"module 'corun' has no attribute {name!r}")
