"""``corun vlc info``: the namespace limit and a self-check context."""
from __future__ import annotations

import json
import subprocess
import sys

from vlc_support import DEBIAN_OPENBLAS, require


def test_vlc_info_json():
    lib = require(DEBIAN_OPENBLAS, "libopenblas0-pthread")
    out = subprocess.run([sys.executable, "-m", "corun", "vlc", "info", "--json", "--load", lib],
                         capture_output=True, text=True, timeout=60)
    assert out.returncode == 0, out.stderr
    data = json.loads(out.stdout)
    assert data["namespace_limit"] in (11, 15)
    ctx = data["context"]
    assert ctx["num_cpus"] == 1 and ctx["lmid"] > 0
    assert ctx["libraries"][0]["num_threads"] == 1


def test_vlc_info_reports_load_errors():
    out = subprocess.run([sys.executable, "-m", "corun", "vlc", "info", "--load", "libcorun-missing.so"],
                         capture_output=True, text=True, timeout=60)
    assert out.returncode == 1
    assert "libcorun-missing.so" in out.stdout
