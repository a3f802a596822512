"""Paths of corun's native libraries, built by ``pip install`` (see native/build.py)."""
from __future__ import annotations

from pathlib import Path

NATIVE_DIR = Path(__file__).resolve().parent


class NativeLibraryMissing(RuntimeError):
    pass


def library(name: str) -> Path:
    """Absolute path of a built native library, e.g. ``library("libcorun.so")``."""
    path = NATIVE_DIR / name
    if not path.exists():
        raise NativeLibraryMissing(
            f"corun native library {name} is missing from {NATIVE_DIR}; reinstall with 'pip install .'")
    return path


def include_dir() -> Path:
    return NATIVE_DIR / "include"
