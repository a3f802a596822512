"""exec family, posix_spawn, system, popen, Python subprocess and multiprocessing: descendants stay
managed and exit statuses pass through; fork and exec storms complete."""
from __future__ import annotations

import re
import sys
import textwrap

import pytest

EXEC_CHECKS = ["exec_execv_status", "exec_execl_status", "exec_execle_status", "exec_execve_status",
               "exec_execlp_status", "exec_execvp_status", "exec_execvpe_status", "exec_fexecve_status",
               "exec_vfork_status", "exec_failure_recovers", "execvp_failure_enoent", "spawn_posix_spawn_status",
               "spawn_posix_spawnp_status", "spawn_posix_spawn_attr_status", "spawn_posix_spawn_enoent",
               "spawn_system_status", "spawn_popen_status"]
# program function -> checks it prints; each function runs in its own process pair
STORMS = {"fork_storm": ["fork_storm_60"], "fork_nested": ["fork_storm_nested"],
          "fork_threads": ["fork_while_threads_work"], "fork_affinity": ["fork_while_affinity_calls"],
          "exec_storm": ["exec_storm_40", "exec_chain_20"]}
ENV_RE = re.compile(r"^ENV (\S+) preload=(\d) instance=(\d)$", re.M)


@pytest.fixture(scope="module")
def execs(build_c, run_pair):
    return run_pair(build_c("exec"), tag="exec")


@pytest.mark.parametrize("check", EXEC_CHECKS)
def test_exec(execs, check):
    execs.assert_ok(check)


def test_exec_status_passes_through(execs):
    """The program ends by exec'ing itself into a child that exits 42."""
    assert execs.plain.returncode == 42, execs.plain.stderr
    assert execs.managed.returncode == 42, execs.managed.stderr


def test_children_inherit_management(execs):
    plain = ENV_RE.findall(execs.plain.stdout)
    managed = ENV_RE.findall(execs.managed.stdout)
    assert [x[0] for x in plain] == [x[0] for x in managed]
    assert len(managed) >= 15
    assert all(p == "0" and i == "0" for _, p, i in plain), plain
    bad = [label for label, p, i in managed if (p, i) != ("1", "1")]
    assert not bad, f"children not managed under corun: {bad}"


def test_exec_same_output_apart_from_env(execs):
    execs.assert_same(normalize=lambda s: ENV_RE.sub(r"ENV \1", s))


@pytest.mark.parametrize("func", sorted(STORMS))
def test_storm(build_c, run_pair, func):
    pair = run_pair(build_c("storm"), [func], tag=func, timeout=45)
    for check in STORMS[func]:
        pair.assert_ok(check)
    pair.assert_same()


PY_CHILDREN = textwrap.dedent("""
    import multiprocessing as mp, os, subprocess, sys

    def managed():
        pre = os.environ.get("LD_PRELOAD", "")
        return int("libcorun.so" in pre), int(bool(os.environ.get("CORUN_INSTANCE")))

    def child(q):
        q.put(managed())

    if __name__ == "__main__":
        out = {}
        code = "import os; print(int('libcorun.so' in os.environ.get('LD_PRELOAD','')), int(bool(os.environ.get('CORUN_INSTANCE'))))"
        out["subprocess"] = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True).stdout.split()
        out["subprocess_env_stripped"] = subprocess.run(
            [sys.executable, "-c", code], env={"PATH": os.environ["PATH"]}, capture_output=True, text=True).stdout.split()
        for method in ("fork", "spawn", "forkserver"):
            ctx = mp.get_context(method)
            q = ctx.Queue()
            p = ctx.Process(target=child, args=(q,))
            p.start()
            out["mp_" + method] = [str(x) for x in q.get(timeout=60)]
            p.join(60)
            out["mp_" + method + "_exit"] = [str(p.exitcode)]
        r = subprocess.run(["sh", "-c", "exit 9"])
        out["sh_status"] = [str(r.returncode)]
        for k in sorted(out):
            print(k, *out[k])
        sys.exit(5)
""")


def test_python_subprocess_and_multiprocessing(tmp_path, run_managed):
    script = tmp_path / "children.py"
    script.write_text(PY_CHILDREN)
    r = run_managed([sys.executable, str(script)], tag="py", timeout=120, cwd=tmp_path)
    assert r.returncode == 5, r.stderr
    got = dict((line.split()[0], line.split()[1:]) for line in r.stdout.splitlines())
    for key in ("subprocess", "subprocess_env_stripped", "mp_fork", "mp_spawn", "mp_forkserver"):
        assert got.get(key) == ["1", "1"], (key, got, r.stderr[-2000:])
    for key in ("mp_fork_exit", "mp_spawn_exit", "mp_forkserver_exit"):
        assert got.get(key) == ["0"], (key, got)
    assert got.get("sh_status") == ["9"], got
