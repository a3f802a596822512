"""More contexts than glibc has linker namespaces: a clear error naming the limit and the fix, the
raised limit when the process starts with the tunable, and slots reused after close."""
from __future__ import annotations

import json
import os
import subprocess
import sys
import textwrap

SCRIPT = textwrap.dedent("""
    import json, sys
    import corun.vlc as vlc
    if sys.argv[1] == "reexec":
        vlc.reexec_with_tunables()
    made, error = [], None
    try:
        for _ in range(20):
            made.append(vlc.VLC())
    except vlc.VLCLimitError as e:
        error = str(e)
    made.pop().close()
    made.append(vlc.VLC())          # the freed namespace is reused
    print(json.dumps({"made": len(made), "limit": vlc.namespace_limit(), "error": error}))
""")


def run(mode: str, tunables: str | None) -> dict:
    env = {k: v for k, v in os.environ.items() if k != "GLIBC_TUNABLES"}
    if tunables:
        env["GLIBC_TUNABLES"] = tunables
    out = subprocess.run([sys.executable, "-c", SCRIPT, mode], env=env, capture_output=True, text=True,
                         timeout=60)
    assert out.returncode == 0, out.stderr
    return json.loads(out.stdout.strip().splitlines()[-1])


def test_default_limit_is_reported_with_the_fix():
    r = run("plain", None)
    assert r["made"] == r["limit"] == 11
    assert "GLIBC_TUNABLES=glibc.rtld.nns=16" in r["error"] and "11" in r["error"]


def test_raised_limit_with_tunable_at_start():
    r = run("plain", "glibc.rtld.nns=16")
    assert r["made"] == r["limit"] == 15
    assert "GLIBC_TUNABLES" in r["error"]


def test_reexec_applies_the_tunable():
    r = run("reexec", None)
    assert r["made"] == r["limit"] == 15


CHURN = textwrap.dedent("""
    import json
    import corun.vlc as vlc
    for _ in range(6):                      # closing in creation order (not LIFO)
        made = [vlc.VLC() for _ in range(9)]
        for v in made:
            v.close()
    print(json.dumps({"ok": True}))
""")


def test_closing_in_any_order_does_not_lower_the_limit():
    out = subprocess.run([sys.executable, "-c", CHURN], capture_output=True, text=True, timeout=60,
                         env={k: v for k, v in os.environ.items() if k != "GLIBC_TUNABLES"})
    assert out.returncode == 0, out.stderr
    assert json.loads(out.stdout)["ok"]


BEYOND = textwrap.dedent("""
    import ctypes, json, os, sys
    import corun.vlc as vlc
    probe, openblas = sys.argv[1], sys.argv[2]
    full = [vlc.VLC() for _ in range(vlc.namespace_limit())]
    cpus = sorted(os.sched_getaffinity(0))
    extra = [vlc.VLC(cpus=[c], isolation="auto") for c in (cpus[0], cpus[-1])]
    libs = [v.load(probe) for v in extra]
    for lib in libs:
        lib.probe_state_address.restype = ctypes.c_void_p
        lib.probe_thread_affinity.restype = lib.probe_raw_affinity.restype = ctypes.c_ulong
    out = {"isolation": [v.isolation for v in extra],
           "distinct": libs[0].probe_state_address() != libs[1].probe_state_address(),
           "caller": [lib.probe_raw_affinity() for lib in libs],
           "thread": [lib.probe_thread_affinity() for lib in libs],
           "cpus": [cpus[0], cpus[-1]]}
    if os.path.exists(openblas):
        blas = extra[1].load(openblas)
        out["openblas_threads"] = blas.openblas_get_num_threads()
    print(json.dumps(out))
""")


def test_beyond_the_limit_contexts_use_file_copies(probe_lib):
    from vlc_support import DEBIAN_OPENBLAS

    env = {k: v for k, v in os.environ.items() if k != "GLIBC_TUNABLES"}
    out = subprocess.run([sys.executable, "-c", BEYOND, probe_lib, DEBIAN_OPENBLAS], capture_output=True,
                         text=True, timeout=60, env=env)
    assert out.returncode == 0, out.stderr
    r = json.loads(out.stdout.strip().splitlines()[-1])
    assert r["isolation"] == ["copy", "copy"]
    assert r["distinct"]                                            # own instances
    bits = [1 << c for c in r["cpus"]]
    assert r["caller"] == bits and r["thread"] == bits              # caller and new threads pinned
    if "openblas_threads" in r:
        assert r["openblas_threads"] == 1                           # pool sized from the pinning
