"""`corun run` with bad input: exit 2, one line 'corun: error: ...' on stderr, CMD never started.

CMD is always a command that would create a marker file; every test asserts the file is absent.
test_marker_cmd_starts_with_good_options is the positive control: the same CMD does leave the
marker when the options are good, so an absent marker means CMD really did not start.
"""
from __future__ import annotations

import os

import pytest

from corun.run.options import OPTIONS

AFFINITY = sorted(os.sched_getaffinity(0))
OUTSIDE = max(AFFINITY) + 1
BY_NAME = {o.name: o for o in OPTIONS}

# One clearly bad value per option, in every source (generated over OPTIONS below).
BAD_VALUE = {"cpus": "a", "quantum_ms": "abc", "instance": "a/b", "log_level": "loud", "thread_cache": "-1"}

BAD_CLI = [  # the breadth of bad values is covered in-process by tests/run/test_run_options.py
    ("--cpus", "a"), ("--cpus", "3-1"), ("--cpus", "1,,2"), ("--cpus", "-1"), ("--cpus", ""),
    ("--cpus", "0-99999999999"), ("--cpus", str(OUTSIDE)), ("--cpus", f"{AFFINITY[0]},{OUTSIDE}"),
    ("--quantum", "abc"), ("--quantum", "0"), ("--quantum", "-1"), ("--quantum", "1e12"), ("--quantum", "nan"),
    ("--instance", "a/b"), ("--instance", ""), ("--instance", "x" * 65),
    ("--log-level", "loud"), ("--log-level", ""),
    ("--thread-cache", "-1"), ("--thread-cache", "lots"), ("--thread-cache", "100001"),
]


def test_bad_values_cover_every_option():
    assert set(BAD_VALUE) == {o.name for o in OPTIONS}
    assert {f for f, _ in BAD_CLI} == {o.flag for o in OPTIONS}


def test_marker_cmd_starts_with_good_options(corun):
    cmd, marker = corun.marker()
    p = corun("run", "--cpus", str(AFFINITY[0]), "--quantum", "5", "--", *cmd)
    assert p.returncode == 0, p.stderr
    assert marker.exists()


@pytest.mark.parametrize("flag, value", BAD_CLI, ids=lambda x: repr(x)[:24])
def test_bad_cli_value(corun, flag, value):
    cmd, marker = corun.marker()
    line = corun.error(corun("run", flag, value, "--", *cmd))
    assert flag in line
    assert not marker.exists()


@pytest.mark.parametrize("name", sorted(BAD_VALUE))
def test_bad_cli_value_with_equals_and_no_separator(corun, name):
    """--flag=VALUE and CMD without '--' are parsed the same way."""
    cmd, marker = corun.marker()
    corun.error(corun("run", f"{BY_NAME[name].flag}={BAD_VALUE[name]}", *cmd))
    assert not marker.exists()


@pytest.mark.parametrize("name", sorted(BAD_VALUE))
def test_bad_env_value(corun, name):
    opt = BY_NAME[name]
    cmd, marker = corun.marker()
    line = corun.error(corun("run", "--", *cmd, env={opt.env: BAD_VALUE[name]}))
    assert opt.env in line
    assert not marker.exists()


@pytest.mark.parametrize("env", [
    {"CORUN_QUANTUM_MS": "abc"}, {"CORUN_QUANTUM_MS": "0"}, {"CORUN_QUANTUM_MS": "-3"},
    {"CORUN_CPUS": str(OUTSIDE)}, {"CORUN_CPUS": "0-"}, {"CORUN_INSTANCE": "x" * 65},
    {"CORUN_LOG_LEVEL": "verbose"},
], ids=lambda e: "=".join(next(iter(e.items())))[:30])
def test_bad_env_values(corun, env):
    cmd, marker = corun.marker()
    line = corun.error(corun("run", "--", *cmd, env=env, instance=None if "CORUN_INSTANCE" in env else "auto"))
    assert next(iter(env)) in line
    assert not marker.exists()


@pytest.mark.parametrize("name", sorted(BAD_VALUE))
def test_bad_config_value(corun, name):
    cfg = corun.tmp / "c.toml"
    cfg.write_text(f'[run]\n{name} = "{BAD_VALUE[name]}"\n')
    cmd, marker = corun.marker()
    line = corun.error(corun("run", "--config", str(cfg), "--", *cmd, instance=None))  # no env to win
    assert str(cfg) in line and name in line
    assert not marker.exists()


BAD_CONFIGS = {
    "invalid-toml": "[run\ncpus = '0'\n",
    "invalid-toml-value": "[run]\nquantum_ms = \n",
    "unknown-key": "[run]\nquantum = 5\n",
    "run-not-a-table": "run = 'fast'\n",
    "quantum-bool": "[run]\nquantum_ms = true\n",
    "quantum-string": "[run]\nquantum_ms = 'abc'\n",
    "quantum-zero": "[run]\nquantum_ms = 0\n",
    "cpus-array": "[run]\ncpus = [0, 1]\n",
    "cpus-outside": f"[run]\ncpus = '{OUTSIDE}'\n",
    "instance-int": "[run]\ninstance = 5\n",
    "log-level-table": "[run]\nlog_level = {a = 1}\n",
}


