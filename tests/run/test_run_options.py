"""Options of ``corun run``: CLI > environment > TOML config file > default, and their errors.

Everything here is generated from OPTIONS, so a new option that is not covered fails
test_samples_cover_every_option instead of going untested.
"""
from __future__ import annotations

import itertools
import os
from pathlib import Path

import pytest

from corun.run.options import OPTIONS, OptionError, RunOptions, default_config_path, resolve

AFFINITY = sorted(os.sched_getaffinity(0))
BY_NAME = {o.name: o for o in OPTIONS}


def _cpu_samples():
    """Three spellings from the inherited affinity (distinct sets when there are 2+ CPUs)."""
    first, last = AFFINITY[0], AFFINITY[-1]
    return [(str(first), [first]), (str(last), [last]), (",".join(map(str, AFFINITY)), AFFINITY)]


# name -> [(value as given on the command line / in the environment, TOML literal, parsed value)]
SAMPLES = {
    "cpus": [(t, f'"{t}"', v) for t, v in _cpu_samples()],
    "quantum_ms": [("5", "5", 5.0), ("7.5", "7.5", 7.5), ("0.25", "0.25", 0.25)],
    "instance": [("inst-cli", '"inst-cli"', "inst-cli"), ("inst.env_1", '"inst.env_1"', "inst.env_1"),
                 ("cfg", '"cfg"', "cfg")],
    "log_level": [("debug", '"debug"', "debug"), ("INFO", '"INFO"', "info"), ("error", '"error"', "error")],
    "thread_cache": [("0", "0", 0), ("8", "8", 8), ("100000", '"100000"', 100000)],
}

DEFAULTS = {"cpus": AFFINITY, "quantum_ms": 20.0, "instance": "default", "log_level": "warning",
            "thread_cache": 64}

# Bad values in every source; the empty string is not included for the environment (an empty
# variable counts as unset).
OUTSIDE = max(AFFINITY) + 1
BAD = {
    "cpus": ["a", "3-1", "1,,2", "-1", "", "0-3:0", str(OUTSIDE), f"{AFFINITY[0]},{OUTSIDE}", "²"],
    "quantum_ms": ["abc", "0", "-1", "-20", "0.01", "1e9", "99999999999999999999", "nan", "inf", "20ms", ""],
    "instance": ["", "a/b", "a b", "x" * 65, "../etc", "é", "a\nb"],
    "log_level": ["", "loud", "warn", "0", "debug,info"],
    "thread_cache": ["", "-1", "100001", "1.5", "many", "0x10", "1e3"],
}


@pytest.fixture(autouse=True)
def isolated(tmp_path, monkeypatch):
    """No user config, no CORUN_* from the caller's environment. (resolve(env={...}) without
    XDG_CONFIG_HOME falls back to ~/.config, so HOME is isolated too.)"""
    monkeypatch.setenv("XDG_CONFIG_HOME", str(tmp_path / "xdg"))
    monkeypatch.setenv("HOME", str(tmp_path / "home"))
    for k in list(os.environ):
        if k.startswith("CORUN_"):
            monkeypatch.delenv(k)


def write_config(path: Path, body: str) -> Path:
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(body)
    return path


def test_samples_cover_every_option():
    names = {o.name for o in OPTIONS}
    assert set(SAMPLES) == names
    assert set(BAD) == names
    assert set(DEFAULTS) == names


def test_option_table_is_consistent():
    assert len({o.flag for o in OPTIONS}) == len(OPTIONS)
    assert len({o.env for o in OPTIONS}) == len(OPTIONS)
    for o in OPTIONS:
        assert o.flag.startswith("--") and o.env.startswith("CORUN_") and o.help


def test_defaults():
    opts = resolve({}, env={})
    assert isinstance(opts, RunOptions)
    for name, value in DEFAULTS.items():
        assert getattr(opts, name) == value
        assert opts.sources[name] == "default"


@pytest.mark.parametrize("name", sorted(SAMPLES))
@pytest.mark.parametrize("present", [c for n in range(4) for c in itertools.combinations(("cli", "env", "config"), n)],
                         ids=lambda c: "+".join(c) or "none")
def test_precedence(tmp_path, name, present):
    opt = BY_NAME[name]
    (cli_v, _, cli_p), (env_v, _, env_p), (_, cfg_toml, cfg_p) = SAMPLES[name]
    cli, env, config = {}, {}, None
    if "cli" in present:
        cli[name] = cli_v
    if "env" in present:
        env[opt.env] = env_v
    if "config" in present:
        config = str(write_config(tmp_path / "c.toml", f"[run]\n{name} = {cfg_toml}\n"))
    opts = resolve(cli, env=env, config_path=config)
    winner = next((s for s in ("cli", "env", "config") if s in present), "default")
    expected = {"cli": cli_p, "env": env_p, "config": cfg_p, "default": DEFAULTS[name]}[winner]
    assert getattr(opts, name) == expected
    assert opts.sources[name] == (f"config {config}" if winner == "config" else winner)
    for other in OPTIONS:  # only the option under test moved away from its default
        if other.name != name:
            assert getattr(opts, other.name) == DEFAULTS[other.name]
            assert opts.sources[other.name] == "default"


