"""Refusal of foreign and corrupt shared segments, and of a CPU set that does not match a live
instance: `corun run` exits 2 with one line "corun: error: refusing shared segment ..." (or the
CPU-set message), CMD never starts, and the segment is left exactly as it was (never written to).
A process started with the managed environment but without the launcher (LD_PRELOAD alone) runs
unmanaged with a warning and does not touch the segment either.

Segments are crafted from a copy of a real one (taken while a managed process was alive, so every
field is what this build writes), then altered: owner, mode, magic, layout version, header
checksum, CPU count, uid field, size.
"""
from __future__ import annotations

import json
import os
import shutil
import struct
import subprocess
import sys
import time
from pathlib import Path

import pytest

from sched_support import NATIVE_DIR, NCPUS, UID, clean_environ, compile_c, segment_path, wait_for

NOBODY = 65534


@pytest.fixture(scope="module")
def layout(tmp_path_factory) -> dict:
    d = tmp_path_factory.mktemp("layout")
    exe = compile_c("layout.c", d, f"-I{NATIVE_DIR}")
    return json.loads(subprocess.run([exe, "2"], capture_output=True, text=True, timeout=30, check=True).stdout)


@pytest.fixture(scope="module")
def good_bytes(tmp_path_factory, layout) -> bytes:
    """A segment as this build writes it, copied while its creator (a managed process) lived."""
    from sched_support import Instance
    tmp = tmp_path_factory.mktemp("good")
    inst = Instance("refusal-source", tmp)
    waiter = compile_c("waiter.c", tmp)
    p = inst.popen([waiter, "src", tmp], "--cpus", "0-1" if NCPUS > 1 else "0")
    try:
        wait_for(lambda: (tmp / "src.pid").exists(), 60, "managed waiter")
        lock = layout["offsets"]["lock"]
        for _ in range(100):
            data = inst.segment.read_bytes()
            if struct.unpack_from("<i", data, lock)[0] == 0:  # not copied while someone held the lock
                break
            time.sleep(0.01)
    finally:
        (tmp / "release").touch()
        p.communicate(timeout=60)
        inst.close()
    assert inst.wait_segment_gone()
    assert len(data) == layout["segment_bytes"]["2" if NCPUS > 1 else "1"] or NCPUS == 1
    return data


def put(data: bytes, fmt: str, off: int, value) -> bytes:
    b = bytearray(data)
    struct.pack_into(fmt, b, off, value)
    return bytes(b)


def craft(name: str, data: bytes, mode: int = 0o600, owner: int | None = None) -> Path:
    path = segment_path(name)
    fd = os.open(path, os.O_CREAT | os.O_EXCL | os.O_WRONLY, 0o600)
    try:
        os.write(fd, data)
        os.fchmod(fd, mode)
        if owner is not None:
            os.fchown(fd, owner, owner)
    finally:
        os.close(fd)
    return path


def corun_run(instance_name: str, marker: Path, *opts: str, env=None) -> subprocess.CompletedProcess:
    return subprocess.run([sys.executable, "-m", "corun", "run", "--instance", instance_name, *opts, "--",
                           "sh", "-c", f'echo started > "{marker}"'],
                          capture_output=True, text=True, timeout=60, env=clean_environ(env))


def one_error_line(r: subprocess.CompletedProcess) -> str:
    assert r.returncode == 2, (r.returncode, r.stderr)
    lines = r.stderr.splitlines()
    assert len(lines) == 1 and r.stderr.endswith("\n"), r.stderr
    assert r.stdout == ""
    return lines[0]


