"""``corun vlc ...`` (registered into corun's CLI by ``register``).

    corun vlc info [--json]          the native libraries, the namespace limit of this process,
                                     and a self-check: a 1-CPU context, what a library inside sees
    corun vlc info --load LIB        also load LIB into that context and report its thread pool
"""
from __future__ import annotations

import argparse
import json
import os


def register(sub) -> None:
    p = sub.add_parser("vlc", help="virtual library contexts: information and self-check",
                       description="Virtual library contexts (corun.VLC): a native library's own "
                                   "instance and own CPUs inside one process. See docs/vlc.md.")
    vsub = p.add_subparsers(dest="vlc_command", metavar="SUBCOMMAND")
    i = vsub.add_parser("info", help="show the namespace limit and self-check a 1-CPU context")
    i.add_argument("--load", metavar="LIB", action="append", default=[],
                   help="library to load into the self-check context (repeatable)")
    i.add_argument("--json", action="store_true", help="print JSON")
    i.set_defaults(func=_cmd_info)
    p.set_defaults(func=lambda args: (p.print_help(), 2)[1])


def _self_check(libs: list[str]) -> dict:
    import corun.vlc as vlc
    from corun.vlc.tunables import namespace_limit

    cpu = sorted(os.sched_getaffinity(0))[-1]
    out: dict = {"namespace_limit": namespace_limit(),
                 "glibc_tunables": os.environ.get("GLIBC_TUNABLES", ""),
                 "process_cpus": sorted(os.sched_getaffinity(0))}
    v = vlc.VLC(cpus=[cpu], name="selfcheck")
    try:
        for lib in libs:
            try:
                v.load(lib)
            except vlc.VLCError as e:
                out.setdefault("errors", []).append(str(e))
        out["context"] = vlc.info()[-1]
    finally:
        v.close()
    return out


def _cmd_info(args: argparse.Namespace) -> int:
    from corun._native import NATIVE_DIR

    data = {"native_dir": str(NATIVE_DIR), **_self_check(args.load)}
    if args.json:
        print(json.dumps(data, indent=2))
        return 0
    print(f"native libraries: {data['native_dir']}")
    print(f"contexts possible at once in this process: {data['namespace_limit']} "
          f"(GLIBC_TUNABLES={data['glibc_tunables'] or '(unset)'}; 15 with glibc.rtld.nns=16 at start)")
    ctx = data["context"]
    print(f"self-check context: lmid {ctx['lmid']}, cpus {ctx['cpus']}")
    for lib in ctx["libraries"]:
        pool = f", {lib['user_api']} threads {lib['num_threads']}" if "num_threads" in lib else ""
        print(f"  {lib['name']} -> {lib['path']}{pool}")
    for e in data.get("errors", []):
        print(f"  error: {e}")
    return 1 if data.get("errors") else 0