def test_all_options_from_each_source_at_once(tmp_path):
    cfg = write_config(tmp_path / "c.toml", "[run]\n" + "".join(f"{n} = {s[2][1]}\n" for n, s in SAMPLES.items()))
    env = {BY_NAME[n].env: s[1][0] for n, s in SAMPLES.items()}
    cli = {n: s[0][0] for n, s in SAMPLES.items()}
    assert {n: getattr(resolve(cli, env=env, config_path=str(cfg)), n) for n in SAMPLES} == \
        {n: s[0][2] for n, s in SAMPLES.items()}
    assert {n: getattr(resolve({}, env=env, config_path=str(cfg)), n) for n in SAMPLES} == \
        {n: s[1][2] for n, s in SAMPLES.items()}
    assert {n: getattr(resolve({}, env={}, config_path=str(cfg)), n) for n in SAMPLES} == \
        {n: s[2][2] for n, s in SAMPLES.items()}


def test_resolve_defaults_to_process_environment(monkeypatch):
    for name, samples in SAMPLES.items():
        monkeypatch.setenv(BY_NAME[name].env, samples[1][0])
    opts = resolve({})
    for name, samples in SAMPLES.items():
        assert getattr(opts, name) == samples[1][2]
        assert opts.sources[name] == "env"


# --- where the config file comes from -------------------------------------------------------

def test_default_config_path_follows_xdg(tmp_path):
    assert default_config_path({"XDG_CONFIG_HOME": str(tmp_path)}) == tmp_path / "corun" / "config.toml"
    assert default_config_path({"HOME": str(tmp_path)}) == tmp_path / ".config" / "corun" / "config.toml"


def test_config_from_xdg_default(tmp_path):
    write_config(tmp_path / "xdg" / "corun" / "config.toml", "[run]\nquantum_ms = 3\n")
    opts = resolve({}, env={"XDG_CONFIG_HOME": str(tmp_path / "xdg")})
    assert opts.quantum_ms == 3.0
    assert opts.sources["quantum_ms"] == f"config {tmp_path / 'xdg' / 'corun' / 'config.toml'}"


def test_config_from_corun_config_env_beats_xdg(tmp_path):
    write_config(tmp_path / "xdg" / "corun" / "config.toml", "[run]\nquantum_ms = 3\n")
    other = write_config(tmp_path / "other.toml", "[run]\nquantum_ms = 4\n")
    opts = resolve({}, env={"XDG_CONFIG_HOME": str(tmp_path / "xdg"), "CORUN_CONFIG": str(other)})
    assert opts.quantum_ms == 4.0


def test_explicit_config_beats_corun_config_env(tmp_path):
    a = write_config(tmp_path / "a.toml", "[run]\nquantum_ms = 3\n")
    b = write_config(tmp_path / "b.toml", "[run]\nquantum_ms = 4\n")
    assert resolve({}, env={"CORUN_CONFIG": str(a)}, config_path=str(b)).quantum_ms == 4.0


def test_config_from_home_when_no_xdg(tmp_path):
    write_config(tmp_path / "h" / ".config" / "corun" / "config.toml", "[run]\nquantum_ms = 8\n")
    assert resolve({}, env={"HOME": str(tmp_path / "h")}).quantum_ms == 8.0


def test_missing_default_config_is_fine(tmp_path):
    assert resolve({}, env={"XDG_CONFIG_HOME": str(tmp_path / "nowhere")}).quantum_ms == 20.0


def test_config_without_run_table_gives_defaults(tmp_path):
    cfg = write_config(tmp_path / "c.toml", "[bench]\nrepeat = 3\n")
    opts = resolve({}, env={}, config_path=str(cfg))
    assert all(opts.sources[o.name] == "default" for o in OPTIONS)


def test_config_integer_cpus_and_quantum(tmp_path):
    cfg = write_config(tmp_path / "c.toml", f"[run]\ncpus = {AFFINITY[0]}\nquantum_ms = 12\n")
    opts = resolve({}, env={}, config_path=str(cfg))
    assert opts.cpus == [AFFINITY[0]] and opts.quantum_ms == 12.0


# --- errors: one line, naming where the bad value came from ----------------------------------

def _one_line_error(fn, *args, **kw) -> str:
    with pytest.raises(OptionError) as e:
        fn(*args, **kw)
    msg = str(e.value)
    assert msg.strip() and "\n" not in msg, msg
    return msg


