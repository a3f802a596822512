"""Command line: ``corun run | status | demo | bench | vlc``.

Subcommands other than ``run`` and ``status`` live with their code and register themselves
through a ``register(subparsers)`` function (corun.bench.cli, corun.vlc.cli), so this file only
knows their names.
"""
from __future__ import annotations

import argparse
import importlib
import json
import os
import sys

from corun import __version__
from corun.run.options import OPTIONS, OptionError, resolve

EXIT_USAGE = 2

PLUGINS = ("corun.bench.cli", "corun.vlc.cli")


def _error(msg: str, code: int = EXIT_USAGE) -> int:
    print(f"corun: error: {msg}", file=sys.stderr)
    return code


class _Parser(argparse.ArgumentParser):
    def error(self, message):  # one line, exit 2 (argparse prints usage first; keep it short)
        self.exit(EXIT_USAGE, f"corun: error: {message}\n")


def _add_run(sub) -> None:
    p = sub.add_parser(
        "run", help="run CMD and all its descendants under the cooperative scheduler",
        description="Run CMD, and every process and thread it starts, as managed processes of a "
                    "node-wide cooperative scheduler (SCHED_COOP): at most one managed thread runs "
                    "per managed core, threads switch when they block or yield, processes take "
                    "turns by quantum. Options may also come from the environment variable shown "
                    "or from the [run] table of a TOML config file; command line wins over "
                    "environment, environment over file.",
        epilog="example: corun run --cpus 0-3 -- python train.py")
    for o in OPTIONS:
        p.add_argument(o.flag, dest=o.name, metavar=o.metavar, default=None,
                       help=f"{o.help} [env {o.env}]")
    p.add_argument("--config", metavar="FILE", default=None,
                   help="TOML file with a [run] table (default: $CORUN_CONFIG, else "
                        "$XDG_CONFIG_HOME/corun/config.toml if it exists)")
    p.add_argument("cmd", nargs=argparse.REMAINDER, metavar="-- CMD [ARGS...]")
    p.set_defaults(func=_cmd_run)


def _cmd_run(args) -> int:
    from corun._native import NativeLibraryMissing
    from corun.run import launcher, native_api

    cmd = list(args.cmd)
    if cmd and cmd[0] == "--":
        cmd = cmd[1:]
    try:
        opts = resolve({o.name: getattr(args, o.name) for o in OPTIONS}, config_path=args.config)
    except OptionError as e:
        return _error(str(e))
    try:
        launcher.exec_managed(opts, cmd)
    except FileNotFoundError as e:
        return _error(str(e), 127 if cmd else EXIT_USAGE)
    except PermissionError as e:
        return _error(str(e), 126)
    except native_api.InstanceError as e:
        return _error(str(e))
    except (NativeLibraryMissing, OSError, AttributeError) as e:  # broken install
        return _error(f"corun's native library cannot be used ({e}); reinstall with 'pip install .'", 1)
    return 0  # not reached: exec_managed replaces this process


def _add_status(sub) -> None:
    p = sub.add_parser("status", help="show what the scheduler instance is doing right now",
                       description="Show an instance's cores, processes and threads.")
    p.add_argument("--instance", default=None, help="instance name (default: $CORUN_INSTANCE or default)")
    p.add_argument("--json", action="store_true", help="print the raw JSON snapshot")
    p.add_argument("--watch", metavar="SECONDS", type=float, default=None,
                   help="refresh every SECONDS until interrupted (like top)")
    p.set_defaults(func=_cmd_status)


def _cmd_status(args) -> int:
    from corun.run import native_api
    from corun.sched import status

    import os

    from corun.run.options import OPTIONS as RUN_OPTIONS

    if args.watch is not None and not 0.05 <= args.watch <= 3600:
        return _error(f"--watch: period must be between 0.05 and 3600 seconds, got {args.watch}")
    instance_opt = next(o for o in RUN_OPTIONS if o.name == "instance")
    raw = args.instance if args.instance is not None else os.environ.get("CORUN_INSTANCE") or "default"
    try:
        instance = instance_opt.parse(raw)
        snap = native_api.snapshot(instance)
        data = json.loads(snap)
    except OptionError as e:
        return _error(f"--instance: {e}")
    except native_api.InstanceError as e:
        return _error(str(e), 1)
    except ValueError as e:
        return _error(f"instance {instance!r} returned a malformed snapshot: {e}", 1)
    if args.watch is not None:
        return _watch_status(instance, args.watch)
    if args.json:
        print(snap)
    else:
        status.print_snapshot(data)
    return 0


def _watch_status(instance: str, period: float) -> int:
    import time

    from rich.console import Console
    from rich.live import Live
    from rich.text import Text

    from corun.run import native_api
    from corun.sched import status

    console = Console()

    def frame() -> str:
        try:
            return status.render_snapshot(json.loads(native_api.snapshot(instance)), console.width)
        except native_api.InstanceError as e:
            return f"{e} (waiting)\n"

    try:
        if not console.is_terminal:  # a log: one frame after another, like `top -b`
            while True:
                print(frame(), flush=True)
                time.sleep(period)
        with Live(console=console, auto_refresh=False) as live:
            while True:
                live.update(Text(frame()), refresh=True)
                time.sleep(period)
    except KeyboardInterrupt:
        return 0


def build_parser() -> argparse.ArgumentParser:
    parser = _Parser(prog="corun", description="Share a machine between parallel runtimes without "
                                               "oversubscription collapse.")
    parser.add_argument("--version", action="version", version=f"corun {__version__}")
    sub = parser.add_subparsers(dest="command", metavar="COMMAND", parser_class=_Parser)
    _add_run(sub)
    _add_status(sub)
    for name in PLUGINS:
        # A plugin that fails to import must not take `corun run` down with it.
        try:
            mod = importlib.import_module(name)
            mod.register(sub)
        except Exception as e:  # noqa: BLE001 - reported, the other commands keep working
            if os.environ.get("CORUN_LOG_LEVEL", "").lower() == "debug":
                print(f"corun: debug: {name} unavailable: {e}", file=sys.stderr)
    return parser


def main(argv: list[str] | None = None) -> int:
    parser = build_parser()
    args = parser.parse_args(argv)
    if not getattr(args, "func", None):
        parser.print_help()
        return EXIT_USAGE
    return int(args.func(args) or 0)


if __name__ == "__main__":
    raise SystemExit(main())
