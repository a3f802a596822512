"""Markdown tables of the VLC results next to the paper's figures, from benchmarks/results/vlc-*.json.

    python3 benchmarks/vlc/report.py            # prints; also writes benchmarks/results/vlc-summary.md
"""
from __future__ import annotations

import json

from common import RESULTS


def load(name: str) -> dict | None:
    p = RESULTS / f"vlc-{name}.json"
    return json.loads(p.read_text()) if p.exists() else None


def fmt(x, digits=3) -> str:
    if x is None:
        return "—"
    if isinstance(x, float):
        return f"{x:.{digits}g}" if abs(x) < 1000 else f"{x:.0f}"
    return str(x)


def load_note(d: dict) -> str:
    la = d.get("load_average_at_start", [None])[0]
    return f"(load average {la:.1f} at start)" if la is not None else ""


def micro(d: dict) -> list[str]:
    out = [f"**Table 2 — micro-costs** {load_note(d)}: C API, medians of 3 processes x {d['rounds_per_process']} rounds", "",
           "| operation | corun | paper (VLC++) | target |", "|---|---|---|---|"]
    names = {"create_new": "create (new namespace)", "create": "create (pooled namespace)", "enter": "enter",
             "leave": "leave", "enter_affinity": "enter with affinity",
             "sched_getaffinity_inside": "sched_getaffinity in a context",
             "sched_getaffinity_outside": "sched_getaffinity outside", "open_cpuinfo_inside": "open /proc/cpuinfo in a context",
             "open_cpuinfo_outside": "open /proc/cpuinfo outside", "mmap_inside": "mmap in a context",
             "mmap_outside": "mmap outside"}
    for r in d["table2"]:
        t = f"≤ {r['target_us']} us ({'met' if r['meets_target'] else 'missed'})" if r["target_us"] else ""
        out.append(f"| {names.get(r['what'], r['what'])} | {fmt(r['corun_us'])} us | {r['paper_us']} us | {t} |")
    m = d["medians_us"]
    py = d["python_api_us"]
    out += ["", f"Also: leave with affinity {fmt(m['leave_affinity'])} us; virtual `sysconf(_SC_NPROCESSORS_ONLN)` "
            f"{fmt(m['sysconf_inside'])} us vs {fmt(m['sysconf_outside'])} us real; open+read /proc/cpuinfo "
            f"{fmt(m['read_cpuinfo_inside'])} us inside vs {fmt(m['read_cpuinfo_outside'])} us outside. Python: "
            f"`VLC()` {fmt(py['py_create_us'])} us (paper PyVLC 3960 us), `with v:` enter+leave with affinity "
            f"{fmt(py['py_with_enter_leave_affinity_us'])} us, a trivial ctypes call {fmt(py.get('py_call_plain_us'))} us "
            f"plain, {fmt(py.get('py_call_inside_with_us'))} us inside `with` ({fmt(py.get('py_call_unguarded_inside_with_us'))} us "
            f"through `unguarded()`), {fmt(py.get('py_call_outside_context_us'))} us from outside (the call enters and "
            "leaves, moving the thread)."]
    return out


def loads(d: dict) -> list[str]:
    out = [f"**Table 3 — load 4 instances** {load_note(d)} (median of {d['samples']} fresh processes)", "",
           "| library | 4 contexts (incl. creating them) | one standard load | 4 file copies, DEEPBIND | paper VLCs | paper base |",
           "|---|---|---|---|---|---|"]
    for r in d["rows"]:
        if "skipped" in r:
            out.append(f"| {r['library']} | skipped: {r['skipped']} | | | | |")
            continue
        out.append(f"| {r['library']} | {fmt(r['vlc_ms'])} ms | {fmt(r['base_one_load_ms'])} ms | "
                   f"{fmt(r['file_copies_deepbind_ms'])} ms | {r['paper_vlc_ms']} ms | {r['paper_base_ms']} ms |")
    return out


def overhead(d: dict) -> list[str]:
    out = [f"**Table 4 — serial run inside one context vs plain** {load_note(d)} (alternating fresh processes, "
           f"median of {d['samples']})", "",
           "| workload | plain | in a context | overhead (wall) | overhead (CPU time) | paper | target |",
           "|---|---|---|---|---|---|---|"]
    for r in d["rows"]:
        out.append(f"| {r['workload']} n={r['n']} | {r['base_s']:.4f} s | {r['vlc_s']:.4f} s | {r['overhead_pct']:+.2f}% | "
                   f"{r.get('cpu_time_overhead_pct', float('nan')):+.2f}% | {r['paper_overhead_pct']}% | ≤ 0.5% |")
    return out


def nested(d: dict) -> list[str]:
    mk = d["makespan_s"]
    ov = d["makespan_over_ideal"]
    out = [f"**Fig. 9 — nested GEMM** {load_note(d)}: one {d['large']}² GEMM + {d['small_count']} {d['small']}² GEMMs, "
           f"ideal = total work / measured peak ({fmt(d['peak_gflops'])} GFLOP/s) = {d['ideal_s']:.3f} s", "",
           "| mode | makespan | x ideal |", "|---|---|---|"]
    for m in ("sequential", "threads", "contexts"):
        out.append(f"| {m} | {mk[m]:.3f} s | {ov[m]:.3f} |")
    out += ["", f"Contexts: {d['contexts_over_sequential']:.2f}x over sequential (paper 1.58x), "
            f"{d['contexts_over_threads']:.2f}x over plain threads (paper 1.17x); target within 5% of ideal: "
            f"{'met' if d['meets_target'] else 'missed'}."]
    if "best_over_ideal_at_best_peak" in d:
        b = d["best_over_ideal_at_best_peak"]
        out.append("Best-of-samples against the best peak: " + ", ".join(f"{m} {v:.3f} x ideal" for m, v in b.items()) + ".")
    return out


def arpack(d: dict) -> list[str]:
    s = d["seconds"]
    out = [f"**Fig. 10 — two ARPACK solves** {load_note(d)} (n={d['n']}, nev={d['nev']}, ncv={d['ncv']}; eigenvalues "
           f"correct: {d['eigenvalues_correct']})", "",
           "| run | seconds |", "|---|---|"]
    for k, v in s.items():
        out.append(f"| {k.replace('_', ' ')} | {fmt(v)} |")
    d2 = d.get("contexts_over_serial_default_blas_threads")
    out += ["", f"Speedup of the two contexts: {d['contexts_over_serial_1_blas_thread']:.2f}x over the serialized "
            f"solves with 1 BLAS thread, {fmt(d2)}x over serialized with OpenBLAS's default threads (paper: 1.96x "
            f"C++, 1.51x Python); target ≥ 1.8x: {'met' if d['meets_target'] else 'missed'}."]
    if "best_contexts_over_serial_1_blas_thread" in d:
        out.append(f"Best-of-samples: {d['best_contexts_over_serial_1_blas_thread']:.2f}x.")
    return out


def main() -> None:
    parts = []
    for name, fn in (("micro", micro), ("load-times", loads), ("overhead", overhead), ("nested-gemm", nested),
                     ("arpack", arpack)):
        d = load(name)
        if d:
            parts += fn(d) + ["", f"<sub>`{d['command']}`, {d['date_utc']}</sub>", ""]
    text = "\n".join(parts)
    (RESULTS / "vlc-summary.md").write_text("# VLC benchmark results\n\n" + text + "\n")
    print(text)


if __name__ == "__main__":
    main()