def altered(layout, good):
    o = layout["offsets"]
    return {
        "magic": (put(good, "<Q", o["magic"], 0x1122334455667788), "not a corun segment"),
        "version": (put(good, "<I", o["version"], layout["version"] + 1), "made by another corun version"),
        "checksum": (put(good, "<I", o["header_check"], struct.unpack_from("<I", good, o["header_check"])[0] ^ 1),
                     "corrupt header"),
        "ncores": (put(good, "<I", o["ncores"], 7), "corrupt header"),
        "max_threads": (put(good, "<I", o["max_threads"], 1024), "corrupt header"),
        "uid_field": (put(good, "<I", o["uid"], UID + 1), "header names another user"),
        "truncated": (good[: len(good) // 2], "corrupt header"),
        "tiny": (good[:100], "too small"),
        "empty": (b"", "too small"),
        "garbage": (bytes((i * 37 + 11) & 0xFF for i in range(len(good))), "not a corun segment"),
    }


CASES = ["magic", "version", "checksum", "ncores", "max_threads", "uid_field", "truncated", "tiny", "empty",
         "garbage", "foreign_owner", "mode_0644", "mode_0660"]


@pytest.mark.parametrize("case", CASES)
def test_refuses_segment(make_instance, layout, good_bytes, tmp_path, case):
    inst = make_instance(f"refuse-{case}")
    if case == "foreign_owner":
        if os.getuid() != 0:
            pytest.skip("creating a segment owned by another user needs root")
        data, mode, owner, reason = good_bytes, 0o600, NOBODY, "owned by another user"
    elif case.startswith("mode_"):
        data, mode, owner, reason = good_bytes, int(case[5:], 8), None, "accessible to other users"
    else:
        (data, reason), mode, owner = altered(layout, good_bytes)[case], 0o600, None
    path = craft(inst.name, data, mode, owner)
    before = (path.read_bytes(), os.stat(path))
    marker = tmp_path / "started"
    try:
        line = one_error_line(corun_run(inst.name, marker))
        assert line.startswith(f"corun: error: refusing shared segment {path}: {reason}"), line
        assert not marker.exists(), "CMD ran despite the refusal"
        after = (path.read_bytes(), os.stat(path))
        assert after[0] == before[0], "the refused segment was written to"
        assert (after[1].st_mode, after[1].st_uid, after[1].st_size) == \
               (before[1].st_mode, before[1].st_uid, before[1].st_size)

        # Loaded without the launcher (managed environment only): runs unmanaged, touches nothing.
        from corun._native import library
        env = {"LD_PRELOAD": str(library("libcorun.so")), "CORUN_MANAGED": "1", "CORUN_INSTANCE": inst.name,
               "CORUN_CPUS": "0-1" if NCPUS > 1 else "0"}
        r = subprocess.run(["sh", "-c", f'echo started > "{marker}"'], capture_output=True, text=True, timeout=60,
                           env=clean_environ(env))
        assert r.returncode == 0 and marker.exists(), r.stderr
        assert "refusing shared segment" in r.stderr and "unmanaged" in r.stderr, r.stderr
        assert path.read_bytes() == before[0], "the refused segment was written to by a preloaded process"
    finally:
        path.unlink()


def test_accepts_unaltered_copy(make_instance, good_bytes, tmp_path):
    """Control for the cases above: the unaltered copy is accepted (its dead process is reaped,
    the segment removed, and a fresh one serves CMD)."""
    inst = make_instance("accept-copy")
    craft(inst.name, good_bytes)
    marker = tmp_path / "started"
    r = corun_run(inst.name, marker, "--cpus", "0-1" if NCPUS > 1 else "0")
    assert r.returncode == 0, r.stderr
    assert marker.exists()


@pytest.mark.skipif(NCPUS < 2, reason="needs 2 CPUs")
def test_cpu_set_mismatch_with_live_instance(make_instance, cbuild, tmp_path):
    inst = make_instance("cpus-mismatch")
    waiter = compile_c("waiter.c", cbuild)
    p = inst.popen([waiter, "live", tmp_path], "--cpus", "0")
    try:
        wait_for(lambda: (tmp_path / "live.pid").exists(), 60, "live instance")
        marker = tmp_path / "started"
        for opts, want in ((["--cpus", "0-1"], "0-1"), ([], "0-1"), (["--cpus", "1"], "1")):
            line = one_error_line(corun_run(inst.name, marker, *opts))
            assert line == (f"corun: error: instance {inst.name} manages CPUs 0, not {want}: "
                            f"use another --instance or the same --cpus"), line
            assert not marker.exists()
        r = corun_run(inst.name, marker, "--cpus", "0")  # the same set joins the live instance
        assert r.returncode == 0 and marker.exists(), r.stderr
    finally:
        (tmp_path / "release").touch()
    p.communicate(timeout=60)
    assert p.returncode == 0
