"""Options of ``corun run`` and where they come from: command line > environment > TOML file.

Every option has one entry in OPTIONS; the CLI, the environment names, the config keys and
``--help`` are all generated from it, so they cannot drift apart.

Config file (``--config FILE``, ``$CORUN_CONFIG``, else ``$XDG_CONFIG_HOME/corun/config.toml``
when it exists)::

    [run]
    cpus = "0-7"
    quantum_ms = 20
    instance = "default"
    log_level = "warning"
    thread_cache = 64
"""
from __future__ import annotations

import os
import re
import tomllib
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Callable

from corun.run.cpulist import CpuListError, format_cpulist, parse_cpulist


class OptionError(ValueError):
    """A bad option value, environment variable or config file (one-line message)."""


LOG_LEVELS = ("error", "warning", "info", "debug")
_INSTANCE_RE = re.compile(r"^[A-Za-z0-9_.-]{1,64}$")


def _cpus(value: Any) -> list[int]:
    try:
        cpus = parse_cpulist(str(value))
    except CpuListError as e:
        raise OptionError(str(e)) from None
    allowed = os.sched_getaffinity(0)
    outside = [c for c in cpus if c not in allowed]
    if outside:
        raise OptionError(f"CPUs {format_cpulist(outside)} are not in this process's affinity "
                          f"({format_cpulist(allowed)})")
    return cpus


def _quantum(value: Any) -> float:
    try:
        q = float(value)
    except (TypeError, ValueError):
        raise OptionError(f"quantum must be a number of milliseconds, got {value!r}") from None
    if not 0.1 <= q <= 10000:
        raise OptionError(f"quantum must be between 0.1 and 10000 ms, got {value!r}")
    return q


def _thread_cache(value: Any) -> int:
    s = str(value).strip()
    if not s.isdigit() or not 0 <= int(s) <= 100000:
        raise OptionError(f"thread cache must be a whole number of threads from 0 (off) to 100000, got {value!r}")
    return int(s)


def _instance(value: Any) -> str:
    s = str(value)
    if not _INSTANCE_RE.match(s):
        raise OptionError(f"instance name must be 1-64 characters of [A-Za-z0-9_.-], got {s!r}")
    return s


def _level(value: Any) -> str:
    s = str(value).lower()
    if s not in LOG_LEVELS:
        raise OptionError(f"log level must be one of {', '.join(LOG_LEVELS)}, got {value!r}")
    return s


@dataclass(frozen=True)
class Option:
    name: str            # attribute and TOML key
    flag: str            # command-line flag
    env: str             # environment variable
    parse: Callable[[Any], Any]
    metavar: str
    help: str
    default: Callable[[], Any] = field(default=lambda: None)
    toml_types: tuple[type, ...] = (str,)  # TOML value types accepted in the [run] table


OPTIONS: tuple[Option, ...] = (
    Option("cpus", "--cpus", "CORUN_CPUS", _cpus, "LIST",
           "managed CPUs in taskset syntax (0-3,8); default: the inherited affinity",
           lambda: sorted(os.sched_getaffinity(0)), (str, int)),
    Option("quantum_ms", "--quantum", "CORUN_QUANTUM_MS", _quantum, "MS",
           "time slice of a process before the next one takes its turn (default 20)", lambda: 20.0,
           (int, float)),
    Option("instance", "--instance", "CORUN_INSTANCE", _instance, "NAME",
           "scheduler instance to join; processes of one instance share the cores (default: default)",
           lambda: "default"),
    Option("log_level", "--log-level", "CORUN_LOG_LEVEL", _level, "LEVEL",
           "diagnostics on stderr: error, warning, info, debug (default warning)", lambda: "warning"),
    Option("thread_cache", "--thread-cache", "CORUN_THREAD_CACHE", _thread_cache, "N",
           "finished threads each process keeps for reuse by later pthread_create calls; 0 turns the "
           "thread cache off (default 64)", lambda: 64, (int, str)),
)


@dataclass
class RunOptions:
    cpus: list[int]
    quantum_ms: float
    instance: str
    log_level: str
    thread_cache: int
    sources: dict[str, str]  # option name -> "cli" | "env" | "config FILE" | "default"


def default_config_path(env: dict[str, str] | None = None) -> Path:
    env = os.environ if env is None else env
    base = env.get("XDG_CONFIG_HOME") or os.path.join(env.get("HOME") or os.path.expanduser("~"), ".config")
    return Path(base) / "corun" / "config.toml"


def load_config(path: str | os.PathLike | None, required: bool) -> tuple[dict[str, Any], str]:
    if path is None:
        return {}, ""
    p = Path(path)
    try:
        data = tomllib.loads(p.read_text(encoding="utf-8"))
    except FileNotFoundError:
        if required:
            raise OptionError(f"config file {p} does not exist") from None
        return {}, ""
    except (OSError, UnicodeDecodeError) as e:
        raise OptionError(f"cannot read config file {p}: {e}") from None
    except tomllib.TOMLDecodeError as e:
        raise OptionError(f"config file {p} is not valid TOML: {e}") from None
    section = data.get("run", {})
    if not isinstance(section, dict):
        raise OptionError(f"config file {p}: [run] must be a table")
    known = {o.name for o in OPTIONS}
    unknown = sorted(set(section) - known)
    if unknown:
        raise OptionError(f"config file {p}: unknown key(s) in [run]: {', '.join(unknown)} "
                          f"(known: {', '.join(sorted(known))})")
    for o in OPTIONS:  # bool is an int in Python, never a valid option value
        v = section.get(o.name)
        if v is not None and (isinstance(v, bool) or not isinstance(v, o.toml_types)):
            want = " or ".join({str: "string", int: "integer", float: "float"}[t] for t in o.toml_types)
            raise OptionError(f"config file {p}: [run] {o.name}: expected {want}, got {type(v).__name__} {v!r}")
    return section, f"config {p}"


def resolve(cli: dict[str, Any], env: dict[str, str] | None = None,
            config_path: str | None = None) -> RunOptions:
    """Merge the sources, CLI > environment > config file > defaults, and validate every value."""
    env = dict(os.environ if env is None else env)
    explicit = config_path or env.get("CORUN_CONFIG")
    cfg, cfg_name = load_config(explicit or default_config_path(env), required=bool(explicit))
    values, sources = {}, {}
    for opt in OPTIONS:
        if cli.get(opt.name) is not None:
            raw, src = cli[opt.name], "cli"
        elif env.get(opt.env):
            raw, src = env[opt.env], "env"
        elif opt.name in cfg:
            raw, src = cfg[opt.name], cfg_name
        else:
            values[opt.name], sources[opt.name] = opt.default(), "default"
            continue
        try:
            values[opt.name] = opt.parse(raw)
        except OptionError as e:
            where = {"cli": opt.flag, "env": f"${opt.env}"}.get(src, f"{src}: {opt.name}")
            raise OptionError(f"{where}: {e}") from None
        sources[opt.name] = src
    return RunOptions(sources=sources, **values)