@pytest.mark.parametrize("kind, how", [(k, "--config") for k in sorted(BAD_CONFIGS)] +
                         [("invalid-toml", "CORUN_CONFIG"), ("unknown-key", "xdg"), ("quantum-bool", "xdg")])
def test_bad_config_file(corun, kind, how):
    if how == "xdg":
        cfg = corun.xdg / "corun" / "config.toml"
        cfg.parent.mkdir(parents=True)
    else:
        cfg = corun.tmp / "c.toml"
    cfg.write_text(BAD_CONFIGS[kind])
    args, env = [], {}
    if how == "--config":
        args = ["--config", str(cfg)]
    elif how == "CORUN_CONFIG":
        env = {"CORUN_CONFIG": str(cfg)}
    cmd, marker = corun.marker()
    line = corun.error(corun("run", *args, "--", *cmd, env=env))
    assert str(cfg) in line
    assert not marker.exists()


@pytest.mark.parametrize("how", ["--config", "CORUN_CONFIG"])
def test_missing_explicit_config(corun, how):
    missing = corun.tmp / "missing.toml"
    args, env = (["--config", str(missing)], {}) if how == "--config" else ([], {"CORUN_CONFIG": str(missing)})
    cmd, marker = corun.marker()
    line = corun.error(corun("run", *args, "--", *cmd, env=env))
    assert str(missing) in line
    assert not marker.exists()


def test_config_is_a_directory(corun):
    cmd, marker = corun.marker()
    corun.error(corun("run", "--config", str(corun.tmp), "--", *cmd))
    assert not marker.exists()


def test_unreadable_config(corun):
    if os.geteuid() == 0:
        pytest.skip("root reads any file")
    cfg = corun.tmp / "c.toml"
    cfg.write_text("[run]\n")
    cfg.chmod(0)
    cmd, marker = corun.marker()
    corun.error(corun("run", "--config", str(cfg), "--", *cmd))
    assert not marker.exists()


@pytest.mark.parametrize("args", [
    ["--quantum"], ["--cpus"], ["--instance"], ["--log-level"], ["--config"],
    ["--quantum", "--", "CMD"], ["--bogus-option", "--", "CMD"], ["--cpus", "0", "--nope", "--", "CMD"],
], ids=" ".join)
def test_argparse_usage_errors(corun, args):
    cmd, marker = corun.marker()
    full = [x for a in args for x in (cmd if a == "CMD" else [a])]
    corun.error(corun("run", *full))
    assert not marker.exists()


@pytest.mark.skipif(len(AFFINITY) < 2, reason="needs 2 CPUs")
@pytest.mark.parametrize("source", ["cli", "env"])
def test_cpus_outside_inherited_affinity(corun, source):
    """Under `taskset -c A`, asking for CPU B is an error even though the machine has B."""
    cmd, marker = corun.marker()
    args, env = (["--cpus", str(AFFINITY[-1])], {}) if source == "cli" else ([], {"CORUN_CPUS": str(AFFINITY[-1])})
    line = corun.error(corun("run", *args, "--", *cmd, env=env, affinity={AFFINITY[0]}))
    assert str(AFFINITY[-1]) in line and "affinity" in line
    assert not marker.exists()


def test_bad_option_wins_over_missing_command(corun):
    """Options are checked first: a bad value is a usage error (2) even when CMD does not exist."""
    line = corun.error(corun("run", "--quantum", "0", "--", "no-such-command-corun-test"))
    assert "--quantum" in line


# --- CMD problems -----------------------------------------------------------------------------

@pytest.mark.parametrize("args", [[], ["--"], ["--cpus", str(AFFINITY[0])], ["--cpus", str(AFFINITY[0]), "--"]],
                         ids=lambda a: " ".join(a) or "nothing")
def test_no_command(corun, args):
    corun.error(corun("run", *args), 2)


def test_command_not_found(corun):
    line = corun.error(corun("run", "--", "no-such-command-corun-test", "arg"), 127)
    assert "no-such-command-corun-test" in line


def test_command_path_not_found(corun):
    missing = corun.tmp / "nope" / "cmd"
    line = corun.error(corun("run", "--", str(missing)), 127)
    assert str(missing) in line


def test_command_is_a_directory(corun):
    corun.error(corun("run", "--", str(corun.tmp)), 126)


def test_command_not_executable(corun):
    f = corun.tmp / "script.sh"
    f.write_text("#!/bin/sh\ntouch started\n")
    f.chmod(0o644)
    corun.error(corun("run", "--", str(f)), 126)  # no x bit: not executable, even for root
    assert not (corun.tmp / "started").exists()


def test_command_with_bad_format(corun):
    """An executable file the kernel cannot run (no #!): like a shell, run it with /bin/sh, or
    fail with one line and 126 - never a traceback."""
    f = corun.tmp / "noshebang"
    f.write_text("echo ran\n")
    f.chmod(0o755)
    p = corun("run", "--", str(f))
    if p.returncode == 0:
        assert p.stdout == "ran\n"
    else:
        corun.error(p, 126)


def test_errors_go_to_stderr_only_and_in_one_line_even_with_newline_values(corun):
    line = corun.error(corun("run", "--instance", "a\nb\nc", "--", "true"))
    assert "\\n" in line  # the value is quoted, not printed raw
