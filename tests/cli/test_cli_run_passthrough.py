"""`corun run -- CMD`: CMD's exit status, signals, standard streams, arguments and environment.

The launcher execs CMD, so a test compares what `corun run -- X` does with what plain `X` does.
"""
from __future__ import annotations

import os
import signal
import subprocess
import sys

import pytest

from corun._native import library
from corun.run.cpulist import format_cpulist
from corun.run.options import OPTIONS

AFFINITY = sorted(os.sched_getaffinity(0))
LIBCORUN = str(library("libcorun.so"))


def plain(corun, *cmd, **kw):
    return subprocess.run(list(cmd), env=corun.env(instance=None), capture_output=True, timeout=30,
                          cwd=corun.tmp, **kw)


def child_env(proc: subprocess.CompletedProcess) -> dict[str, str]:
    assert proc.returncode == 0, proc.stderr
    out = proc.stdout if isinstance(proc.stdout, bytes) else proc.stdout.encode()
    pairs = (item.split(b"=", 1) for item in out.split(b"\0") if item)
    return {k.decode(): v.decode() for k, v in pairs}


# --- exit status and signals ------------------------------------------------------------------

@pytest.mark.parametrize("status", [0, 7, 255])
def test_exit_status_passthrough(corun, status):
    p = corun("run", "--", "sh", "-c", f"exit {status}")
    assert p.returncode == status, p.stderr
    assert p.stderr == ""


@pytest.mark.parametrize("sig", [signal.SIGTERM, signal.SIGINT, signal.SIGKILL],
                         ids=lambda s: s.name)
def test_killed_by_signal_like_plain(corun, sig):
    script = f"kill -{sig.name[3:]} $$; sleep 5"
    ref = plain(corun, "sh", "-c", script)
    assert ref.returncode == -sig
    p = corun("run", "--", "sh", "-c", script)
    assert p.returncode == ref.returncode == -sig, p.stderr


def test_cmd_replaces_the_launcher(corun):
    """exec, not fork: CMD has the launcher's pid, so signals sent to the launcher reach CMD."""
    proc = subprocess.Popen([sys.executable, "-m", "corun", "run", "--", "sh", "-c", "echo $$; exec sleep 30"],
                            env=corun.env(), stdout=subprocess.PIPE, text=True, cwd=corun.tmp)
    try:
        assert int(proc.stdout.readline()) == proc.pid
        proc.send_signal(signal.SIGTERM)
        assert proc.wait(timeout=30) == -signal.SIGTERM
    finally:
        if proc.poll() is None:
            proc.kill()
            proc.wait()


def test_signal_dispositions_like_plain(corun):
    ref = plain(corun, "grep", "^SigIgn", "/proc/self/status", text=True)
    p = corun("run", "--", "grep", "^SigIgn", "/proc/self/status")
    assert p.returncode == 0, p.stderr
    assert p.stdout == ref.stdout


def test_broken_pipe_like_plain(corun):
    script = "yes | head -c 4 >/dev/null"
    ref = plain(corun, "sh", "-c", script, text=True)
    p = corun("run", "--", "sh", "-c", script)
    assert (p.returncode, p.stderr) == (ref.returncode, ref.stderr)


# --- standard streams, arguments, cwd ---------------------------------------------------------

def test_stdin_to_stdout(corun):
    data = os.urandom(1 << 20) + b"\0\n\xff end"
    p = corun("run", "--", "cat", input=data, text=False)
    assert p.returncode == 0, p.stderr
    assert p.stdout == data
    assert p.stderr == b""


def test_stdin_to_stderr(corun):
    data = b"line 1\nline 2\n\0binary\xfe"
    p = corun("run", "--", "sh", "-c", "cat >&2", input=data, text=False)
    assert p.returncode == 0
    assert p.stderr == data and p.stdout == b""


def test_pipeline_through_corun(corun):
    p = corun("run", "--", "sh", "-c", "tr a-z A-Z | sort", input="b\na\nc\n")
    assert p.returncode == 0 and p.stdout == "A\nB\nC\n"


def test_stdin_closed_is_passed_on(corun):
    p = corun("run", "--", "cat")  # stdin is /dev/null in the harness
    assert p.returncode == 0 and p.stdout == ""


def test_arguments_verbatim(corun):
    args = ["--", "--help", "--cpus", "0", "a b", "", "*", "$HOME", "é", "-"]
    p = corun("run", "--", "printf", "[%s]\\n", *args)
    assert p.returncode == 0, p.stderr
    assert p.stdout == "".join(f"[{a}]\n" for a in args)


def test_arguments_without_separator(corun):
    p = corun("run", "printf", "%s,", "--cpus", "x")
    assert p.returncode == 0 and p.stdout == "--cpus,x,"


def test_cwd_is_kept(corun):
    sub = corun.tmp / "dir with space"
    sub.mkdir()
    p = corun("run", "--", "pwd", cwd=sub)
    assert p.stdout.strip() == str(sub)


