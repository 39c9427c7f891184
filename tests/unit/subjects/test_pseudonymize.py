"""``scelle pseudonymize``: named columns replaced, the structure kept, the key kept local."""

from __future__ import annotations

import os
import stat
import subprocess
import sys
from pathlib import Path

import pytest

from scelle.crypto.pseudonym import PseudonymKey
from scelle.errors import InvalidInput
from scelle.subjects.pseudonymize import pseudonymize_file

SCELLE = str(Path(sys.executable).parent / "scelle")
KEY = PseudonymKey(bytes(range(32)))


def test_columns_replaced_structure_kept(tmp_path: Path) -> None:
    source = tmp_path / "in.csv"
    out = tmp_path / "out.csv"
    source.write_bytes(
        "\ufeffnom;nir;résultat\r\nMARTIN;185057800608491;positif\r\n"
        "Dupont;1 85 05 78 006 084 91;négatif\r\n;;vide\r\n".encode()
    )
    result = pseudonymize_file(source, out, ["NIR", "1"], KEY)
    assert result.rows == 3
    assert result.cells == 4  # empty cells stay empty
    assert result.encoding == "utf-8-sig"
    data = out.read_bytes()
    assert data.startswith(b"\xef\xbb\xbfnom;nir;r\xc3\xa9sultat\r\n")
    lines = data.decode("utf-8-sig").split("\r\n")
    assert lines[-1] == ""
    first, second, third = (line.split(";") for line in lines[1:4])
    assert first[1] == second[1] == KEY.column_pseudonym("185057800608491")  # same person
    assert first[0] == KEY.column_pseudonym("MARTIN")
    assert (first[2], second[2]) == ("positif", "négatif")
    assert third == ["", "", "vide"]
    assert b"185057800608491" not in data
    assert b"MARTIN" not in data


def test_quote_all_files_stay_quoted_and_cp1252_stays_cp1252(tmp_path: Path) -> None:
    source = tmp_path / "in.csv"
    out = tmp_path / "out.csv"
    source.write_bytes('"nom","commentaire"\n"Hélène","a, b"\n'.encode("cp1252"))
    pseudonymize_file(source, out, ["nom"], KEY)
    text = out.read_bytes().decode("cp1252")
    assert text == f'"nom","commentaire"\n"{KEY.column_pseudonym("Hélène")}","a, b"\n'


def test_errors(tmp_path: Path) -> None:
    source = tmp_path / "in.csv"
    source.write_text("a;b\n1;2\n")
    with pytest.raises(InvalidInput, match="no column named"):
        pseudonymize_file(source, tmp_path / "o.csv", ["c"], KEY)
    with pytest.raises(InvalidInput):
        pseudonymize_file(source, source, ["a"], KEY)
    assert not (tmp_path / "o.csv").exists()
    assert sorted(p.name for p in tmp_path.iterdir()) == ["in.csv"]  # no partial output


def _run(home: Path, *args: str) -> subprocess.CompletedProcess[str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith("SCELLE_")}
    env["SCELLE_HOME"] = str(home)
    return subprocess.run([SCELLE, *args], capture_output=True, text=True, env=env, check=False)


def test_cli_key_created_on_first_use_and_shared_by_file(tmp_path: Path) -> None:
    home = tmp_path / "home"
    source = tmp_path / "in.csv"
    source.write_text("nir,x\n185057800608491,1\n")
    done = _run(home, "pseudonymize", str(source), "--columns", "nir", "-o", str(tmp_path / "a"))
    assert done.returncode == 0, done.stderr
    key_path = home / "pseudonym.key"
    assert stat.S_IMODE(key_path.stat().st_mode) == 0o600
    key = PseudonymKey.from_text(key_path.read_text())
    assert (tmp_path / "a").read_text() == f"nir,x\n{key.column_pseudonym('185057800608491')},1\n"
    # Another sender with the organisation's key file gets the same pseudonyms.
    other = _run(tmp_path / "other", "pseudonymize", str(source), "-c", "nir", "-o",
                 str(tmp_path / "b"), "--key-file", str(key_path))  # fmt: skip
    assert other.returncode == 0, other.stderr
    assert (tmp_path / "b").read_text() == (tmp_path / "a").read_text()
    again = _run(home, "pseudonymize", "--new-key")
    assert again.returncode == 1
    assert again.stderr.startswith("error: a pseudonymisation key already exists")
    bad = _run(home, "pseudonymize", str(source), "-c", "nope", "-o", str(tmp_path / "c"))
    assert bad.returncode == 1
    assert bad.stderr == "error: no column named 'nope' in the header\n"
