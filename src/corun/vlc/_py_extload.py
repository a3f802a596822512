"""Load a CPython extension module into a VLC's linker namespace and initialise it ourselves.

The normal import machinery always dlopen()s into the base namespace, so this loader does what
CPython's ``_PyImport_LoadDynamicModuleWithSpec`` does, against a handle from ``dlmopen``:

* the object is loaded through its pyshim wrapper (so it binds to the running interpreter);
* ``PyInit_<name>`` is called with the GIL held and ``_Py_PackageContext`` set to the full name
  (single-phase modules read it in PyModule_Create to get their qualified name);
* multi-phase init returns a *static* ``PyModuleDef``, not a new reference: it is turned into a
  module with ``PyModule_FromDefAndSpec2`` and executed with ``PyModule_ExecDef``; it is never
  wrapped as an owned Python object (releasing that reference would free static memory), and its
  refcount is raised once so that no later decref can reach zero;
* a single-phase result is a new reference, adopted once.

The module is not entered into CPython's extension cache (``_PyImport_FixupExtensionObject``):
that cache is keyed by file path and would hand this instance to a later base import of the same
file.
"""
from __future__ import annotations

import ctypes
import importlib.machinery
import threading
from types import ModuleType

from corun.vlc import _py_dl, pyshim

PYTHON_API_VERSION = 1013
_api = ctypes.pythonapi
_moduledef_type = ctypes.addressof(ctypes.c_char.in_dll(_api, "PyModuleDef_Type"))
_package_context = ctypes.c_char_p.in_dll(_api, "_Py_PackageContext")
_from_def = _api.PyModule_FromDefAndSpec2
_from_def.argtypes, _from_def.restype = [ctypes.c_void_p, ctypes.py_object, ctypes.c_int], ctypes.py_object
_exec_def = _api.PyModule_ExecDef
_exec_def.argtypes, _exec_def.restype = [ctypes.py_object, ctypes.c_void_p], ctypes.c_int
_incref = _api.Py_IncRef
_incref.argtypes, _incref.restype = [ctypes.c_void_p], None
_decref = _api.Py_DecRef
_decref.argtypes, _decref.restype = [ctypes.c_void_p], None
_OB_TYPE = ctypes.sizeof(ctypes.c_ssize_t)       # offset of ob_type in PyObject (non-debug build)
_init_lock = threading.RLock()                    # _Py_PackageContext is one global


class NamespaceExtensionLoader(importlib.machinery.ExtensionFileLoader):
    """ExtensionFileLoader that loads into linker namespace ``lmid`` instead of the base one."""

    def __init__(self, name: str, path: str, lmid: int) -> None:
        super().__init__(name, path)
        self.lmid = lmid
        self.handle: int | None = None
        self._defs: dict[int, int] = {}          # id(module) -> PyModuleDef* of multi-phase modules

    def create_module(self, spec) -> ModuleType:
        self.handle = _py_dl.dlmopen(self.lmid, pyshim.wrapper_path(self.path))
        short = spec.name.rpartition(".")[2]
        try:
            short.encode("ascii")
            init_name = f"PyInit_{short}"
        except UnicodeEncodeError:
            init_name = "PyInitU_" + short.encode("punycode").decode().replace("-", "_")
        addr = _py_dl.dlsym(self.handle, init_name)
        if not addr:
            raise ImportError(f"dynamic module does not define module export function ({init_name})",
                              name=spec.name, path=self.path)
        init = ctypes.PYFUNCTYPE(ctypes.c_void_p)(addr)
        qualified = spec.name.encode()
        with _init_lock:
            saved = _package_context.value
            _package_context.value = qualified
            try:
                result = init()
            finally:
                _package_context.value = saved
        if not result:
            raise SystemError(f"initialization of {short} failed without raising an exception")
        if ctypes.c_void_p.from_address(result + _OB_TYPE).value == _moduledef_type:
            _incref(result)                       # a static PyModuleDef: never let it reach zero
            module = _from_def(result, spec, PYTHON_API_VERSION)
            self._defs[id(module)] = result
            return module
        module = ctypes.cast(result, ctypes.py_object).value
        _decref(result)                           # adopt PyInit's new reference
        if not isinstance(module, ModuleType):
            raise SystemError(f"initialization of {short} did not return a module")
        try:
            module.__file__ = self.path
        except AttributeError:
            pass
        return module

    def exec_module(self, module: ModuleType) -> None:
        d = self._defs.pop(id(module), None)
        if d is not None and _exec_def(module, d) != 0:
            raise SystemError(f"execution of {module.__name__} failed without raising an exception")

    def is_package(self, fullname: str) -> bool:
        return False
