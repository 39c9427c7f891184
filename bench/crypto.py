"""Crypto benchmark: `scelle encrypt`/`decrypt` against the reference `age` tool, same run.

Usage: .venv/bin/python bench/crypto.py [--size-mib 1024] [--repeat 3]

Reference: the Go `age` tool (Debian package `age`), on the same input file,
to the same recipient. Each command is a fresh process (so start-up is
counted for both); the best of --repeat runs is kept. Two sinks: stdout to
/dev/null (the crypto itself; the input is in the page cache) and a file in
the same folder (bound by the disk; scelle also fsyncs and renames its output,
age does not).

Printed: seconds and MB/s per direction and sink, the ratio scelle/age
(throughput; > 1 means scelle is faster; target >= 1.25), and the peak RSS of
each process at two input sizes, to show memory does not grow with the file.
"""

from __future__ import annotations

import argparse
import os
import shutil
import subprocess
import sys
import tempfile
import time
from pathlib import Path

BIN = Path(sys.executable).parent
AGE = shutil.which("age") or "/usr/bin/age"
AGE_KEYGEN = shutil.which("age-keygen") or "/usr/bin/age-keygen"


def run(argv: list[str]) -> tuple[float, int]:
    """Run one child (stdout to /dev/null); return (seconds, peak RSS in KiB) from wait4."""
    started = time.perf_counter()
    proc = subprocess.Popen(
        argv, stdin=subprocess.DEVNULL, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE
    )
    err = proc.stderr.read() if proc.stderr else b""
    _, status, usage = os.wait4(proc.pid, 0)
    elapsed = time.perf_counter() - started
    if os.waitstatus_to_exitcode(status) != 0:
        raise SystemExit(f"{argv[0]} {argv[1]} failed: {err.decode().strip()}")
    return elapsed, usage.ru_maxrss


def best(argv: list[str], repeat: int) -> tuple[float, int]:
    runs = [run(argv) for _ in range(repeat)]
    return min(r[0] for r in runs), max(r[1] for r in runs)


def write_input(path: Path, size: int) -> None:
    block = os.urandom(1 << 20)
    with path.open("wb") as out:
        for _ in range(size >> 20):
            out.write(block)
        out.write(block[: size & ((1 << 20) - 1)])


def measure(work: Path, size: int, repeat: int) -> dict[str, tuple[float, int]]:
    key = work / "key.txt"
    if not key.exists():
        subprocess.run([AGE_KEYGEN, "-o", str(key)], check=True, capture_output=True)
    recipient = next(
        line.split(": ")[1] for line in key.read_text().splitlines() if "public key:" in line
    )
    plain, sealed, back = work / "plain.bin", work / "sealed.age", work / "back.bin"
    write_input(plain, size)
    scelle = str(BIN / "scelle")
    enc = {"age": [AGE, "-r", recipient], "scelle": [scelle, "encrypt", "-r", recipient]}
    dec = {"age": [AGE, "-d", "-i", str(key)], "scelle": [scelle, "decrypt", "-i", str(key)]}
    # The file both tools decrypt is written by scelle (age reading it is interop).
    run([*enc["scelle"], "-o", str(sealed), str(plain)])
    results = {}
    for tool in ("age", "scelle"):
        results[f"{tool} encrypt null"] = best([*enc[tool], str(plain)], repeat)
        results[f"{tool} decrypt null"] = best([*dec[tool], str(sealed)], repeat)
        results[f"{tool} encrypt file"] = best([*enc[tool], "-o", str(back), str(plain)], repeat)
        results[f"{tool} decrypt file"] = best([*dec[tool], "-o", str(back), str(sealed)], repeat)
    if back.stat().st_size != size:
        raise SystemExit("round trip size mismatch")
    for path in (plain, sealed, back):
        path.unlink()
    return results


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--size-mib", type=int, default=1024)
    parser.add_argument("--repeat", type=int, default=3)
    args = parser.parse_args()
    size = args.size_mib << 20
    small = max(1, args.size_mib // 16) << 20
    with tempfile.TemporaryDirectory(prefix="scelle-bench-", dir=Path.cwd()) as folder:
        work = Path(folder)
        large = measure(work, size, args.repeat)
        little = measure(work, small, args.repeat)
    cores = os.cpu_count()
    print(f"crypto benchmark: {size >> 20} MiB input, best of {args.repeat}, {cores} cores")
    header = ("direction", "sink", "age s", "age MB/s", "scelle s", "scelle MB/s", "ratio")
    print("{:<9} {:<5} {:>7} {:>9} {:>9} {:>11} {:>6}".format(*header))
    for sink in ("null", "file"):
        for direction in ("encrypt", "decrypt"):
            age_s = large[f"age {direction} {sink}"][0]
            scelle_s = large[f"scelle {direction} {sink}"][0]
            print(
                f"{direction:<9} {sink:<5} {age_s:>7.2f} {size / age_s / 1e6:>9.0f} "
                f"{scelle_s:>9.2f} {size / scelle_s / 1e6:>11.0f} {age_s / scelle_s:>5.2f}x"
            )
    print(f"\npeak RSS (MiB) at {small >> 20} MiB and {size >> 20} MiB input (sink: null):")
    for name in ("age encrypt", "scelle encrypt", "age decrypt", "scelle decrypt"):
        print(
            f"  {name:<15} {little[name + ' null'][1] / 1024:>7.1f} "
            f"{large[name + ' null'][1] / 1024:>7.1f}"
        )


if __name__ == "__main__":
    main()
