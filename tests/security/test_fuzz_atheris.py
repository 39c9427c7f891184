"""A bounded, seeded atheris (libFuzzer) run over each parser that reads an attacker's bytes.

Coverage-guided, so it reaches branches the hypothesis tests of
``test_fuzz_parsers.py`` draw only by chance. Each target runs a fixed
number of inputs from a fixed seed (``SCELLE_ATHERIS_RUNS`` raises it for a
long run): no exception other than the parser's documented error, no input
taking more than 10 s, the process under 1 GiB resident.
"""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest

RUNS = int(os.environ.get("SCELLE_ATHERIS_RUNS", "3000"))
ROOT = Path(__file__).resolve().parents[2]


@pytest.mark.parametrize("target", ["age-header", "armor", "tus-metadata", "identifier-scan"])
def test_atheris_finds_no_crash_hang_or_memory_blowup(target: str, tmp_path: Path) -> None:
    env = {k: v for k, v in os.environ.items() if not k.startswith("SCELLE_")}
    result = subprocess.run(
        [
            sys.executable,
            "-m",
            "tests.security.fuzzing.harness",
            target,
            f"-runs={RUNS}",
            "-seed=20211",
            "-max_len=4096",
            "-timeout=10",
            "-rss_limit_mb=1024",
            f"-artifact_prefix={tmp_path}/",
        ],
        cwd=ROOT,
        env=env,
        capture_output=True,
        text=True,
        timeout=600,
        check=False,
    )
    tail = "\n".join(result.stderr.splitlines()[-25:])
    assert result.returncode == 0, f"atheris found a failure in {target}:\n{tail}"
    assert f"Done {RUNS} runs" in result.stderr, tail
    assert list(tmp_path.iterdir()) == [], "a crash input was written"
