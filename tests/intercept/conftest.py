"""Interposition tests: C programs run plain and under ``corun run``; same output, same status.

* The native libraries are built once per session (native/build.py) if libcorun.so is missing.
* Test programs in ``c/`` are compiled once per session into a temporary directory.
* ``run_pair`` runs a program plain and under ``corun run --instance <unique> -- prog``, each in
  its own session with a hard timeout that kills the whole process group, so no test can hang CI.
* Programs print ``CHECK: ok`` / ``CHECK: FAIL ...`` lines (see c/harness.h); lines that carry
  values print the same values with and without corun. Diagnostics go to stderr.
"""
from __future__ import annotations

import itertools
import os
import signal
import subprocess
import sys
from dataclasses import dataclass
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]
C_DIR = Path(__file__).resolve().parent / "c"
RUN_TIMEOUT = 90
_counter = itertools.count()
_instances: list[str] = []


def clean_environ() -> dict[str, str]:
    return {k: v for k, v in os.environ.items() if not k.startswith("CORUN_") and k != "LD_PRELOAD"}


@dataclass
class Result:
    args: list[str]
    returncode: int
    stdout: str
    stderr: str

    def lines(self) -> list[str]:
        return self.stdout.splitlines()

    def check(self, name: str) -> str | None:
        for line in self.lines():
            if line.startswith(name + ": "):
                return line[len(name) + 2:]
        return None


def run(args: list[str], env: dict[str, str], timeout: float = RUN_TIMEOUT, cwd: Path | None = None) -> Result:
    """Run in a new session; on timeout kill the whole group and fail the test."""
    proc = subprocess.Popen(args, env=env, cwd=cwd, stdin=subprocess.DEVNULL, stdout=subprocess.PIPE,
                            stderr=subprocess.PIPE, text=True, start_new_session=True)
    try:
        out, err = proc.communicate(timeout=timeout)
    except subprocess.TimeoutExpired:
        try:
            os.killpg(proc.pid, signal.SIGKILL)
        except ProcessLookupError:
            pass
        try:
            out, err = proc.communicate(timeout=10)
        except subprocess.TimeoutExpired:
            out, err = "", ""
        pytest.fail(f"timed out after {timeout}s: {' '.join(args)}\nstdout:\n{out}\nstderr:\n{err[-3000:]}")
    return Result(list(args), proc.returncode, out, err)


def new_instance(tag: str) -> str:
    name = f"itest-{os.getpid()}-{tag}-{next(_counter)}"
    _instances.append(name)
    return name


@pytest.fixture(scope="session")
def native_lib() -> Path:
    lib = ROOT / "src" / "corun" / "_native" / "libcorun.so"
    if not lib.exists():
        subprocess.run([sys.executable, str(ROOT / "native" / "build.py")], check=True, timeout=600,
                       capture_output=True)
    assert lib.exists(), "libcorun.so was not built"
    return lib


@pytest.fixture(scope="session")
def build_c(tmp_path_factory, native_lib):
    out_dir = tmp_path_factory.mktemp("intercept-c")
    cache: dict[tuple[str, tuple[str, ...]], Path] = {}

    def build(name: str, extra: tuple[str, ...] = ()) -> Path:
        key = (name, tuple(extra))
        if key not in cache:
            exe = out_dir / (name + ("-" + "-".join(x.strip("-") for x in extra) if extra else ""))
            cmd = ["gcc", "-std=gnu11", "-O2", "-g", "-Wall", f"-I{C_DIR}", str(C_DIR / f"{name}.c"), "-o", str(exe),
                   "-pthread", *extra]
            subprocess.run(cmd, check=True, timeout=120, capture_output=True)
            cache[key] = exe
        return cache[key]

    return build


@dataclass
class Pair:
    plain: Result
    managed: Result

    def assert_ok(self, name: str) -> None:
        for label, r in (("plain", self.plain), ("corun", self.managed)):
            got = r.check(name)
            assert got == "ok", f"{name} under {label}: {got!r}\nstdout:\n{r.stdout}\nstderr:\n{r.stderr[-3000:]}"

    def assert_same(self, normalize=lambda s: s) -> None:
        assert normalize(self.managed.stdout) == normalize(self.plain.stdout), (
            f"output differs\n--- plain\n{self.plain.stdout}\n--- corun\n{self.managed.stdout}\n"
            f"--- corun stderr\n{self.managed.stderr[-3000:]}")
        assert self.managed.returncode == self.plain.returncode, (self.plain.returncode, self.managed.returncode,
                                                                  self.managed.stderr[-3000:])


def corun_args(instance: str, exe: Path | str, args: list[str] = (), cpus: str | None = None) -> list[str]:
    opts = ["--instance", instance]
    if cpus is not None:
        opts += ["--cpus", cpus]
    return [sys.executable, "-m", "corun", "run", *opts, "--", str(exe), *args]


@pytest.fixture(scope="session")
def run_pair(tmp_path_factory):
    xdg = tmp_path_factory.mktemp("xdg")

    def go(exe: Path, args: list[str] = (), tag: str = "t", cpus: str | None = None,
           timeout: float = RUN_TIMEOUT) -> Pair:
        env = clean_environ()
        env["XDG_CONFIG_HOME"] = str(xdg)
        plain = run([str(exe), *args], env, timeout)
        managed = run(corun_args(new_instance(tag), exe, list(args), cpus), env, timeout)
        return Pair(plain, managed)

    return go


@pytest.fixture(scope="session")
def run_managed(tmp_path_factory, native_lib):
    """run_managed(cmd, tag, timeout, cwd, options, extra_env) -> Result:
    `corun run --instance <unique> [options] -- cmd...` with `extra_env` added to the environment."""
    xdg = tmp_path_factory.mktemp("xdg2")
    base = clean_environ()
    base["XDG_CONFIG_HOME"] = str(xdg)

    def go(cmd: list[str], tag: str = "m", timeout: float = RUN_TIMEOUT, cwd: Path | None = None,
           options: list[str] = (), extra_env: dict[str, str] | None = None) -> Result:
        args = corun_args(new_instance(tag), cmd[0], cmd[1:])
        sep = args.index("--")
        args[sep:sep] = list(options)
        return run(args, {**base, **(extra_env or {})}, timeout, cwd)

    return go


@pytest.fixture(scope="session", autouse=True)
def _cleanup_instances():
    """Best effort: remove what the named instances left behind, from a subprocess so the test
    process never loads libcorun.so."""
    yield
    if not _instances:
        return
    code = ("import sys\nfrom corun.run import native_api\nfor n in sys.argv[1:]:\n"
            "    try: native_api.cleanup(n)\n    except Exception: pass\n")
    try:
        subprocess.run([sys.executable, "-c", code, *_instances], env=clean_environ(), capture_output=True,
                       timeout=60)
    except (OSError, subprocess.SubprocessError):
        pass
