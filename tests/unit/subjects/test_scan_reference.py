"""On a generated file of synthetic records, `scelle scan` finds exactly the generator's counts."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest
from bench.gen_records import generate

SCELLE = str(Path(sys.executable).parent / "scelle")


@pytest.mark.slow
def test_scan_of_50_mib_matches_the_reference_counts(tmp_path: Path) -> None:
    path = tmp_path / "records.csv"
    counts = generate(path, size=50 << 20, seed=11, invalid_rate=0.02)
    env = {k: v for k, v in os.environ.items() if not k.startswith("SCELLE_")}
    done = subprocess.run(
        [SCELLE, "scan", "--json", str(path)], capture_output=True, env=env, check=False
    )
    assert done.returncode == 0, done.stderr
    report = json.loads(done.stdout)
    assert report["rows"] == counts.rows
    assert report["totals"] == {
        "nir": counts.nir_valid,
        "phone": counts.phones,
        "email": counts.emails,
        "birth_date": counts.birth_dates,
        "name": counts.surnames + counts.first_names,
        "health_text": counts.comments,
    }
    assert report["invalid"] == {"nir": counts.nir_invalid}
    assert counts.corsica > 0  # 2A/2B numbers are among them
    by_column = {(c["column"], c["kind"]): c["count"] for c in report["columns"]}
    assert by_column[("nir", "nir")] == counts.nir_valid
