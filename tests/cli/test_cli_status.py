"""`corun status` against a live instance: the C snapshot and the Python view agree on the format."""
from __future__ import annotations

import json
import signal
import subprocess
import sys
import time

import pytest


@pytest.fixture
def live(corun):
    """A managed process sleeping in the test's instance; yields its pid."""
    proc = subprocess.Popen([sys.executable, "-m", "corun", "run", "--", "sh", "-c", "echo $$; exec sleep 30"],
                            env=corun.env(), stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True,
                            cwd=corun.tmp)
    try:
        yield int(proc.stdout.readline())
    finally:
        proc.send_signal(signal.SIGTERM)
        try:
            proc.wait(timeout=30)
        except subprocess.TimeoutExpired:
            proc.kill()
            proc.wait()


def _status_json(corun, deadline_s=10.0):
    """Snapshots until the instance lists at least one process (registration may be lazy)."""
    end = time.monotonic() + deadline_s
    while True:
        p = corun("status", "--json")
        if p.returncode == 0:
            snap = json.loads(p.stdout)
            if snap.get("processes") or time.monotonic() > end:
                return snap
        elif time.monotonic() > end:
            pytest.fail(p.stderr)
        time.sleep(0.1)


def test_status_json_and_view(corun, live):
    snap = _status_json(corun)
    assert snap["instance"] == corun.instance
    pids = [p.get("pid") for p in snap["processes"]]
    assert live in pids
    assert isinstance(snap["cores"], list) and snap["cores"]
    for key in ("index", "cpu", "owner_tid", "owner_pid", "held_us"):
        assert all(key in c for c in snap["cores"]), key
    for key in ("pid", "comm", "running", "ready", "blocked", "stolen"):
        assert all(key in p for p in snap["processes"]), key

    p = corun("status")
    assert p.returncode == 0, p.stderr
    lines = p.stdout.splitlines()
    assert lines[0].startswith(f"instance {corun.instance}: {len(snap['cores'])} managed core")
    assert "quantum 20 ms" in lines[0]
    assert any(str(live) in ln and "sleep" in ln for ln in lines), p.stdout


def test_status_instance_from_option(corun, live):
    p = corun("status", "--instance", corun.instance, instance=None)
    assert p.returncode == 0, p.stderr
    assert p.stdout.startswith(f"instance {corun.instance}:")


def test_status_watch_refreshes_until_interrupted(corun, live):
    _status_json(corun)
    cmd = [sys.executable, "-m", "corun", "status", "--watch", "0.2"]
    proc = subprocess.Popen(cmd, env=corun.env(), stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True,
                            cwd=corun.tmp)
    time.sleep(3)
    proc.send_signal(signal.SIGINT)
    out, err = proc.communicate(timeout=30)
    assert proc.returncode == 0, err
    assert out.count(f"instance {corun.instance}:") >= 2, out  # refreshed at least once
    assert str(live) in out


def test_status_watch_rejects_a_bad_period(corun):
    corun.error(corun("status", "--watch", "0"))
