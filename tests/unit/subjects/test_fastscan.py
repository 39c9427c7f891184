"""The scanner's C inner loop counts exactly what the regular expressions count.

``_fastscan.scan_block`` replaces, for a block of whole lines, the Python
path that joins each column's cells and runs the compiled patterns on them.
These tests hold the two equal: cell by cell on random text drawn from the
characters the patterns care about (hypothesis), on hand-picked edge cases,
and over whole generated files (the report with the C loop equals the report
without it).
"""

from __future__ import annotations

from pathlib import Path

import pytest
from bench.gen_records import generate
from hypothesis import given, settings
from hypothesis import strategies as st

from scelle.subjects import _fastscan as fastscan
from scelle.subjects import nir, scan
from scelle.subjects.kinds import BIRTH_DATE_PATTERN, EMAIL_PATTERN, PHONE_PATTERN

PHONES, SPACED_NIR, BIRTH_DATES = 1, 2, 4


def test_the_extension_is_built_here() -> None:
    """CI must exercise the C path: ``make setup`` compiles it (no silent fallback)."""
    assert scan._fastscan is not None


def reference(cells_by_column: list[list[bytes]], flags: bytes) -> list[int]:
    """What the compiled patterns find, column by column (six counts each)."""
    out: list[int] = []
    for cells, flag in zip(cells_by_column, flags, strict=True):
        text = b"\n".join(cells)
        candidates = nir.COMPACT_PATTERN.findall(text)
        if flag & SPACED_NIR:
            candidates += [
                value.replace(b" ", b"").replace(b".", b"")
                for value in nir.SPACED_PATTERN.findall(text)
            ]
        valid, invalid = nir.split_by_key(candidates)
        out += [
            len(valid),
            invalid,
            len(EMAIL_PATTERN.findall(text)),
            len(PHONE_PATTERN.findall(text)) if flag & PHONES else 0,
            len(BIRTH_DATE_PATTERN.findall(text)) if flag & BIRTH_DATES else 0,
            sum(1 for cell in cells if cell),
        ]
    return out


def fast(rows: list[list[bytes]], flags: bytes) -> tuple[int, list[int]] | None:
    block = b"".join(b";".join(row) + b"\n" for row in rows)
    return fastscan.scan_block(block, ord(";"), flags)


# Characters the patterns turn on, with some of everything else.
ALPHABET = list(b"0123456789" * 3 + b"0000112233" + b"AaBb2" + b" .-+@/:T\t\r_%xyzE" + b"\xc3\xa9")
cell_text = st.lists(st.sampled_from(ALPHABET), max_size=40).map(bytes)
pieces = st.sampled_from(
    [
        b"1850578006084",  # a NIR's first 13 characters
        b"185052A006084",
        b"2 85 2B 006 084",
        b"1 85 05 78 006 084 ",
        b"+33 6 12 34 56 78",
        b"06.12.34.56.78",
        b"0033612345678",
        b"0612 345678",
        b"jean.dupont@example.fr",
        b"a@b.fr@c.fr",
        b"x@y.com5",
        b"1985-05-14",
        b"1985-05-14T12:00",
        b"14/05/1985",
        b"1/5/2001",
        b" 31.12.1999 \r",
    ]
)
rich_cell = st.lists(st.one_of(cell_text, pieces), max_size=4).map(b"".join)


@settings(max_examples=400, deadline=None)
@given(
    width=st.integers(1, 4),
    data=st.data(),
)
def test_random_cells_count_like_the_patterns(width: int, data: st.DataObject) -> None:
    flags = bytes(data.draw(st.lists(st.integers(0, 7), min_size=width, max_size=width)))
    rows = data.draw(
        st.lists(st.lists(rich_cell, min_size=width, max_size=width), min_size=1, max_size=6)
    )
    rows = [[cell.replace(b";", b"").replace(b"\n", b"") for cell in row] for row in rows]
    got = fast(rows, flags)
    assert got is not None
    assert got[0] == len(rows)
    assert got[1] == reference([list(column) for column in zip(*rows, strict=True)], flags)


