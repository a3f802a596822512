"""The libpython shim and the per-extension wrappers: ELF files written without a linker."""
from __future__ import annotations

import ctypes
import importlib.machinery
import os
import subprocess
import sys
import textwrap

import pytest

pytest.importorskip("elftools")
from elftools.elf.elffile import ELFFile  # noqa: E402

from corun._native import NATIVE_DIR  # noqa: E402
from corun.vlc import pyshim  # noqa: E402
from corun.vlc._py_elfwrite import AbsSymbol, elf_hash, shared_object  # noqa: E402

pytestmark = pytest.mark.skipif(sys.platform != "linux" or os.uname().machine != "x86_64",
                                reason="x86-64 Linux only")
needs_vlc = pytest.mark.skipif(
    any(not (NATIVE_DIR / n).exists() for n in ("libcorun_vlc.so", "libcorun_vlc_root.so")),
    reason="needs corun's native VLC libraries (python3 native/build.py)")


def test_elf_hash_reference_values():
    # values of the SysV ABI hash function (gABI, "Hash Table")
    assert elf_hash(b"") == 0
    assert elf_hash(b"printf") == 0x077905A6
    assert elf_hash(b"exit") == 0x0006CF04


def test_written_object_reads_back_with_pyelftools(tmp_path):
    syms = [AbsSymbol("alpha", 0x1234, "STT_FUNC"), AbsSymbol("beta", 0xDEADBEEF000, "STT_OBJECT", 8),
            AbsSymbol("gamma", 7, "STT_NOTYPE", 0, "STB_WEAK")]
    path = tmp_path / "x.so"
    path.write_bytes(shared_object(syms, ["libm.so.6"], soname="x.so"))
    with open(path, "rb") as f:
        elf = ELFFile(f)
        assert elf["e_type"] == "ET_DYN" and elf["e_machine"] == "EM_X86_64"
        dynsym = elf.get_section_by_name(".dynsym")
        got = {s.name: (s["st_value"], s["st_shndx"], s["st_info"]["type"], s["st_info"]["bind"])
               for s in dynsym.iter_symbols() if s.name}
        tags = {t.entry.d_tag: t for t in elf.get_section_by_name(".dynamic").iter_tags()}
        assert [t.needed for t in elf.get_section_by_name(".dynamic").iter_tags()
                if t.entry.d_tag == "DT_NEEDED"] == ["libm.so.6"]
        assert tags["DT_SONAME"].soname == "x.so"
        assert {s["p_type"] for s in elf.iter_segments()} >= {"PT_LOAD", "PT_DYNAMIC", "PT_GNU_STACK"}
    assert got == {"alpha": (0x1234, "SHN_ABS", "STT_FUNC", "STB_GLOBAL"),
                   "beta": (0xDEADBEEF000, "SHN_ABS", "STT_OBJECT", "STB_GLOBAL"),
                   "gamma": (7, "SHN_ABS", "STT_NOTYPE", "STB_WEAK")}
    # glibc loads it and returns absolute values unrelocated
    lib = ctypes.CDLL(str(path))
    dlsym = ctypes.CDLL(None).dlsym
    dlsym.restype, dlsym.argtypes = ctypes.c_void_p, [ctypes.c_void_p, ctypes.c_char_p]
    assert dlsym(lib._handle, b"beta") == 0xDEADBEEF000
    assert dlsym(lib._handle, b"alpha") == 0x1234


def test_shim_defines_every_libpython_export_at_its_address():
    syms = {s.name: s for s in pyshim.shim_symbols()}
    assert len(syms) > 1000
    for name in ("PyLong_FromLong", "Py_IncRef", "PyExc_TypeError", "_Py_NoneStruct", "PyModuleDef_Type"):
        real = ctypes.cast(getattr(ctypes.pythonapi, name), ctypes.c_void_p).value \
            if name.startswith("Py") and not name.startswith(("PyExc", "PyModuleDef")) else \
            ctypes.addressof(ctypes.c_char.in_dll(ctypes.pythonapi, name))
        assert syms[name].address == real, name
    with open(pyshim.shim_path(), "rb") as f:
        dynsym = ELFFile(f).get_section_by_name(".dynsym")
        assert dynsym.num_symbols() == len(syms) + 1
        assert all(s["st_shndx"] == "SHN_ABS" for s in list(dynsym.iter_symbols())[1:])


def test_wrapper_needs_shim_then_extension():
    ext = importlib.machinery.PathFinder.find_spec("_json").origin
    with open(pyshim.wrapper_path(ext), "rb") as f:
        needed = [t.needed for t in ELFFile(f).get_section_by_name(".dynamic").iter_tags()
                  if t.entry.d_tag == "DT_NEEDED"]
    assert needed == [pyshim.shim_path(), os.path.realpath(ext)]


@needs_vlc
def test_extension_in_two_namespaces_and_base():
    code = textwrap.dedent("""
        import importlib.machinery, importlib.util, json, sys
        from corun import VLC
        from corun.vlc._py_extload import NamespaceExtensionLoader
        import _json as base
        origin = importlib.machinery.PathFinder.find_spec("_json").origin
        mods = []
        for cpus in ("0", "1"):
            v = VLC(cpus=cpus)
            loader = NamespaceExtensionLoader("_json", origin, v.lmid)
            spec = importlib.util.spec_from_loader("_json", loader, origin=origin)
            m = importlib.util.module_from_spec(spec)
            loader.exec_module(m)
            mods.append((v, m))
        (v1, m1), (v2, m2) = mods
        out = {
            "distinct": len({id(m1.scanstring), id(m2.scanstring), id(base.scanstring)}) == 3,
            "works": m1.scanstring('"h\\\\u00e9"', 1)[0] == "h\\u00e9" and m2.scanstring('"x"', 1) == ("x", 3),
            "none": m1.make_scanner.__call__ is not None,
        }
        try:
            m1.scanstring('"abc', 1)
        except ValueError as e:
            out["exc"] = isinstance(e, ValueError)
        print("RESULT " + json.dumps(out))
    """)
    proc = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=120)
    assert proc.returncode == 0, proc.stderr
    line = [ln for ln in proc.stdout.splitlines() if ln.startswith("RESULT ")][-1]
    import json
    assert json.loads(line[7:]) == {"distinct": True, "works": True, "none": True, "exc": True}
