"""Socket calls (recv*, accept*, connect) and libc's syscall() (raw futex waits, pass-through)
keep their results, errno and blocking behaviour under corun."""
from __future__ import annotations

import pytest

CHECKS = ["recv_dontwait_eagain", "recv_blocking_wakes", "recv_waitall", "recv_nonblocking_eagain", "recv_eof",
          "recvfrom_recvmsg", "accept_nonblocking_eagain", "accept_blocking_and_connect", "syscall_passthrough",
          "syscall_futex_eagain", "syscall_futex_timeout", "syscall_futex_woken"]


@pytest.fixture(scope="module")
def io(build_c, run_pair):
    return run_pair(build_c("io"), tag="io")


@pytest.mark.parametrize("check", CHECKS)
def test_io(io, check):
    io.assert_ok(check)


def test_io_same_output_and_status(io):
    io.assert_same()


def test_io_one_core(build_c, run_pair):
    pair = run_pair(build_c("io"), tag="io1", cpus="0")
    pair.assert_same()
    assert "FAIL" not in pair.managed.stdout