@pytest.mark.parametrize(
    ("cell", "flag", "expected"),
    [
        # a valid NIR, a wrong key, a 16-character run, one glued to a letter
        (b"185057800608491", 0, [1, 0, 0, 0, 0, 1]),
        (b"185057800608492", 0, [0, 1, 0, 0, 0, 1]),
        (b"1850578006084911", 0, [0, 0, 0, 0, 0, 1]),
        (b"x185057800608491", 0, [0, 0, 0, 0, 0, 1]),
        (b"185057800608491_", 0, [0, 0, 0, 0, 0, 1]),
        (b"note 185057800608491, fin", 0, [1, 0, 0, 0, 0, 1]),
        # Corsica, either case
        (b"285052A006084" + b"%02d" % nir.key_of("285052A006084"), 0, [1, 0, 0, 0, 0, 1]),
        (b"285052b006084" + b"%02d" % nir.key_of("285052B006084"), 0, [1, 0, 0, 0, 0, 1]),
        (b"285052C006084" + b"00", 0, [0, 0, 0, 0, 0, 1]),
        (b"1 85 05 78 006 084 91", SPACED_NIR, [1, 0, 0, 0, 0, 1]),
        (b"1 85 05 78 006 084 91", 0, [0, 0, 0, 0, 0, 1]),
        (b"a@b.fr@c.fr", 0, [0, 0, 2, 0, 0, 1]),
        (b"x@y.com5 z@w", 0, [0, 0, 1, 0, 0, 1]),
        (b"@x.fr", 0, [0, 0, 0, 0, 0, 1]),
        (b"0612 345678", PHONES, [0, 0, 0, 1, 0, 1]),
        (b"10612345678", PHONES, [0, 0, 0, 0, 0, 1]),
        (b"+33 (0)6 12 34 56 78", PHONES, [0, 0, 0, 0, 0, 1]),
        (b"1985-05-14 ", BIRTH_DATES, [0, 0, 0, 0, 1, 1]),
        (b"1985-05-14T", BIRTH_DATES, [0, 0, 0, 0, 0, 1]),
        (b"", PHONES | SPACED_NIR | BIRTH_DATES, [0, 0, 0, 0, 0, 0]),
    ],
)
def test_edge_cases_count_like_the_patterns(cell: bytes, flag: int, expected: list[int]) -> None:
    want = reference([[cell]], bytes([flag]))
    assert want == expected  # the patterns themselves, as documented
    assert fast([[cell]], bytes([flag])) == (1, want)


def test_ragged_lines_are_left_to_the_python_path() -> None:
    assert fastscan.scan_block(b"a;b;c\n", ord(";"), bytes(2)) is None
    assert fastscan.scan_block(b"a;b\nc\n", ord(";"), bytes(2)) is None
    assert fastscan.scan_block(b"a;b\nc;d", ord(";"), bytes(2)) is None  # no final newline
    assert fastscan.scan_block(b"a;b\n", ord(";"), b"") is None
    assert fastscan.scan_block(b"", ord(";"), bytes(2)) == (0, [0] * 12)


@pytest.mark.parametrize("delimiter", [";", ",", "\t", "|"])
def test_a_generated_file_gives_the_same_report_with_and_without_the_c_loop(
    tmp_path: Path, delimiter: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    path = tmp_path / "records.csv"
    counts = generate(path, size=3 * 1024 * 1024, delimiter=delimiter, invalid_rate=0.05)
    with_c = scan.scan_path(path, jobs=1)
    monkeypatch.setattr(scan, "_fastscan", None)
    without = scan.scan_path(path, jobs=1)
    assert with_c.as_dict() == without.as_dict()
    assert with_c.totals()["nir"] == counts.nir_valid


def test_both_paths_count_phones_the_old_digit_map_missed(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    # "0612 345678" has neither 9 digits in a row nor three spaced pairs: the
    # Python path used to skip the column's regex on that test alone.
    path = tmp_path / "phones.csv"
    path.write_text("nom;telephone\n" + "".join(f"MARTIN;0612 34567{i}\n" for i in range(3)))
    with_c = scan.scan_path(path).totals()
    monkeypatch.setattr(scan, "_fastscan", None)
    assert scan.scan_path(path).totals()["phone"] == with_c["phone"] == 3
