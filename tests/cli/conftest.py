"""Run the corun CLI as users do: ``python -m corun`` in a subprocess, with an isolated environment.

* XDG_CONFIG_HOME points into the test's tmp dir (no user config leaks in);
* CORUN_* and LD_PRELOAD of the caller are dropped;
* CORUN_INSTANCE is a name unique to the test, so runs that do start CMD never join the user's
  ``default`` instance (tests pass ``instance=None`` to run without it).
"""
from __future__ import annotations

import itertools
import os
import subprocess
import sys
from pathlib import Path

import pytest

TIMEOUT = 30
_counter = itertools.count()
_instances: list[str] = []


def clean_environ() -> dict[str, str]:
    return {k: v for k, v in os.environ.items() if not k.startswith("CORUN_") and k != "LD_PRELOAD"}


class Corun:
    def __init__(self, tmp_path: Path):
        self.tmp = tmp_path
        self.xdg = tmp_path / "xdg"
        self.xdg.mkdir(exist_ok=True)
        self.instance = f"clitest-{os.getpid()}-{next(_counter)}"
        _instances.append(self.instance)

    def env(self, extra: dict[str, str | None] | None = None, instance: str | None = "auto") -> dict[str, str]:
        env = clean_environ()
        env["XDG_CONFIG_HOME"] = str(self.xdg)
        if instance == "auto":
            env["CORUN_INSTANCE"] = self.instance
        elif instance is not None:
            env["CORUN_INSTANCE"] = instance
        for k, v in (extra or {}).items():
            if v is None:
                env.pop(k, None)
            else:
                env[k] = v
        return env

    def __call__(self, *args: str, env: dict[str, str | None] | None = None, instance: str | None = "auto",
                 input: bytes | str | None = None, text: bool = True, timeout: float = TIMEOUT,
                 cwd: str | os.PathLike | None = None, affinity: set[int] | None = None,
                 ) -> subprocess.CompletedProcess:
        """`affinity`: start corun with this CPU affinity, as `taskset -c LIST corun ...` would."""
        if isinstance(input, str) and not text:
            input = input.encode()
        preexec = (lambda: os.sched_setaffinity(0, affinity)) if affinity is not None else None
        return subprocess.run([sys.executable, "-m", "corun", *args], env=self.env(env, instance),
                              input=input, capture_output=True, text=text, timeout=timeout,
                              cwd=cwd or self.tmp, stdin=None if input is not None else subprocess.DEVNULL,
                              preexec_fn=preexec)

    def marker(self) -> tuple[list[str], Path]:
        """A CMD that leaves a file behind if it ever starts."""
        path = self.tmp / f"started-{next(_counter)}"
        return ["sh", "-c", f'echo started > "{path}"'], path

    @staticmethod
    def error(proc: subprocess.CompletedProcess, code: int = 2) -> str:
        """Exit status `code`, nothing on stdout, exactly one line on stderr: 'corun: error: ...'."""
        stderr = proc.stderr if isinstance(proc.stderr, str) else proc.stderr.decode(errors="replace")
        stdout = proc.stdout if isinstance(proc.stdout, str) else proc.stdout.decode(errors="replace")
        assert proc.returncode == code, (proc.returncode, stderr)
        lines = stderr.splitlines()
        assert len(lines) == 1 and stderr.endswith("\n"), stderr
        assert lines[0].startswith("corun: error: ") and len(lines[0]) > len("corun: error: "), stderr
        assert stdout == "", stdout
        return lines[0]


@pytest.fixture
def corun(tmp_path) -> Corun:
    return Corun(tmp_path)


@pytest.fixture(scope="session", autouse=True)
def _cleanup_instances():
    """Best effort: drop whatever the instances these tests named left behind (from a subprocess,
    so the test process never loads libcorun.so)."""
    yield
    if not _instances:
        return
    code = ("import sys\nfrom corun.run import native_api\nfor n in sys.argv[1:]:\n"
            "    try: native_api.cleanup(n)\n    except Exception: pass\n")
    try:
        subprocess.run([sys.executable, "-c", code, *_instances], env=clean_environ(),
                       capture_output=True, timeout=TIMEOUT)
    except (OSError, subprocess.SubprocessError):
        pass