def test_command_from_path_and_relative(corun):
    script = corun.tmp / "hello.sh"
    script.write_text("#!/bin/sh\necho hello \"$@\"\n")
    script.chmod(0o755)
    assert corun("run", "--", "./hello.sh", "x").stdout == "hello x\n"
    p = corun("run", "--", "hello.sh", "y", env={"PATH": f"{corun.tmp}:{os.environ.get('PATH', '')}"})
    assert p.stdout == "hello y\n"


# --- the managed environment ------------------------------------------------------------------

def test_managed_environment(corun):
    spelled = ",".join(str(c) for c in reversed(AFFINITY))
    p = corun("run", "--cpus", spelled, "--quantum", "2.5", "--log-level", "INFO", "--", "env", "-0",
              env={"CORUN_TEST_KEEP": "kept value"}, text=False)
    env = child_env(p)
    preload = env["LD_PRELOAD"].replace(":", " ").split()
    assert preload[0] == LIBCORUN and os.path.isabs(preload[0])
    assert env["CORUN_INSTANCE"] == corun.instance
    assert env["CORUN_CPUS"] == format_cpulist(AFFINITY)
    assert env["CORUN_QUANTUM_US"] == "2500"
    assert env["CORUN_LOG_LEVEL"] == "info"
    assert "CORUN_QUANTUM_MS" not in env
    assert env["CORUN_TEST_KEEP"] == "kept value"
    assert env["PATH"] == corun.env()["PATH"]


def test_managed_environment_defaults(corun):
    env = child_env(corun("run", "--", "env", "-0", text=False))
    assert env["CORUN_CPUS"] == format_cpulist(AFFINITY)
    assert env["CORUN_QUANTUM_US"] == "20000"
    assert env["LD_PRELOAD"].split()[0] == LIBCORUN


@pytest.mark.skipif(len(AFFINITY) < 2, reason="needs 2 CPUs")
def test_default_cpus_is_the_inherited_affinity(corun):
    env = child_env(corun("run", "--", "env", "-0", text=False, affinity={AFFINITY[-1]}))
    assert env["CORUN_CPUS"] == str(AFFINITY[-1])


def test_env_quantum_ms_becomes_us(corun):
    env = child_env(corun("run", "--", "env", "-0", env={"CORUN_QUANTUM_MS": "3"}, text=False))
    assert env["CORUN_QUANTUM_US"] == "3000" and "CORUN_QUANTUM_MS" not in env


def test_descendants_inherit_environment(corun):
    p = corun("run", "--", "sh", "-c", "sh -c 'env -0'", text=False)
    env = child_env(p)
    assert env["LD_PRELOAD"].split()[0] == LIBCORUN and env["CORUN_INSTANCE"] == corun.instance


# How each option shows in a managed process's environment.
SHOWN_AS = {
    "cpus": ("CORUN_CPUS", lambda v: format_cpulist(int(c) for c in v.split(","))),
    "quantum_ms": ("CORUN_QUANTUM_US", lambda v: str(round(float(v) * 1000))),
    "instance": ("CORUN_INSTANCE", str),
    "log_level": ("CORUN_LOG_LEVEL", str.lower),
    "thread_cache": ("CORUN_THREAD_CACHE", lambda v: str(int(v))),
}


def _values(corun, name):
    """Three distinct valid values for the option (cli, env, config)."""
    return {
        "cpus": [str(AFFINITY[0]), str(AFFINITY[-1]), ",".join(map(str, AFFINITY))],
        "quantum_ms": ["3", "4", "6"],
        "instance": [corun.instance + "-cli", corun.instance + "-env", corun.instance + "-cfg"],
        "log_level": ["debug", "info", "error"],
        "thread_cache": ["0", "7", "128"],
    }[name]


def test_shown_as_covers_every_option():
    assert set(SHOWN_AS) == {o.name for o in OPTIONS}


@pytest.mark.parametrize("present", [("cli", "env", "config"), ("env", "config"), ("config",)], ids="+".join)
@pytest.mark.parametrize("opt", OPTIONS, ids=lambda o: o.name)
def test_precedence_end_to_end(corun, opt, present):
    cli_v, env_v, cfg_v = _values(corun, opt.name)
    cfg = corun.tmp / "c.toml"
    literal = cfg_v if opt.name == "quantum_ms" else f'"{cfg_v}"'
    cfg.write_text(f"[run]\n{opt.name} = {literal}\n")
    args = ["--config", str(cfg)]
    env = {}
    if "cli" in present:
        args += [opt.flag, cli_v]
    if "env" in present:
        env[opt.env] = env_v
    p = corun("run", *args, "--", "env", "-0", env=env, text=False,
              instance=None if opt.name == "instance" and "env" not in present else "auto")
    var, shown = SHOWN_AS[opt.name]
    expected = {"cli": cli_v, "env": env_v, "config": cfg_v}[present[0]]
    assert child_env(p)[var] == shown(expected)
