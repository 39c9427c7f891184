"""``scelle scan``: identifiers per column in CSV (any delimiter and encoding), XLSX and text."""

from __future__ import annotations

import concurrent.futures
import copy
import json
import os
import subprocess
import sys
from pathlib import Path
from typing import Any

import openpyxl
import pytest
from bench.gen_records import generate

from scelle.errors import InvalidInput
from scelle.subjects import scan as scan_module
from scelle.subjects.kinds import Kind, header_kinds
from scelle.subjects.scan import scan_path

SCELLE = str(Path(sys.executable).parent / "scelle")

ROWS = [
    [
        "Nom",
        "Prénom",
        "Date de naissance",
        "NIR",
        "Téléphone",
        "Courriel",
        "Résultat",
        "Commentaire",
    ],
    [
        "MARTIN",
        "Hélène",
        "14/05/1985",
        "185057800608491",
        "06 12 34 56 78",
        "h.martin@example.org",
        "HbA1c 6.2 %",
        "Patiente diabétique, traitement par metformine, suivi trimestriel",
    ],
    [
        "DUBOIS",
        "François",
        "1970-01-02",
        "282072A12345665",
        "+33 7 11 22 33 44",
        "f@example.com",
        "CRP 3 mg/L",
        "Hypertension traitée; tension stable, revoir dans trois mois",
    ],
    [
        "PETIT",
        "Léa",
        "02.03.2001",
        "185057800608492",
        "0711223344",
        "lea@example.net",
        "TSH 1.2",
        "Allergie à la pénicilline signalée, antécédent de réaction",
    ],
]


def by_column(report: scan_module.ScanReport) -> dict[tuple[str, str], tuple[int, int]]:
    return {(f.column, f.kind.value): (f.count, f.invalid) for f in report.findings}


EXPECTED = {
    ("Nom", "name"): (3, 0),
    ("Prénom", "name"): (3, 0),
    ("Date de naissance", "birth_date"): (3, 0),
    ("NIR", "nir"): (2, 1),
    ("Téléphone", "phone"): (3, 0),
    ("Courriel", "email"): (3, 0),
    ("Commentaire", "health_text"): (3, 0),
}


def write_delimited(path: Path, delimiter: str, encoding: str, *, quote_all: bool = False) -> None:
    import csv

    with path.open("w", encoding=encoding, newline="") as out:
        writer = csv.writer(
            out, delimiter=delimiter, quoting=csv.QUOTE_ALL if quote_all else csv.QUOTE_MINIMAL
        )
        writer.writerows(ROWS)


@pytest.mark.parametrize("delimiter", [",", ";", "\t", "|"])
@pytest.mark.parametrize("encoding", ["utf-8", "utf-8-sig", "cp1252", "utf-16"])
def test_delimiters_and_encodings_are_detected(
    tmp_path: Path, delimiter: str, encoding: str
) -> None:
    path = tmp_path / "patients.csv"
    write_delimited(path, delimiter, encoding)
    report = scan_path(path)
    assert report.delimiter == delimiter
    assert report.header
    assert report.rows == 3
    assert by_column(report) == EXPECTED
    detected = {"utf-8": "utf-8", "utf-8-sig": "utf-8-sig", "cp1252": "cp1252", "utf-16": "utf-16"}
    assert report.encoding == detected[encoding]


def test_declared_delimiter_and_encoding_win(tmp_path: Path) -> None:
    path = tmp_path / "patients.txt.csv"
    write_delimited(path, "\t", "latin-1")
    report = scan_path(path, delimiter="tab", encoding="latin-1")
    assert report.delimiter == "\t"
    assert by_column(report) == EXPECTED


def test_quoted_cells_holding_the_delimiter_and_newlines(tmp_path: Path) -> None:
    path = tmp_path / "quoted.csv"
    rows = [*ROWS, ["ROUX", "Anne", "1990-10-10", "185057800608491", "", "", "",
                    "Suivi après chirurgie,\ndouleur contrôlée; 2 lignes"]]  # fmt: skip
    import csv

    with path.open("w", newline="") as out:
        csv.writer(out, delimiter=",", quoting=csv.QUOTE_ALL).writerows(rows)
    report = scan_path(path)
    assert report.rows == 4
    found = by_column(report)
    assert found[("NIR", "nir")] == (3, 1)
    assert found[("Commentaire", "health_text")] == (4, 0)


