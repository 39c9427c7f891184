"""PDF output: the art. 33(3) notice and the letters parse as PDF, hold the expected text
(French accents included, DejaVu Sans embedded) and no data beyond what they must say."""

from __future__ import annotations

import io
import os
import subprocess
import sys
from pathlib import Path
from typing import Any

import pypdf
import pytest

from scelle.breach.letters import Person, write_letters
from scelle.breach.notice import render_markdown
from scelle.breach.pdf import letter_pdf, notice_pdf
from scelle.errors import InvalidInput
from scelle.server.container import Services

SCELLE = str(Path(sys.executable).parent / "scelle")

REPORT: dict[str, Any] = {
    "id": "br_test",
    "window": {"from": "2026-01-01T00:00:00+00:00", "to": "2026-01-02T00:00:00+00:00"},
    "aware_at": "2026-01-03T10:00:00+00:00",
    "notify_by": "2026-01-06T10:00:00+00:00",
    "scope": "key",
    "account": "bob@cpam-75.test",
    "plaintext_exposed": "yes",
    "art_34_3_a": False,
    "dpo_contact": "dpo@lab-x.test",
    "totals": {
        "transfers": 1,
        "records": 3,
        "subjects": 2,
        "kinds": {"nir": 2, "health_text": 3, "name": 6},
    },
    "organisations": [{"org": "lab-x", "pseudonym_key_ids": [], "subjects": []}],
    "transfers": [{"id": "tr_one", "sender_org": "lab-x", "records": 3, "subjects": 2}],
}


def pdf_text(data: bytes | Path) -> str:
    """The text of every page, whitespace folded (justified lines add spaces)."""
    reader = pypdf.PdfReader(data if isinstance(data, Path) else io.BytesIO(data))
    return " ".join(" ".join(page.extract_text().split()) for page in reader.pages)


def fonts(data: bytes) -> set[str]:
    reader = pypdf.PdfReader(io.BytesIO(data))
    return {
        str(font.get_object()["/BaseFont"]).split("+")[-1]
        for page in reader.pages
        for font in page["/Resources"]["/Font"].values()
    }


def test_the_french_notice_holds_the_art_33_3_sections() -> None:
    data = notice_pdf(render_markdown(REPORT, "fr"))
    assert data.startswith(b"%PDF-")
    text = pdf_text(data)
    for section in ("RGPD art. 33(3)", "(a) Nature de la violation", "(b) Point de contact",
                    "(c) Conséquences probables", "(d) Mesures prises ou envisagées"):  # fmt: skip
        assert section in text
    assert "Notifier l'autorité de contrôle avant le : 2026-01-06T10:00:00+00:00" in text
    assert "Nombre approximatif de personnes concernées : 2" in text
    assert "numéros de sécurité sociale (NIR) : 2" in text
    assert "dpo@lab-x.test" in text
    assert "L'art. 34(3)(a) ne s'applique pas" in text
    assert "tr_one" in text  # the transfers table
    assert fonts(data) <= {"DejaVuSansBook", "DejaVuSansBold", "DejaVuSans"}


def test_the_english_notice_is_the_markdown_of_the_register() -> None:
    text = pdf_text(notice_pdf(render_markdown(REPORT)))
    assert "Draft notice to the supervisory authority (GDPR art. 33(3))" in text
    assert "(a) Nature of the breach" in text
    assert "Art. 34(3)(a) does not apply" in text


def test_letters_name_the_person_and_say_no_more_than_they_must(tmp_path: Path) -> None:
    people = [
        Person("185057800608491", "Hélène MARTIN-ÇA", ["3 rue de l'Église", "75001 Paris"]),
        Person("282072A12345665", "François Œdipe DUBOIS", ["1 place Grenette", "20000 Ajaccio"]),
    ]
    paths = write_letters(people, REPORT, tmp_path / "out", org="Laboratoire X",
                          contact="dpo@lab-x.test", output_format="pdf")  # fmt: skip
    assert [p.name for p in paths] == ["letter-0001.pdf", "letter-0002.pdf"]
    for person, path in zip(people, paths, strict=True):
        text = pdf_text(path)
        assert person.name in text
        assert person.address[0] in text
        assert "incident de sécurité" in text
        assert "mot de passe ni vos coordonnées bancaires" in text
        assert "des informations sur votre santé" in text  # the kind, not the data
        assert person.identifier not in text.replace(" ", "")
        assert "Laboratoire X" in text
        reader = pypdf.PdfReader(path)
        assert person.name not in str(reader.metadata)
    other = pdf_text(paths[1])
    assert people[0].name not in other  # one person per letter


def test_an_english_letter() -> None:
    text = pdf_text(letter_pdf("Jane DOE\n1 Main St\n\nSubject: x\n\nno bank details\n"))
    assert text.startswith("Jane DOE 1 Main St Subject: x no bank details")


def test_no_font_is_a_clear_error(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("SCELLE_PDF_FONT", str(tmp_path / "missing.ttf"))
    with pytest.raises(InvalidInput, match="SCELLE_PDF_FONT"):
        write_letters([Person("1", "A", [])], REPORT, tmp_path / "l", org="o", contact="c",
                      output_format="pdf")  # fmt: skip
    assert not (tmp_path / "l").exists()


def test_cli_assess_writes_the_pdf_notice(services: Services, tmp_path: Path) -> None:
    env = {k: v for k, v in os.environ.items() if not k.startswith("SCELLE_")}
    out = tmp_path / "notice.pdf"
    done = subprocess.run(
        [SCELLE, "breach", "assess", "--from", "2026-01-01T00:00Z", "--to", "2026-01-02T00:00Z",
         "--scope", "server", "--aware-at", "2026-01-03T10:00Z", "--format", "pdf", "-o",
         str(out), "--data", str(services.settings.data)],
        capture_output=True, text=True, env=env, check=False,
    )  # fmt: skip
    assert done.returncode == 0, done.stderr
    text = pdf_text(out)
    assert "(a) Nature de la violation" in text
    assert "L'art. 34(3)(a) s'applique" in text  # server scope: ciphertext only
    assert "2026-01-06T10:00:00+00:00" in text
    missing = subprocess.run(
        [SCELLE, "breach", "assess", "--from", "2026-01-01", "--to", "2026-01-02", "--scope",
         "server", "--format", "pdf", "--data", str(services.settings.data)],
        capture_output=True, text=True, env=env, check=False,
    )  # fmt: skip
    assert missing.returncode == 1
    assert missing.stderr == "error: --format pdf needs --output FILE\n"
