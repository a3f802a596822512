"""`corun` top level: --version, help, usage errors."""
from __future__ import annotations

import re
import shutil
import subprocess

import pytest

import corun as corun_pkg
from corun.run.options import OPTIONS


def test_version(corun):
    p = corun("--version")
    assert p.returncode == 0, p.stderr
    assert p.stdout.strip() == f"corun {corun_pkg.__version__}"
    assert re.fullmatch(r"\d+\.\d+\.\d+\S*", corun_pkg.__version__)


def test_console_script_matches_module(corun):
    exe = shutil.which("corun", path=corun.env()["PATH"])
    if exe is None:
        pytest.skip("corun console script not on PATH")
    p = subprocess.run([exe, "--version"], capture_output=True, text=True, env=corun.env(), timeout=30)
    assert p.returncode == 0 and p.stdout.strip() == f"corun {corun_pkg.__version__}"


def test_no_arguments_prints_help_and_exits_2(corun):
    p = corun()
    assert p.returncode == 2
    assert p.stdout.startswith("usage: corun")
    for sub in ("run", "status"):
        assert re.search(rf"^\s+{sub}\s", p.stdout, re.M), p.stdout


def test_top_level_help(corun):
    p = corun("--help")
    assert p.returncode == 0 and p.stdout.startswith("usage: corun") and p.stderr == ""
    assert "--version" in p.stdout


def test_unknown_subcommand(corun):
    line = corun.error(corun("no-such-command"))
    assert "no-such-command" in line


def test_run_help_documents_every_option(corun):
    p = corun("run", "--help", env={"COLUMNS": "1000"})  # one line per option: flag and env together
    assert p.returncode == 0 and p.stderr == ""
    lines = p.stdout.splitlines()
    for o in OPTIONS:
        entry = [ln for ln in lines if re.match(rf"\s+{re.escape(o.flag)} {o.metavar}\b", ln)]
        assert len(entry) == 1, (o.flag, p.stdout)
        assert o.env in entry[0], entry[0]
        assert o.help.split(";")[0].split("(")[0].strip() in entry[0]
    config = [ln for ln in lines if re.match(r"\s+--config FILE\b", ln)]
    assert len(config) == 1 and "CORUN_CONFIG" in config[0] and "XDG_CONFIG_HOME" in config[0]
    assert "CMD" in p.stdout


def test_run_help_at_narrow_width_still_names_every_env_variable(corun):
    p = corun("run", "--help", env={"COLUMNS": "60"})
    assert p.returncode == 0
    for o in OPTIONS:
        assert o.flag in p.stdout and o.env in p.stdout


def test_run_help_does_not_start_anything(corun):
    cmd, marker = corun.marker()
    p = corun("run", "--help", "--", *cmd)
    assert p.returncode == 0 and not marker.exists()


def test_status_help(corun):
    p = corun("status", "--help")
    assert p.returncode == 0 and "--json" in p.stdout and "--instance" in p.stdout



def test_status_of_unknown_instance(corun):
    """No such instance: exit 1 and one line, not a traceback and not an empty table."""
    name = corun.instance + "-never-created"
    line = corun.error(corun("status", "--instance", name), 1)
    assert line.startswith("corun: error: ")


def test_status_json_of_unknown_instance(corun):
    corun.error(corun("status", "--json", "--instance", corun.instance + "-never-created"), 1)