def test_block_boundaries_and_the_switch_to_the_csv_module(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    path = tmp_path / "gen.csv"
    counts = generate(path, size=300_000, seed=7)
    # Quotes appear after the first blocks: the rest goes through the csv module.
    with path.open("a") as out:
        out.write('99;"DURAND";"Jean";2000-01-01;185057800608491;0612345678;j@example.org;x;""\n')
    monkeypatch.setattr(scan_module, "BLOCK_BYTES", 4096)
    report = scan_path(path)
    found = by_column(report)
    assert report.rows == counts.rows + 1
    assert found[("nir", "nir")] == (counts.nir_valid + 1, counts.nir_invalid)
    assert found[("email", "email")] == (counts.emails + 1, 0)
    assert found[("commentaire", "health_text")] == (counts.comments, 0)


def test_ins_header_reports_ins_and_headerless_files_are_scanned(tmp_path: Path) -> None:
    path = tmp_path / "ins.csv"
    path.write_text("matricule INS;resultat\n185057800608491;positif\n282072B12345692;négatif\n")
    assert by_column(scan_path(path)) == {("matricule INS", "ins"): (2, 0)}
    bare = tmp_path / "bare.csv"
    bare.write_text("185057800608491;h@example.org\n282072B12345692;x@example.org\n")
    report = scan_path(bare)
    assert not report.header
    assert by_column(report) == {("column 1", "nir"): (2, 0), ("column 2", "email"): (2, 0)}


def test_header_words() -> None:
    assert header_kinds("N° sécurité sociale") == {Kind.NIR}
    assert header_kinds("INS") == {Kind.INS}
    assert header_kinds("INSEE") == {Kind.NIR}
    assert header_kinds("Nom de naissance") == {Kind.NAME}
    assert header_kinds("date_naissance") == {Kind.BIRTH_DATE}
    assert header_kinds("id_patient") == set()
    assert header_kinds("resultat") == set()


def test_names_found_by_their_values_without_a_header(tmp_path: Path) -> None:
    path = tmp_path / "names.csv"
    path.write_text("".join(f"{i};{n}\n" for i, n in enumerate(["MARTIN", "Jeanne DUPONT",
                    "Louis", "BERNARD", "Camille ROUX", "Zorglub"] * 3)))  # fmt: skip
    assert by_column(scan_path(path)) == {("column 2", "name"): (18, 0)}


def test_xlsx_is_read_streaming(tmp_path: Path) -> None:
    path = tmp_path / "patients.xlsx"
    book = openpyxl.Workbook(write_only=True)
    sheet = book.create_sheet("Résultats")
    sheet.append(ROWS[0])
    for row in ROWS[1:]:
        sheet.append(row)
    sheet.append(["ROBERT", "Jean", None, 185057800608491, None, None, None, None])  # a number
    book.save(path)
    report = scan_path(path)
    assert report.format == "xlsx"
    found = by_column(report)
    assert found[("Résultats!NIR", "nir")] == (3, 1)
    assert found[("Résultats!Courriel", "email")] == (3, 0)
    assert found[("Résultats!Nom", "name")] == (4, 0)


def test_plain_text(tmp_path: Path) -> None:
    path = tmp_path / "notes.txt"
    path.write_text(
        "Patient 1 85 05 78 006 084 91 joignable au 06 12 34 56 78 ou a@example.org\n"
        "Autre: 185057800608492 (clé fausse)\n"
    )
    found = by_column(scan_path(path))
    assert found == {("(text)", "nir"): (1, 1), ("(text)", "phone"): (1, 0),
                     ("(text)", "email"): (1, 0)}  # fmt: skip


def test_collects_distinct_identifiers_for_the_subject_index(tmp_path: Path) -> None:
    path = tmp_path / "gen.csv"
    counts = generate(path, size=50_000, seed=3, keep_nirs=True)
    report = scan_path(path, collect_identifiers=True)
    assert report.identifiers == set(counts.nirs)


def test_bad_options_are_clear_errors(tmp_path: Path) -> None:
    path = tmp_path / "a.csv"
    path.write_text("a;b\n1;2\n")
    with pytest.raises(InvalidInput):
        scan_path(path, delimiter=";;")
    with pytest.raises(InvalidInput):
        scan_path(path, encoding="no-such-encoding")


def _run(*args: str) -> subprocess.CompletedProcess[str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith("SCELLE_")}
    return subprocess.run([SCELLE, *args], capture_output=True, text=True, env=env, check=False)


def test_cli_json_and_table(tmp_path: Path) -> None:
    path = tmp_path / "patients.csv"
    write_delimited(path, ";", "utf-8")
    done = _run("scan", str(path), "--json")
    assert done.returncode == 0, done.stderr
    data = json.loads(done.stdout)
    assert data["totals"] == {"name": 6, "birth_date": 3, "nir": 2, "phone": 3, "email": 3,
                              "health_text": 3}  # fmt: skip
    assert data["invalid"] == {"nir": 1}
    table = _run("scan", str(path))
    assert table.returncode == 0
    assert "NIR" in table.stdout
    assert "wrong key" in table.stdout
    # The values themselves are never printed.
    assert "185057800608491" not in table.stdout + done.stdout


def test_cli_errors_are_one_line(tmp_path: Path) -> None:
    done = _run("scan", str(tmp_path / "missing.csv"))
    assert done.returncode != 0
    assert done.stderr.startswith("error: ")
    assert "Traceback" not in done.stderr
    bad = tmp_path / "bad.xlsx"
    bad.write_bytes(b"PK\x03\x04 not really a zip")
    done = _run("scan", str(bad))
    assert done.returncode == 1
    assert done.stderr.strip() == "error: the file is not a readable XLSX workbook"


def test_processes_over_byte_ranges_give_the_single_process_result(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(scan_module, "BLOCK_BYTES", 4096)
    # A thread left by another test (a fixture's) would make the scan stay in one process.
    monkeypatch.setattr(scan_module.threading, "active_count", lambda: 1)
    path = tmp_path / "gen.csv"
    counts = generate(path, size=200_000, seed=5, keep_nirs=True)
    size = path.stat().st_size
    assert scan_module._workers(3, size) == 3  # really forked here
    single = scan_path(path, jobs=1, collect_identifiers=True)
    parallel = scan_path(path, jobs=3, collect_identifiers=True)
    assert parallel.as_dict() == single.as_dict()
    assert parallel.identifiers == single.identifiers == set(counts.nirs)
    # A quote in the middle range: from there on the csv module reads, as in one process.
    lines = path.read_bytes().split(b"\n")
    middle = len(lines) // 2
    lines[middle] = lines[middle].replace(b";", b';"x";', 1)
    lines.insert(middle + 1, b'1;"ROUX";"Anne";1990-10-10;185057800608491;;;;"deux,\nlignes"')
    path.write_bytes(b"\n".join(lines))
    single = scan_path(path, jobs=1)
    parallel = scan_path(path, jobs=3)
    assert parallel.as_dict() == single.as_dict()
    assert single.rows == counts.rows + 1


def test_a_nir_column_with_odd_cells_counts_like_the_regex(tmp_path: Path) -> None:
    # Not every cell a bare NIR: the column-wide shape check fails, the regex runs.
    path = tmp_path / "odd.csv"
    cells = ["185057800608491", "282072a12345665", "2820722A12345665", "18505780060849",
             "x185057800608491", "1 85 05 78 006 084 91", "985057800608491",
             "282072B12345692"]  # fmt: skip
    path.write_text("nir;x\n" + "".join(f"{cell};{i}\n" for i, cell in enumerate(cells)))
    report = scan_path(path, collect_identifiers=True)
    assert by_column(report) == {("nir", "nir"): (4, 0)}
    assert report.identifiers == {"185057800608491", "282072A12345665", "282072B12345692"}
    # All bare: the fast path, same counts as one value at a time.
    bare = tmp_path / "bare.csv"
    values = ["185057800608491", "282072a12345665", "185057800608492", "282072B12345692"] * 3
    bare.write_text("nir\n" + "".join(f"{value}\n" for value in values))
    report = scan_path(bare, collect_identifiers=True)
    assert by_column(report) == {("nir", "nir"): (9, 3)}
    assert report.identifiers == {"185057800608491", "282072A12345665", "282072B12345692"}


class _LatePicklingPool:
    """ProcessPoolExecutor's timing at its worst: arguments copied only when a worker starts.

    The real pool pickles them on a feeder thread, some time after submit():
    a range submitted early may be pickled after earlier ranges were merged.
    """

    def __init__(self, **_options: object) -> None:
        self.calls: list[concurrent.futures.Future[object]] = []

    def __enter__(self) -> _LatePicklingPool:
        return self

    def __exit__(self, *_exc: object) -> None:
        return None

    def submit(self, fn: Any, *args: object, **kwargs: object) -> concurrent.futures.Future[object]:
        pool = self

        class Late(concurrent.futures.Future[object]):
            def result(self, timeout: float | None = None) -> object:
                if not self.done():
                    copied_args, copied_kwargs = copy.deepcopy((args, kwargs))  # = unpickled
                    self.set_result(fn(*copied_args, **copied_kwargs))
                return super().result(timeout)

        future = Late()
        pool.calls.append(future)
        return future


def test_ranges_count_once_however_late_the_pool_pickles_their_arguments(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(scan_module, "BLOCK_BYTES", 4096)
    monkeypatch.setattr(scan_module, "ProcessPoolExecutor", _LatePicklingPool)
    path = tmp_path / "gen.csv"
    generate(path, size=200_000, seed=7)
    single = scan_path(path, jobs=1)
    monkeypatch.setattr(scan_module, "_workers", lambda jobs, size: jobs or 1)
    assert scan_path(path, jobs=3).as_dict() == single.as_dict()
