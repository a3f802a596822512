"""CPU lists in taskset syntax: parse_cpulist / format_cpulist."""
from __future__ import annotations

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from corun.run.cpulist import MAX_CPU, CpuListError, format_cpulist, parse_cpulist

cpu = st.integers(min_value=0, max_value=MAX_CPU)
cpu_sets = st.sets(st.integers(min_value=0, max_value=300), max_size=60)


@st.composite
def cpulist_text(draw):
    """A valid CPU list written any way taskset accepts: numbers, ranges, strided ranges, any order."""
    items = []
    for _ in range(draw(st.integers(min_value=1, max_value=6))):
        a = draw(st.integers(min_value=0, max_value=200))
        kind = draw(st.sampled_from(["one", "range", "stride"]))
        if kind == "one":
            items.append(str(a))
        else:
            b = draw(st.integers(min_value=a, max_value=a + 100))
            if kind == "range":
                items.append(f"{a}-{b}")
            else:
                items.append(f"{a}-{b}:{draw(st.integers(min_value=1, max_value=9))}")
    return ",".join(items)


def expand(text: str) -> set[int]:
    """Independent reference: what a CPU list means, written from the taskset man page."""
    out: set[int] = set()
    for item in text.split(","):
        rng, _, stride = item.partition(":")
        lo, _, hi = rng.partition("-")
        out.update(range(int(lo), int(hi or lo) + 1, int(stride or 1)))
    return out


@pytest.mark.parametrize("text, cpus", [
    ("0", [0]),
    ("7", [7]),
    ("0-3", [0, 1, 2, 3]),
    ("3-3", [3]),
    ("0-3,8", [0, 1, 2, 3, 8]),
    ("8,0-3", [0, 1, 2, 3, 8]),
    ("0-3,2-5", [0, 1, 2, 3, 4, 5]),
    ("1,1,1", [1]),
    ("10-14:2", [10, 12, 14]),
    ("10-15:2", [10, 12, 14]),
    ("0-9:3", [0, 3, 6, 9]),
    ("0-3,8,10-14:2", [0, 1, 2, 3, 8, 10, 12, 14]),
    ("0, 2", [0, 2]),
    (f"{MAX_CPU}", [MAX_CPU]),
])
def test_parse_examples(text, cpus):
    assert parse_cpulist(text) == cpus


@pytest.mark.parametrize("text", [
    "", " ", "a", "x1", "1x", "3-1", "1,,2", ",1", "1,", "-1", "1-", "-", "1--2", "1-2-3",
    "0-3:0", "0-3:", "0-3:a", "0-3:-1", ":2", "1.5", "+1", "0x1", "1;2", "1\n", "\t1",
    "²", "١", "0-99999999999", str(MAX_CPU + 1), f"0-{MAX_CPU + 1}", "9" * 5000, "0-3:" + "9" * 5000,
])
def test_parse_rejects_garbage(text):
    with pytest.raises(CpuListError) as e:
        parse_cpulist(text)
    msg = str(e.value)
    assert msg and "\n" not in msg


@pytest.mark.parametrize("value", [None, 3, ["0"]])
def test_parse_rejects_non_strings(value):
    with pytest.raises(CpuListError):
        parse_cpulist(value)


def test_cpulist_error_is_a_value_error():
    assert issubclass(CpuListError, ValueError)


@pytest.mark.parametrize("cpus, text", [
    ([], ""),
    ([0], "0"),
    ([0, 1, 2, 3], "0-3"),
    ([0, 1, 2, 3, 8], "0-3,8"),
    ([8, 3, 2, 1, 0, 2], "0-3,8"),
    ({1, 3, 5}, "1,3,5"),
    ([4, 5], "4-5"),
    (range(10, 20), "10-19"),
])
def test_format_examples(cpus, text):
    assert format_cpulist(cpus) == text


@given(cpulist_text())
@settings(deadline=None)  # no flaky deadline on a loaded machine
def test_parse_matches_reference(text):
    assert parse_cpulist(text) == sorted(expand(text))


@given(cpulist_text())
@settings(deadline=None)  # no flaky deadline on a loaded machine
def test_format_parse_roundtrip_of_text(text):
    """format(parse(x)) is the canonical form: parsing it gives the same CPUs, formatting is stable."""
    canon = format_cpulist(parse_cpulist(text))
    assert parse_cpulist(canon) == parse_cpulist(text)
    assert format_cpulist(parse_cpulist(canon)) == canon


@given(st.sets(cpu, min_size=1, max_size=60))
@settings(deadline=None)  # no flaky deadline on a loaded machine
def test_parse_format_roundtrip_of_sets(cpus):
    text = format_cpulist(cpus)
    assert parse_cpulist(text) == sorted(cpus)
    assert " " not in text and ":" not in text


@given(cpu_sets.filter(bool))
@settings(deadline=None)  # no flaky deadline on a loaded machine
def test_format_is_minimal(cpus):
    """One item per maximal run of consecutive CPUs; single CPUs are not written as ranges."""
    items = format_cpulist(cpus).split(",")
    runs = sum(1 for c in cpus if c - 1 not in cpus)
    assert len(items) == runs
    for item in items:
        lo, sep, hi = item.partition("-")
        if sep:
            assert int(lo) < int(hi)


@given(cpu, cpu, st.integers(min_value=1, max_value=MAX_CPU + 10))
@settings(max_examples=200, deadline=None)
def test_strided_range(a, b, stride):
    a, b = min(a, b), max(a, b)
    assert parse_cpulist(f"{a}-{b}:{stride}") == list(range(a, b + 1, stride))


@given(cpu, cpu)
@settings(deadline=None)  # no flaky deadline on a loaded machine
def test_reversed_range_is_an_error(a, b):
    if a > b:
        with pytest.raises(CpuListError, match="reversed"):
            parse_cpulist(f"{a}-{b}")
    else:
        assert parse_cpulist(f"{a}-{b}") == list(range(a, b + 1))


@given(st.text(alphabet=st.characters(blacklist_categories=("Cs",)), max_size=20))
@settings(max_examples=300, deadline=None)
def test_arbitrary_text_parses_or_raises_cpulist_error(text):
    """Never any other exception, never a hang: either a valid list or CpuListError."""
    try:
        cpus = parse_cpulist(text)
    except CpuListError:
        return
    assert cpus == sorted(set(cpus)) and all(0 <= c <= MAX_CPU for c in cpus)
    assert parse_cpulist(format_cpulist(cpus)) == cpus
