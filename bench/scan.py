"""Scan benchmark: `scelle scan` against `grep -cE` with the same NIR pattern, same file, same run.

Usage: .venv/bin/python bench/scan.py [--size-mib 1024] [--small-mib 100] [--repeat 1]

A synthetic CSV (bench/gen_records.py: made-up people, never real data) is
generated in a temporary folder, scanned by `scelle scan --json` (default:
one process per core, up to 4) and by `scelle scan --json --jobs 1` (one
process), and counted
by `grep -cE` with the scanner's NIR regex, in the C locale (byte matching,
grep's fastest) and in this machine's default locale. Each is a fresh process;
the best of --repeat runs is kept.

Printed: seconds, MB/s and CPU seconds of each, the ratios scelle/grep
(throughput: wall clock with the default processes and with one, and CPU time
of one process, which a machine shared with other work disturbs least;
target >= 0.5), whether scelle's counts equal the generator's reference counts, and
the peak RSS of `scelle scan` at --small-mib and --size-mib (flat memory: the
two should be about equal).

`scelle scan` does more than grep: it splits the cells, checks every NIR's key,
and also counts phones, e-mails, birth dates, names and clinical text per
column. grep only finds lines holding the pattern.
"""

from __future__ import annotations

import argparse
import json
import os
import subprocess
import sys
import tempfile
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from bench.gen_records import ReferenceCounts, generate

BIN = Path(sys.executable).parent
# The scanner's compact NIR pattern (scelle.subjects.nir.COMPACT_SOURCE), in ERE syntax.
NIR_ERE = r"\b[1-478][0-9]{4}([0-9]{2}|2[ABab])[0-9]{8}\b"


def run(argv: list[str], env: dict[str, str] | None = None) -> tuple[float, int, bytes, float]:
    """Run one child (stdout to a temporary file); return (seconds, peak RSS KiB, stdout, CPU s).

    The CPU seconds (user + system) include the child's own workers: on a
    machine shared with other work they say more than the wall-clock time.
    """
    started = time.perf_counter()
    with tempfile.TemporaryFile() as sink:
        proc = subprocess.Popen(
            argv, stdin=subprocess.DEVNULL, stdout=sink, stderr=subprocess.DEVNULL, env=env
        )
        _, status, usage = os.wait4(proc.pid, 0)
        elapsed = time.perf_counter() - started
        code = os.waitstatus_to_exitcode(status)
        if code not in (0, 1) or (not argv[0].endswith("grep") and code):
            raise SystemExit(f"{argv[0]} failed with exit code {code}")
        sink.seek(0)
        return elapsed, usage.ru_maxrss, sink.read(), usage.ru_utime + usage.ru_stime


def best(
    argv: list[str], repeat: int, env: dict[str, str] | None = None
) -> tuple[float, int, bytes, float]:
    runs = [run(argv, env) for _ in range(repeat)]
    fastest = min(runs, key=lambda r: r[0])
    return fastest[0], max(r[1] for r in runs), fastest[2], min(r[3] for r in runs)


def check(report: dict[str, object], counts: ReferenceCounts) -> list[str]:
    """Differences between the scan's totals and the generator's reference counts."""
    totals = report["totals"]
    invalid = report["invalid"]
    assert isinstance(totals, dict)
    assert isinstance(invalid, dict)
    expected = {
        "nir": counts.nir_valid,
        "phone": counts.phones,
        "email": counts.emails,
        "birth_date": counts.birth_dates,
        "name": counts.surnames + counts.first_names,
        "health_text": counts.comments,
    }
    problems = [
        f"{kind}: scan {totals.get(kind, 0)} != reference {value}"
        for kind, value in expected.items()
        if totals.get(kind, 0) != value
    ]
    if invalid.get("nir", 0) != counts.nir_invalid:
        problems.append(f"invalid nir: scan {invalid.get('nir', 0)} != {counts.nir_invalid}")
    return problems


