"""Packaging glue: build corun's native libraries during every install (see native/build.py)."""
import importlib.util
from pathlib import Path

from setuptools import setup
from setuptools.command.build_py import build_py

HERE = Path(__file__).resolve().parent


def _native_build():
    spec = importlib.util.spec_from_file_location("corun_native_build", HERE / "native" / "build.py")
    mod = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(mod)
    return mod


class BuildPyWithNative(build_py):
    def run(self):
        super().run()
        if getattr(self, "editable_mode", False):
            out = HERE / "src" / "corun" / "_native"
        else:
            out = Path(self.build_lib) / "corun" / "_native"
        _native_build().build(out)


setup(cmdclass={"build_py": BuildPyWithNative})
