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