def measure(work: Path, size: int, repeat: int, *, with_grep: bool) -> dict[str, object]:
    data = work / f"records-{size >> 20}.csv"
    started = time.perf_counter()
    counts = generate(data, size=size, seed=1)
    generated = time.perf_counter() - started
    scelle = [str(BIN / "scelle"), "scan", "--json", str(data)]
    result: dict[str, object] = {"bytes": counts.bytes, "rows": counts.rows, "gen_s": generated}
    seconds, rss, out, cpu = best(scelle, repeat)
    report = json.loads(out)
    result["scelle"] = (seconds, rss, cpu)
    result["problems"] = check(report, counts)
    if with_grep:
        seconds, rss, out, cpu = best([*scelle, "--jobs", "1"], repeat)
        result["scelle 1"] = (seconds, rss, cpu)
        result["problems"] += check(json.loads(out), counts)
    if with_grep:
        for name, locale in (("grep C", "C"), ("grep default", None)):
            env = dict(os.environ)
            if locale:
                env["LC_ALL"] = locale
            grep_s, _, grep_out, grep_cpu = best(["grep", "-cE", NIR_ERE, str(data)], repeat, env)
            result[name] = (grep_s, int(grep_out or 0), grep_cpu)
        result["nir_lines"] = counts.nir_valid + counts.nir_invalid
    data.unlink()
    return result


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--size-mib", type=int, default=1024)
    parser.add_argument("--small-mib", type=int, default=100)
    parser.add_argument("--repeat", type=int, default=1)
    args = parser.parse_args()
    with tempfile.TemporaryDirectory(prefix="scelle-bench-scan-") as folder:
        work = Path(folder)
        large = measure(work, args.size_mib << 20, args.repeat, with_grep=True)
        small = measure(work, args.small_mib << 20, args.repeat, with_grep=False)
    size = int(large["bytes"])  # type: ignore[call-overload]
    default_locale = os.environ.get("LC_ALL") or os.environ.get("LANG") or "C"
    print(
        f"scan benchmark: {size / 1e6:.0f} MB synthetic CSV, {large['rows']} rows, "
        f"best of {args.repeat}, {os.cpu_count()} cores, load {os.getloadavg()[0]:.1f}"
    )
    scelle_s, scelle_rss, scelle_cpu = large["scelle"]  # type: ignore[misc]
    single_s, single_rss, single_cpu = large["scelle 1"]  # type: ignore[misc]
    print(f"{'tool':<28} {'s':>7} {'MB/s':>7} {'CPU s':>7}   ratios grep/scelle: "
          "wall (jobs auto, jobs 1), CPU (jobs 1)")  # fmt: skip
    for label, secs, cpu in (("scelle scan --json", scelle_s, scelle_cpu),
                             ("scelle scan --json --jobs 1", single_s, single_cpu)):  # fmt: skip
        print(f"{label:<28} {secs:>7.2f} {size / secs / 1e6:>7.1f} {cpu:>7.2f}")
    for name, label in (("grep C", "grep -cE (LC_ALL=C)"),
                        ("grep default", f"grep -cE ({default_locale})")):  # fmt: skip
        grep_s, lines, grep_cpu = large[name]  # type: ignore[misc]
        print(f"{label:<28} {grep_s:>7.2f} {size / grep_s / 1e6:>7.1f} {grep_cpu:>7.2f}   "
              f"{grep_s / scelle_s:.2f}x {grep_s / single_s:.2f}x {grep_cpu / single_cpu:.2f}x"
              f"   ({lines} lines; reference {large['nir_lines']})")  # fmt: skip
    problems = large["problems"] or small["problems"]
    print("scan counts = reference counts:", "yes" if not problems else f"NO {problems}")
    small_rss = small["scelle"][1]  # type: ignore[index]
    print(
        f"peak RSS of scelle scan: {small_rss / 1024:.1f} MiB at {args.small_mib} MiB, "
        f"{scelle_rss / 1024:.1f} MiB at {args.size_mib} MiB "
        f"(largest process; --jobs 1: {single_rss / 1024:.1f} MiB)"
    )
    print(f"(generating the {args.size_mib} MiB file took {large['gen_s']:.1f} s)")


if __name__ == "__main__":
    main()