@pytest.mark.parametrize("name, value", [(n, v) for n, vs in BAD.items() for v in vs])
def test_bad_cli_value(name, value):
    msg = _one_line_error(resolve, {name: value}, env={})
    assert msg.startswith(BY_NAME[name].flag + ":")


@pytest.mark.parametrize("name, value", [(n, v) for n, vs in BAD.items() for v in vs if v])
def test_bad_env_value(name, value):
    msg = _one_line_error(resolve, {}, env={BY_NAME[name].env: value})
    assert msg.startswith("$" + BY_NAME[name].env + ":")


@pytest.mark.parametrize("name, value", [(n, v) for n, vs in BAD.items() for v in vs if "\n" not in v])
def test_bad_config_value(tmp_path, name, value):
    literal = value if name == "quantum_ms" and _is_number(value) else f'"{value}"'
    cfg = write_config(tmp_path / "c.toml", f"[run]\n{name} = {literal}\n")
    msg = _one_line_error(resolve, {}, env={}, config_path=str(cfg))
    assert msg.startswith("config") and str(cfg) in msg and name in msg


def _is_number(s: str) -> bool:
    try:
        float(s)
    except ValueError:
        return False
    return True  # nan and inf are TOML floats too


def test_bad_value_overridden_by_higher_source_is_not_used(tmp_path):
    """Only the winning source is validated: a good CLI value hides a bad environment value."""
    opts = resolve({"quantum_ms": "5"}, env={"CORUN_QUANTUM_MS": "abc"})
    assert opts.quantum_ms == 5.0


def test_missing_explicit_config(tmp_path):
    msg = _one_line_error(resolve, {}, env={}, config_path=str(tmp_path / "nope.toml"))
    assert "nope.toml" in msg and "does not exist" in msg


def test_missing_corun_config_file(tmp_path):
    msg = _one_line_error(resolve, {}, env={"CORUN_CONFIG": str(tmp_path / "nope.toml")})
    assert "nope.toml" in msg


@pytest.mark.parametrize("body, words", [
    ("[run\ncpus = '0'\n", ["not valid TOML"]),
    ("[run]\ncpus = \n", ["not valid TOML"]),
    ("[run]\nquantum_ms = 1\nquantum_ms = 2\n", ["not valid TOML"]),
    ("[run]\ncpu = '0'\n", ["unknown", "cpu"]),
    ("[run]\nquantum = 5\nfoo = 1\n", ["unknown", "foo", "quantum"]),
    ("run = 3\n", ["[run]", "table"]),
    ("run = [1, 2]\n", ["[run]", "table"]),
    ("[run]\nquantum_ms = true\n", ["quantum_ms"]),
    ("[run]\nquantum_ms = '20'\n", ["quantum_ms"]),
    ("[run]\nquantum_ms = [20]\n", ["quantum_ms"]),
    ("[run]\ncpus = [0, 1]\n", ["cpus"]),
    ("[run]\ncpus = true\n", ["cpus"]),
    ("[run]\ncpus = 1.5\n", ["cpus"]),
    ("[run]\ninstance = 5\n", ["instance"]),
    ("[run]\ninstance = {a = 1}\n", ["instance"]),
    ("[run]\nlog_level = 1\n", ["log_level"]),
    ("[run]\nlog_level = false\n", ["log_level"]),
    ("[run.cpus]\nx = 1\n", ["cpus"]),
])
def test_bad_config_file(tmp_path, body, words):
    cfg = write_config(tmp_path / "c.toml", body)
    msg = _one_line_error(resolve, {}, env={}, config_path=str(cfg))
    assert str(cfg) in msg
    for w in words:
        assert w in msg


def test_config_is_a_directory(tmp_path):
    msg = _one_line_error(resolve, {}, env={}, config_path=str(tmp_path))
    assert str(tmp_path) in msg


def test_config_not_utf8(tmp_path):
    cfg = tmp_path / "c.toml"
    cfg.write_bytes(b"[run]\ninstance = \"\xff\xfe\"\n")
    assert str(cfg) in _one_line_error(resolve, {}, env={}, config_path=str(cfg))


def test_bad_default_config_is_an_error_too(tmp_path):
    """The implicit $XDG_CONFIG_HOME/corun/config.toml is optional, but when present it must be valid."""
    write_config(tmp_path / "xdg" / "corun" / "config.toml", "[run]\nnope = 1\n")
    _one_line_error(resolve, {}, env={"XDG_CONFIG_HOME": str(tmp_path / "xdg")})


def test_cpus_outside_affinity_names_them():
    msg = _one_line_error(resolve, {"cpus": f"{AFFINITY[0]},{OUTSIDE}"}, env={})
    assert str(OUTSIDE) in msg and "affinity" in msg
