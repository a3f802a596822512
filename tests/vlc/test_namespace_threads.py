"""Two hazards of a namespace's own libc copy, each checked in a fresh interpreter (a crash there
must fail the test, not kill pytest):

* its environ starts as the process's array, which a later setenv() in the process may free:
  loading a library into the context afterwards (its constructors read the environment) must work;
* a thread that did not create the namespace has no ctype tables in that libc: a call that uses
  them (isspace, toupper) from another thread inside the context must work.
"""
from __future__ import annotations

import subprocess
import sys

from vlc_support import DEBIAN_OPENBLAS, require

SETENV_THEN_LOAD = r"""
import os, sys
from corun import VLC
os.environ["CORUN_TEST_FIRST"] = "1"      # environ is now an array glibc allocated (and may free)
v = VLC(cpus="0")
for i in range(2000):                     # grow it: realloc frees the array the context saw
    os.environ[f"CORUN_TEST_FILLER_{i}"] = "x" * 64
for i in range(2000):
    del os.environ[f"CORUN_TEST_FILLER_{i}"]
lib = v.load(sys.argv[1])
print(lib.openblas_get_num_threads())
v.close()
"""

CTYPE_FROM_ANOTHER_THREAD = r"""
import ctypes, threading
from corun import VLC
v = VLC(cpus="0")
libc = v.load("libc.so.6")                # the namespace's own libc copy
out = []
def work():
    out.append(libc.isspace(32) != 0 and libc.toupper(ord("a")) == ord("A"))
t = threading.Thread(target=work)
t.start(); t.join()
print(out[0])
v.close()
"""


def run(code: str, *args: str) -> subprocess.CompletedProcess:
    return subprocess.run([sys.executable, "-c", code, *args], capture_output=True, text=True, timeout=120)


def test_load_after_the_process_changed_its_environment():
    lib = require(DEBIAN_OPENBLAS, "libopenblas0-pthread")
    r = run(SETENV_THEN_LOAD, lib)
    assert r.returncode == 0, r.stderr[-2000:]
    assert r.stdout.strip() == "1"


def test_ctype_using_call_from_a_thread_that_did_not_create_the_namespace():
    r = run(CTYPE_FROM_ANOTHER_THREAD)
    assert r.returncode == 0, r.stderr[-2000:]
    assert r.stdout.strip() == "True"
