"""Fixtures of the VLC tests: C test libraries compiled with gcc into a temporary folder, and a guard
that every test closes the contexts it opens (linker namespaces are a scarce resource)."""
from __future__ import annotations

import os
from pathlib import Path

import pytest

from vlc_support import C_DIR, DEBIAN_ARPACK, compile_c, require


@pytest.fixture(scope="session")
def cbuild(tmp_path_factory) -> Path:
    return tmp_path_factory.mktemp("vlc_c")


@pytest.fixture(scope="session")
def probe_lib(cbuild) -> str:
    return str(compile_c(C_DIR / "probe.c", cbuild / "libprobe.so"))


@pytest.fixture(scope="session")
def arpack_driver(cbuild) -> str:
    require(DEBIAN_ARPACK, "libarpack2")
    if not os.path.exists("/usr/lib/x86_64-linux-gnu/libarpack.so"):
        pytest.skip("libarpack.so link name missing (Debian package libarpack2-dev)")
    return str(compile_c(C_DIR / "arpack_driver.c", cbuild / "libarpack_driver.so", "-larpack"))


@pytest.fixture(autouse=True)
def no_leaked_contexts():
    from corun.vlc import live_contexts

    before = {id(v) for v in live_contexts()}
    yield
    leaked = [v for v in live_contexts() if id(v) not in before]
    for v in leaked:
        v.close()
    assert not leaked, f"test left contexts open: {leaked}"
