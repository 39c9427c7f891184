"""Letters to the people concerned (GDPR art. 34), written on the sending organisation's side.

The organisation holds its pseudonymisation key and its own patient list (CSV
with an identifier column, a name column and address columns). It recomputes
each patient's subject-index pseudonym and keeps those the assessment lists:
only it can, the server never could. One letter per person, plain text or
PDF (:mod:`scelle.breach.pdf`), in French by default (``lang="en"`` for
English). A letter names the kinds of data concerned, never the values (no
identifier, no result, no comment). Pure: no server code.
"""

from __future__ import annotations

import csv
import io
from collections.abc import Iterable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from scelle.crypto.pseudonym import PseudonymKey
from scelle.errors import InvalidInput
from scelle.subjects import nir
from scelle.subjects.kinds import normalise_header
from scelle.subjects.scan import SAMPLE_BYTES, detect_delimiter, detect_encoding

__all__ = ["Person", "exposed_people", "write_letters"]

_KIND_FR = {
    "nir": "votre numéro de sécurité sociale",
    "ins": "votre identifiant national de santé (INS)",
    "phone": "votre numéro de téléphone",
    "email": "votre adresse électronique",
    "birth_date": "votre date de naissance",
    "name": "vos nom et prénom",
    "health_text": "des informations sur votre santé",
}
_KIND_EN = {
    "nir": "your social-security number",
    "ins": "your national health identifier (INS)",
    "phone": "your phone number",
    "email": "your e-mail address",
    "birth_date": "your date of birth",
    "name": "your name",
    "health_text": "information about your health",
}


@dataclass(frozen=True)
class Person:
    """One person of the organisation's list whom the breach concerns."""

    identifier: str
    name: str
    address: list[str]


def _column(header: list[str], wanted: str) -> int:
    names = [normalise_header(cell) for cell in header]
    key = normalise_header(wanted)
    if key not in names:
        raise InvalidInput(f"no column named {wanted!r} in the patient list")
    return names.index(key)


def exposed_people(
    patients: Path,
    assessment: dict[str, Any],
    key: PseudonymKey,
    *,
    id_column: str,
    name_column: str,
    address_columns: Iterable[str],
) -> list[Person]:
    """The people of ``patients`` whose subject pseudonym the assessment lists (streamed)."""
    exposed: set[str] = set()
    for org in assessment.get("organisations", []):
        if key.key_id in org.get("pseudonym_key_ids", []) or not org.get("pseudonym_key_ids"):
            exposed.update(org.get("subjects", []))
    with patients.open("rb") as raw:
        sample = raw.read(SAMPLE_BYTES)
        encoding = detect_encoding(sample)
        text = sample.decode(encoding, errors="replace")
        delimiter = detect_delimiter(text)
        raw.seek(0)
        stream = io.TextIOWrapper(raw, encoding=encoding, newline="")
        reader = csv.reader(stream, delimiter=delimiter)
        header = next(reader, None)
        if header is None:
            raise InvalidInput("the patient list is empty")
        id_index = _column(header, id_column)
        name_index = _column(header, name_column)
        address_indexes = [_column(header, c) for c in address_columns]
        found: list[Person] = []
        for row in reader:
            if id_index >= len(row):
                continue
            identifier = nir.normalise(row[id_index])
            if key.subject_pseudonym(identifier) in exposed:
                found.append(
                    Person(
                        identifier=identifier,
                        name=row[name_index].strip() if name_index < len(row) else "",
                        address=[row[i].strip() for i in address_indexes if i < len(row)],
                    )
                )
        stream.detach()
    return found


def _letter(person: Person, assessment: dict[str, Any], org: str, contact: str, lang: str) -> str:
    kinds = [k for k, n in assessment.get("totals", {}).get("kinds", {}).items() if n]
    readable = assessment.get("plaintext_exposed") == "yes"
    address = "\n".join([person.name, *person.address])
    window = assessment.get("window", {})
    if lang == "fr":
        data = ", ".join(_KIND_FR.get(k, k) for k in kinds) or "des données vous concernant"
        happened = (
            "des fichiers qui vous concernent ont pu être lus par une personne non autorisée"
            if readable
            else "des fichiers chiffrés qui vous concernent ont été exposés ; ils sont "
            "illisibles sans des clés qui n'ont pas été compromises"
        )
        return f"""{address}

Objet : incident de sécurité concernant vos données personnelles

Madame, Monsieur,

Nous vous informons qu'entre le {window.get("from", "?")} et le {window.get("to", "?")}, \
{happened}.

Les données concernées sont : {data}.

Ce que nous avons fait : nous avons coupé les accès concernés, renouvelé les mots de passe \
et les clés, et informé l'autorité de contrôle (CNIL).

Attention : personne ne vous demandera jamais votre mot de passe ni vos coordonnées \
bancaires, ni par téléphone, ni par courriel, ni par SMS. Si quelqu'un le fait en se \
réclamant de nous ou de cet incident, ne répondez pas.

Pour toute question : {contact}

{org}
"""
    data = ", ".join(_KIND_EN.get(k, k) for k in kinds) or "data about you"
    happened = (
        "files about you may have been read by an unauthorised person"
        if readable
        else "encrypted files about you were exposed; they cannot be read without keys "
        "that were not compromised"
    )
    return f"""{address}

Subject: a security incident concerning your personal data

Dear {person.name or "Sir or Madam"},

Between {window.get("from", "?")} and {window.get("to", "?")}, {happened}.

The data concerned: {data}.

What we did: we cut off the access concerned, renewed passwords and keys, and informed the \
supervisory authority.

Please note: no one will ever ask you for your password or your bank details, by phone, \
e-mail or text message. If anyone does, claiming to come from us or about this incident, \
do not answer.

For any question: {contact}

{org}
"""


def write_letters(
    people: list[Person],
    assessment: dict[str, Any],
    out_dir: Path,
    *,
    org: str,
    contact: str,
    lang: str = "fr",
    output_format: str = "txt",
) -> list[Path]:
    """One letter per person in ``out_dir`` (``letter-0001.txt`` or ``.pdf``...); returns the paths.

    Raises InvalidInput for an unknown language or format, or (PDF) no font.
    """
    if lang not in {"fr", "en"}:
        raise InvalidInput("the language is fr or en")
    if output_format not in {"txt", "pdf"}:
        raise InvalidInput("the letters' format is txt or pdf")
    if output_format == "pdf":
        from scelle.breach.pdf import find_font, letter_pdf

        find_font()  # before any file is written
    out_dir.mkdir(parents=True, exist_ok=True, mode=0o700)
    paths: list[Path] = []
    for number, person in enumerate(people, start=1):
        text = _letter(person, assessment, org, contact, lang)
        path = out_dir / f"letter-{number:04d}.{output_format}"
        if output_format == "pdf":
            path.write_bytes(letter_pdf(text))
        else:
            path.write_text(text, encoding="utf-8")
        paths.append(path)
    return paths
