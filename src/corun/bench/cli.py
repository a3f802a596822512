"""``corun bench SCENARIO`` and ``corun demo`` (registered into corun's CLI by ``register``)."""
from __future__ import annotations

import argparse
import os
import shlex
import signal
import sys
import textwrap
from datetime import datetime
from pathlib import Path
from typing import TYPE_CHECKING

from corun.bench import machine
from corun.bench.model import SIZES
from corun.bench.scenarios import DEMO, SCENARIOS, Scenario

if TYPE_CHECKING:  # rich, matplotlib and the runner load only when a bench runs: `corun run`
    from rich.console import Console  # builds this parser too and must start fast

    from corun.bench import session

DEFAULT_DIR = Path("corun-bench-results")
WIDE = 160


def _scenario_lines() -> str:
    cores = machine.usable_cores()
    lines = [f"scenarios (scaled to this machine's {cores} cores; details: corun bench list):"]
    for s in SCENARIOS.values():
        lines.append(f"  {s.name:<12} {s.summary}")
        lines.append(f"  {'':<12} here: {s.scaling(cores)}")
    return "\n".join(lines)


def _add_common(p: argparse.ArgumentParser, repeat_default: str, files_default: str) -> None:
    p.add_argument("--repeat", type=int, default=None, metavar="N",
                   help=f"runs per case and mode, alternated plain/corun ({repeat_default})")
    p.add_argument("--json", type=Path, default=None, metavar="PATH",
                   help=f"JSON result file ({files_default})")
    p.add_argument("--plot", type=Path, default=None, metavar="PATH",
                   help="PNG plot (default: the JSON path with .png)")
    p.add_argument("--timeout", type=float, default=None, metavar="S",
                   help="limit per run in seconds; a run past it is killed and recorded as a "
                        "timeout, and the case's later runs in that mode are skipped "
                        "(default: 300, demo 20)")
    p.add_argument("--instance", default=None, metavar="NAME",
                   help="corun instance for the corun runs (default: bench-PID, a fresh one)")
    p.add_argument("--corun-arg", action="append", default=[], metavar="ARG", dest="corun_args",
                   help="extra option for 'corun run', repeatable (e.g. --corun-arg=--quantum=5)")


def register(subparsers) -> None:
    b = subparsers.add_parser(
        "bench", help="plain Linux vs corun on a scenario: table, JSON, PNG",
        formatter_class=argparse.RawDescriptionHelpFormatter,
        description=textwrap.fill(
            "Run a scenario's workloads under plain Linux and under corun (python -m corun run) "
            "in one invocation, runs alternated, and report medians, min-max and corun/plain "
            "ratios as a table, a JSON file and a PNG plot. Every run has a time limit; failed "
            "or hung runs are recorded, never fatal. Details: docs/bench.md.", 79),
        epilog=_scenario_lines() + "\n\nexample: corun bench numpy-procs --repeat 5")
    b.add_argument("scenario", choices=[*SCENARIOS, "list", "show"], metavar="SCENARIO",
                   help=f"one of: {', '.join(SCENARIOS)}; 'list' describes them; 'show FILE' "
                        "prints a JSON result file's table again (with --plot/--json: rewrites "
                        "them, targets re-evaluated)")
    b.add_argument("file", nargs="?", type=Path, metavar="FILE", help=argparse.SUPPRESS)
    b.add_argument("--size", choices=SIZES, default="default",
                   help="problem size: default (committed results), quick, tiny (smoke test)")
    b.add_argument("--only", action="append", default=[], metavar="TEXT",
                   help="run only cases whose name contains TEXT (repeatable), e.g. 'blis'")
    _add_common(b, "default 3", f"default: ./{DEFAULT_DIR}/bench-SCENARIO-TIMESTAMP.json")
    b.set_defaults(func=_cmd_bench)

    d = subparsers.add_parser(
        "demo", help="short side-by-side demo: plain Linux vs corun (under 2 minutes)",
        description=f"{DEMO.description} Prints the table; with --json/--plot also writes "
                    "the files. When corun's side fails or hangs, the demo still completes and "
                    "says so in the table.")
    _add_common(d, "default 2", "default: none")
    d.set_defaults(func=_cmd_demo)


