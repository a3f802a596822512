"""The environment the launcher gives managed processes (launcher.managed_environment), in-process."""
from __future__ import annotations

import os

import pytest

from corun._native import library
from corun.run import launcher
from corun.run.cpulist import format_cpulist
from corun.run.options import resolve

LIB = str(library("libcorun.so"))


def opts(**cli):
    return resolve(cli, env={"XDG_CONFIG_HOME": "/nonexistent"})


def test_corun_variables():
    o = opts(cpus=f"{min(os.sched_getaffinity(0))}", quantum_ms="7", instance="envtest", log_level="DEBUG")
    env = launcher.managed_environment(o, base={"PATH": "/bin", "HOME": "/h"})
    assert env["CORUN_INSTANCE"] == "envtest"
    assert env["CORUN_CPUS"] == str(min(os.sched_getaffinity(0)))
    assert env["CORUN_QUANTUM_US"] == "7000"
    assert env["CORUN_LOG_LEVEL"] == "debug"
    assert env["LD_PRELOAD"] == LIB
    assert env["PATH"] == "/bin" and env["HOME"] == "/h"


def test_cpus_are_normalized():
    cpus = sorted(os.sched_getaffinity(0))
    spelled = ",".join(str(c) for c in reversed(cpus)) + f",{cpus[0]}"
    env = launcher.managed_environment(opts(cpus=spelled), base={})
    assert env["CORUN_CPUS"] == format_cpulist(cpus)


def test_base_defaults_to_os_environ(monkeypatch):
    monkeypatch.setenv("CORUN_TEST_MARKER", "x1")
    assert launcher.managed_environment(opts())["CORUN_TEST_MARKER"] == "x1"


def test_caller_dict_not_modified():
    base = {"LD_PRELOAD": "/a/liba.so", "CORUN_QUANTUM_MS": "5"}
    launcher.managed_environment(opts(), base=base)
    assert base == {"LD_PRELOAD": "/a/liba.so", "CORUN_QUANTUM_MS": "5"}


@pytest.mark.parametrize("existing, rest", [
    ("", []),
    ("/a/liba.so", ["/a/liba.so"]),
    ("/a/liba.so:/b/libb.so", ["/a/liba.so", "/b/libb.so"]),
    ("/a/liba.so /b/libb.so", ["/a/liba.so", "/b/libb.so"]),
    (f"/a/liba.so:{LIB}", ["/a/liba.so"]),                       # already preloaded: moved first, once
    ("/old/install/libcorun.so /a/liba.so", ["/a/liba.so"]),     # another copy of libcorun.so: replaced
    ("/a/libcorun.so.bak", ["/a/libcorun.so.bak"]),
])
def test_ld_preload_libcorun_first(existing, rest):
    env = launcher.managed_environment(opts(), base={"LD_PRELOAD": existing})
    entries = env["LD_PRELOAD"].split()
    assert entries[0] == LIB
    assert entries[1:] == rest


def test_quantum_ms_variable_replaced_by_us():
    env = launcher.managed_environment(opts(quantum_ms="3"), base={"CORUN_QUANTUM_MS": "99"})
    assert "CORUN_QUANTUM_MS" not in env
    assert env["CORUN_QUANTUM_US"] == "3000"


@pytest.mark.parametrize("ms", ["0.1", "0.3", "0.25", "1", "2.5", "20", "333.333", "10000",
                                "1.001", "1.005"])
def test_quantum_us_is_the_nearest_microsecond(ms):
    env = launcher.managed_environment(opts(quantum_ms=ms), base={})
    assert int(env["CORUN_QUANTUM_US"]) == round(float(ms) * 1000)


def test_namespace_tunable_added_for_contexts_and_user_tunables_kept():
    env = launcher.managed_environment(opts(), base={"GLIBC_TUNABLES": "glibc.malloc.arena_max=2"})
    assert env["GLIBC_TUNABLES"].split(":") == ["glibc.malloc.arena_max=2", "glibc.rtld.nns=16"]
    assert launcher.managed_environment(opts(), base={})["GLIBC_TUNABLES"] == "glibc.rtld.nns=16"


def test_users_own_namespace_tunable_wins():
    env = launcher.managed_environment(opts(), base={"GLIBC_TUNABLES": "glibc.rtld.nns=8"})
    assert env["GLIBC_TUNABLES"] == "glibc.rtld.nns=8"
