"""The C API (native/include/corun/vlc.h + libcorun_vlc.so) used from a C program without Python."""
from __future__ import annotations

import shutil
import subprocess

import pytest

from corun._native import library
from vlc_support import C_DIR, REPO, compile_c


def build(cbuild, src, out, cc="gcc"):
    lib_dir = library("libcorun_vlc.so").parent
    if cc != "gcc":
        if shutil.which(cc) is None:
            pytest.skip(f"{cc} not available")
        cmd = [cc, "-O2", "-o", str(out), str(src), f"-I{REPO / 'native' / 'include'}", f"-L{lib_dir}",
               "-lcorun_vlc", f"-Wl,-rpath,{lib_dir}", "-lpthread"]
        r = subprocess.run(cmd, capture_output=True, text=True)
        assert r.returncode == 0, r.stderr
        return out
    return compile_c(src, out, f"-I{REPO / 'native' / 'include'}", f"-L{lib_dir}", "-lcorun_vlc",
                     f"-Wl,-rpath,{lib_dir}", "-lpthread", shared=False)


def test_c_program(cbuild, probe_lib):
    exe = build(cbuild, C_DIR / "capi_test.c", cbuild / "capi_test")
    r = subprocess.run([str(exe), probe_lib], capture_output=True, text=True, timeout=60)
    assert r.returncode == 0, r.stdout + r.stderr
    assert r.stdout.strip().endswith("ALL OK")
    assert r.stdout.count("ok ") >= 25


def test_header_compiles_as_cpp(cbuild):
    src = cbuild / "use.cpp"
    src.write_text('#include <corun/vlc.h>\nint main() { corun_vlc *v = corun_vlc_create(0);\n'
                   '  int r = v ? corun_vlc_destroy(v) : 1; return r; }\n')
    exe = build(cbuild, src, cbuild / "use_cpp", cc="g++")
    assert subprocess.run([str(exe)], timeout=30).returncode == 0
