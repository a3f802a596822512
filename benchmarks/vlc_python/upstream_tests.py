"""Run numpy's and scipy's own test modules against an isolated instance inside a VLC.

    python3 benchmarks/vlc_python/upstream_tests.py [--cpus 0] [--json OUT] -- PYTEST_ARGS...
    e.g. ... -- --pyargs numpy.linalg.tests.test_linalg -q -x

The context is created and entered from pytest_configure, so collection imports the test modules
(and through them numpy/scipy) into the context; at the end the script checks that the tested
modules really were the context's instances and not the base ones.
"""
from __future__ import annotations

import argparse
import json
import sys
import time

import pytest

from corun import VLC
from corun.vlc import isolated


class _InContext:
    def __init__(self, cpus: str) -> None:
        self.cpus = cpus
        self.ctx: VLC | None = None
        self.report: dict = {}

    @pytest.hookimpl(tryfirst=True)
    def pytest_configure(self, config) -> None:
        isolated.enable()
        self.ctx = VLC(cpus=self.cpus, name="upstream")
        self.ctx.enter()

    @pytest.hookimpl(trylast=True)
    def pytest_unconfigure(self, config) -> None:
        assert self.ctx is not None
        mods = isolated.modules(self.ctx)
        base = sys.modules.get("numpy")
        tests = sorted(k for k in mods if ".tests." in k)
        self.report = {"context_modules": len(mods), "test_modules_in_context": tests,
                       "numpy_is_separate": "numpy" in mods and mods["numpy"] is not isolated._base.get("numpy")}
        self.ctx.leave()


def main() -> int:
    ap = argparse.ArgumentParser()
    ap.add_argument("--cpus", default="0")
    ap.add_argument("--json")
    ap.add_argument("pytest_args", nargs=argparse.REMAINDER)
    a = ap.parse_args()
    args = [x for x in a.pytest_args if x != "--"]
    plugin = _InContext(a.cpus)
    t0 = time.perf_counter()
    # --collect-in-virtualenv: numpy's tests live in site-packages, often inside a virtualenv
    rc = pytest.main(["-p", "no:cacheprovider", "--collect-in-virtualenv", *args], plugins=[plugin])
    out = {"command": " ".join(sys.argv), "pytest_exit_code": int(rc), "seconds": round(time.perf_counter() - t0, 1),
           **plugin.report}
    print(json.dumps(out, indent=1))
    if a.json:
        with open(a.json, "w") as f:
            json.dump(out, f, indent=1)
    return 0 if rc == 0 and plugin.report.get("test_modules_in_context") and plugin.report.get("numpy_is_separate") else 1


if __name__ == "__main__":
    sys.exit(main())
