"""Fill a package instance's lazy-import caches while the right instance is unambiguous.

numpy's C code imports Python helpers lazily, on first use, and caches them in static variables
(``npy_cache_import_runtime``: dtype and array repr/str, reductions such as ``_sum``/``_mean``, the
error-message formatters, exception classes, ...). Each instance has its own statics, but the
lookup goes through ``sys.modules``, so whichever instance applies to the calling thread at first
use is cached for good. If that first use came from a thread in another context, the instance would
hold another instance's helpers and mix types (endless recursion in dtype repr, for example).

corun therefore runs each instance's helpers once right after the instance is imported, inside an
import frame for its own space, and the base instance's just before a package is first isolated.
What is not exercised here is filled at first use, by the context of the calling thread.
"""
from __future__ import annotations

import contextlib
import warnings
from collections.abc import Callable
from types import ModuleType


def warm(top: str, module: ModuleType) -> None:
    warmer = WARMERS.get(top)
    if warmer is None:
        return
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        warmer(module)


def _numpy(np: ModuleType) -> None:
    for d in (np.dtype(float), np.dtype([("a", "<f8"), ("b", "i4")]), np.dtype("S3"), np.dtype("M8[s]"),
              np.dtype("i4"), np.dtype("U2"), np.dtype(object)):
        repr(d), str(d), d.name, d.descr, d.str
        with contextlib.suppress(Exception):
            np.dtype((d, (2,)))
    a = np.arange(6.0).reshape(2, 3)
    repr(a), str(a), repr(a[0, 0]), str(a[0, 0]), format(a[0, 0], ".2f"), repr(np.arange(3))
    repr(np.ones(2, dtype=[("a", "<f8")])), repr(np.array(["x"]))
    for method in ("sum", "mean", "std", "var", "max", "min", "prod", "all", "any", "cumsum", "ptp"):
        with contextlib.suppress(Exception):
            getattr(a, method)()
    a.clip(0, 1)
    with contextlib.suppress(Exception):
        a.dumps()
    with contextlib.suppress(Exception):
        a.view(np.dtype([("x", "<f8")]))
    with contextlib.suppress(Exception):
        np.ones(2, dtype=[("a", "<f8"), ("b", "<f8")])[["a"]]
    with contextlib.suppress(Exception):
        np.add(a, "x")                                       # no-loop error and its formatter

    class _NoUfunc:
        def __array_ufunc__(self, *args, **kwargs):
            return NotImplemented

        def __array_function__(self, *args, **kwargs):
            return NotImplemented

    with contextlib.suppress(TypeError):
        np.add(_NoUfunc(), a)                                # array_ufunc_errmsg_formatter
    with contextlib.suppress(TypeError):
        np.concatenate([_NoUfunc()])                         # array_function_errmsg_formatter
    with contextlib.suppress(Exception):
        np.array([1.5]).astype(np.int64, casting="safe")     # casting error classes
    with contextlib.suppress(Exception):
        np.zeros((2, 2)) @ np.zeros((3, 3))
    with contextlib.suppress(Exception):
        np.array([1, 2]).reshape(3)
    with contextlib.suppress(Exception):
        np.float64(1.0) / np.float64(0.0)
    with contextlib.suppress(Exception):
        np.linalg.inv(np.zeros((2, 2)))


WARMERS: dict[str, Callable[[ModuleType], None]] = {"numpy": _numpy}