def _canonical(name: str, args: argparse.Namespace, repeat: int, json_path: Path | None,
               plot_path: Path | None) -> str:
    parts = ["corun", *(["bench", name] if name != DEMO.name else ["demo"])]
    if name != DEMO.name:
        parts += ["--size", args.size]
        for o in args.only:
            parts += ["--only", o]
    parts += ["--repeat", str(repeat)]
    if args.timeout is not None:
        parts += ["--timeout", f"{args.timeout:g}"]
    if args.instance:
        parts += ["--instance", args.instance]
    parts += [f"--corun-arg={a}" for a in args.corun_args]
    if json_path is not None:
        parts += ["--json", str(json_path)]
    if plot_path is not None:
        parts += ["--plot", str(plot_path)]
    return shlex.join(parts)


def _request(scenario: Scenario, args: argparse.Namespace, size: str, write_default: bool
             ) -> "session.Request":
    from corun.bench import session

    repeat = scenario.default_repeat if args.repeat is None else args.repeat
    if repeat < 1:
        raise ValueError("--repeat must be at least 1")
    if args.timeout is not None and args.timeout <= 0:
        raise ValueError("--timeout must be positive")
    json_path, plot_path = args.json, args.plot
    if write_default and json_path is None:
        stamp = datetime.now().strftime("%Y%m%d-%H%M%S")
        json_path = DEFAULT_DIR / f"bench-{scenario.name}-{stamp}.json"
    if plot_path is None and json_path is not None:
        plot_path = json_path.with_suffix(".png")
    return session.Request(
        scenario=scenario, size=size, repeat=repeat,
        command=_canonical(scenario.name, args, repeat, args.json, args.plot),
        instance=args.instance or f"bench-{os.getpid()}", cores=machine.usable_cores(),
        only=list(getattr(args, "only", [])), timeout_s=args.timeout,
        corun_args=list(args.corun_args), json_path=json_path, plot_path=plot_path)


def _list(con: "Console") -> int:
    from rich.table import Table

    cores = machine.usable_cores()
    t = Table(title=f"corun bench scenarios (this machine: {cores} cores)", title_justify="left",
              show_lines=True)
    t.add_column("scenario", no_wrap=True)
    t.add_column("what runs, how it scales, metric")
    t.add_column(f"at {cores} cores")
    for s in SCENARIOS.values():
        t.add_row(s.name, s.description, s.scaling(cores))
    t.add_row("(demo)", DEMO.description, DEMO.scaling(cores))
    con.print(t)
    return 0


def _console() -> "Console":
    from rich.console import Console

    con = Console()
    if not con.is_terminal and "COLUMNS" not in os.environ:
        con = Console(width=WIDE)  # logs and pipes: keep table rows on one line
    return con


def _terminate(signum: int, frame: object) -> None:
    raise KeyboardInterrupt  # unwinds through the runner, which kills the running workload


def _run(scenario: Scenario, args: argparse.Namespace, size: str, write_default: bool) -> int:
    signal.signal(signal.SIGTERM, _terminate)
    try:
        from corun.bench import session

        req = _request(scenario, args, size, write_default)
        session.run(req, _console())
    except ValueError as e:
        print(f"corun: error: {e}", file=sys.stderr)
        return 2
    except KeyboardInterrupt:
        print("corun: interrupted; the running workload was stopped", file=sys.stderr)
        return 130
    return 0


def _show(args: argparse.Namespace) -> int:
    from corun.bench.report import console as console_report
    from corun.bench.report import jsonfile, load, plot

    if args.file is None:
        print("corun: error: usage: corun bench show FILE.json [--plot PNG] [--json JSON]",
              file=sys.stderr)
        return 2
    try:
        result = load.read(args.file)
    except load.ResultFileError as e:
        print(f"corun: error: {e}", file=sys.stderr)
        return 2
    con = _console()
    con.print(f"{args.file}: {result.command}  ({result.started})", highlight=False, markup=False)
    console_report.print_result(con, result)
    if args.json is not None:
        con.print(f"JSON: {jsonfile.write(result, args.json)}", highlight=False)
    if args.plot is not None:
        con.print(f"plot: {plot.write(result, args.plot)}", highlight=False)
    return 0


def _cmd_bench(args: argparse.Namespace) -> int:
    if args.scenario == "list":
        return _list(_console())
    if args.scenario == "show":
        return _show(args)
    if args.file is not None:
        print(f"corun: error: unexpected argument {args.file}", file=sys.stderr)
        return 2
    return _run(SCENARIOS[args.scenario], args, args.size, write_default=True)


def _cmd_demo(args: argparse.Namespace) -> int:
    return _run(DEMO, args, "quick", write_default=False)
