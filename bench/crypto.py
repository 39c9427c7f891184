"""Crypto benchmark: `scelle encrypt`/`decrypt` against the reference `age` tool, same run.

Usage: .venv/bin/python bench/crypto.py [--size-mib 1024] [--repeat 3]

Reference: the Go `age` tool (Debian package `age`), on the same input file,
to the same recipient, writing to the same folder. Each command is a fresh
process (so start-up is counted for both); the best of --repeat runs is kept.

Printed: seconds and MB/s per direction, the ratio scelle/age (throughput;
> 1 means scelle is faster; target >= 1.25), and the peak RSS of each process
at two input sizes, to show memory does not grow with the file.
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
    """Run one child; return (seconds, peak RSS in KiB) measured with wait4."""
    started = time.perf_counter()
    proc = subprocess.Popen(argv, stdin=subprocess.DEVNULL, stderr=subprocess.PIPE)
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
    results = {
        "age encrypt": best([AGE, "-r", recipient, "-o", str(sealed), str(plain)], repeat),
        "scelle encrypt": best(
            [scelle, "encrypt", "-r", recipient, "-o", str(sealed), str(plain)], repeat
        ),
    }
    # Both decrypt the same file, written by scelle (age decrypts it: interop).
    results["age decrypt"] = best([AGE, "-d", "-i", str(key), "-o", str(back), str(sealed)], repeat)
    results["scelle decrypt"] = best(
        [scelle, "decrypt", "-i", str(key), "-o", str(back), str(sealed)], repeat
    )
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
    print(
        f"crypto benchmark: {size >> 20} MiB input, best of {args.repeat}, {os.cpu_count()} cores"
    )
    header = ("direction", "age s", "age MB/s", "scelle s", "scelle MB/s", "ratio")
    print("{:<10} {:>8} {:>9} {:>9} {:>11} {:>6}".format(*header))
    for direction in ("encrypt", "decrypt"):
        age_s, scelle_s = large[f"age {direction}"][0], large[f"scelle {direction}"][0]
        print(
            f"{direction:<10} {age_s:>8.2f} {size / age_s / 1e6:>9.0f} {scelle_s:>9.2f} "
            f"{size / scelle_s / 1e6:>11.0f} {age_s / scelle_s:>5.2f}x"
        )
    print(f"\npeak RSS (MiB) at {small >> 20} MiB and {size >> 20} MiB input:")
    for name in ("age encrypt", "scelle encrypt", "age decrypt", "scelle decrypt"):
        print(f"  {name:<15} {little[name][1] / 1024:>7.1f} {large[name][1] / 1024:>7.1f}")


if __name__ == "__main__":
    main()
