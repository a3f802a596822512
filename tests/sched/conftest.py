"""Fixtures of the scheduler-level tests: private instances whose segment must be gone after the
test, and C programs compiled once per session."""
from __future__ import annotations

import sys
from pathlib import Path

import pytest

sys.path.insert(0, str(Path(__file__).resolve().parent))

from sched_support import Instance  # noqa: E402


@pytest.fixture(scope="session")
def cbuild(tmp_path_factory) -> Path:
    return tmp_path_factory.mktemp("sched_c")


@pytest.fixture
def make_instance(request, tmp_path):
    """Factory of private instances; at teardown every one must have removed its segment."""
    made: list[Instance] = []

    def make(tag: str | None = None) -> Instance:
        inst = Instance(tag or request.node.name, tmp_path)
        made.append(inst)
        return inst

    yield make
    leaked = []
    for inst in made:
        inst.close()
        if not inst.wait_segment_gone(timeout=5.0):
            leaked.append(str(inst.segment))
            inst.force_cleanup()
    assert not leaked, f"shared segment(s) left behind after the test: {leaked}"


@pytest.fixture
def instance(make_instance) -> Instance:
    return make_instance()
