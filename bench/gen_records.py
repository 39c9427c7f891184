"""Synthetic patient records: a CSV of made-up people, never real data.

Usage: .venv/bin/python bench/gen_records.py OUT.csv [--size-mib 100] [--seed 1]
       [--delimiter ';'] [--invalid-rate 0.01]

Every row is one invented person: surname, first name, birth date, a NIR
whose key is valid (Corsican departments 2A/2B included), a French phone
number in one of the usual written forms, an e-mail address, a lab result and
a clinical free-text comment. A small share of NIRs carries a wrong key, on
purpose, so that the scanner's "invalid" count is exercised. The file is
written as it is generated (constant memory), and :func:`generate` returns the
reference counts the scanner must find.

The NIRs are synthetic: order numbers and communes are random, so a value may
by chance equal a real person's number. It is only ever used as test data.
"""

from __future__ import annotations

import argparse
import random
import sys
from dataclasses import asdict, dataclass, field
from pathlib import Path

__all__ = ["HEADER", "Person", "ReferenceCounts", "generate", "nir_key", "people"]

HEADER = [
    "id",
    "nom",
    "prenom",
    "date_naissance",
    "nir",
    "telephone",
    "email",
    "resultat",
    "commentaire",
]

SURNAMES = [
    "MARTIN", "BERNARD", "THOMAS", "PETIT", "ROBERT", "RICHARD", "DURAND", "DUBOIS", "MOREAU",
    "LAURENT", "SIMON", "MICHEL", "LEFEBVRE", "LEROY", "ROUX", "DAVID", "BERTRAND", "MOREL",
    "FOURNIER", "GIRARD", "BONNET", "DUPONT", "LAMBERT", "FONTAINE", "ROUSSEAU", "VINCENT",
    "MULLER", "LEFEVRE", "FAURE", "ANDRE", "MERCIER", "BLANC", "GUERIN", "BOYER", "GARNIER",
    "CHEVALIER", "FRANCOIS", "LEGRAND", "GAUTHIER", "GARCIA", "PERRIN", "ROBIN", "CLEMENT",
    "MORIN", "NICOLAS", "HENRY", "ROUSSEL", "MATHIEU", "GAUTIER", "MASSON", "PAOLI", "SANTONI",
]  # fmt: skip
FIRST_NAMES = [
    ("Jean", 1), ("Pierre", 1), ("Michel", 1), ("André", 1), ("Philippe", 1), ("Louis", 1),
    ("Nicolas", 1), ("François", 1), ("Laurent", 1), ("Julien", 1), ("Thomas", 1), ("Hugo", 1),
    ("Marie", 2), ("Jeanne", 2), ("Françoise", 2), ("Monique", 2), ("Catherine", 2),
    ("Nathalie", 2), ("Isabelle", 2), ("Sylvie", 2), ("Camille", 2), ("Léa", 2), ("Chloé", 2),
    ("Emma", 2), ("Hélène", 2), ("Anne", 2),
]  # fmt: skip
RESULTS = [
    "HbA1c {v:.1f} %", "glycémie {v:.2f} g/L", "CRP {v:.0f} mg/L", "TSH {v:.2f} mUI/L",
    "créatinine {v:.0f} µmol/L", "hémoglobine {v:.1f} g/dL", "PCR SARS-CoV-2 négatif",
    "PCR SARS-CoV-2 positif", "groupe sanguin A+", "groupe sanguin O-",
]  # fmt: skip
COMMENTS = [
    "Patient diabétique de type 2, traitement par metformine, suivi trimestriel",
    "Hypertension artérielle traitée, tension stable, revoir dans trois mois",
    "Allergie à la pénicilline signalée, antécédent de réaction cutanée",
    "Sortie d'hospitalisation après chirurgie, douleur contrôlée sous paracétamol",
    "Insuffisance rénale modérée, adapter la posologie, contrôle de la créatinine",
    "Grossesse en cours, 24 semaines, examen de dépistage sans anomalie",
    "Asthme connu, traitement de fond inhalé, pas d'exacerbation récente",
    "Dépression suivie en psychiatrie, traitement antidépresseur à poursuivre",
    "Cancer du sein en rémission, surveillance oncologique annuelle",
    "Fièvre et toux depuis cinq jours, symptômes compatibles avec une infection",
]  # fmt: skip
DOMAINS = ["example.org", "example.com", "example.net", "exemple.fr"]


def nir_key(first13: str) -> int:
    """The NIR control key of the first 13 characters (2A counts as 19, 2B as 18)."""
    number = int(first13.replace("2A", "19").replace("2B", "18"))
    return 97 - number % 97


@dataclass
class Person:
    """One synthetic person as written in a row."""

    row_id: int
    surname: str
    first_name: str
    birth_date: str
    nir: str
    nir_valid: bool
    phone: str
    email: str
    result: str
    comment: str

    def cells(self) -> list[str]:
        return [
            str(self.row_id),
            self.surname,
            self.first_name,
            self.birth_date,
            self.nir,
            self.phone,
            self.email,
            self.result,
            self.comment,
        ]


@dataclass
class ReferenceCounts:
    """What the generator wrote: the counts a correct scan must report."""

    rows: int = 0
    bytes: int = 0
    nir_valid: int = 0
    nir_invalid: int = 0
    corsica: int = 0
    phones: int = 0
    emails: int = 0
    birth_dates: int = 0
    surnames: int = 0
    first_names: int = 0
    comments: int = 0
    nirs: list[str] = field(default_factory=list, repr=False)

    def as_dict(self) -> dict[str, int]:
        data = asdict(self)
        data.pop("nirs")
        return data


def _phone(rng: random.Random) -> str:
    digits = f"{rng.choice('67')}{rng.randrange(10**8):08d}"
    pairs = [digits[i : i + 2] for i in range(1, 9, 2)]
    form = rng.randrange(5)
    if form == 0:
        return f"+33 {digits[0]} {' '.join(pairs)}"
    if form == 1:
        return f"0{digits[0]}{''.join(pairs)}"
    if form == 2:
        return f"0{digits[0]} {' '.join(pairs)}"
    if form == 3:
        return f"+33{digits}"
    return f"0{digits[0]}.{'.'.join(pairs)}"


def people(seed: int = 1, invalid_rate: float = 0.01, corsica_rate: float = 0.02):  # type: ignore[no-untyped-def]
    """Yield synthetic people forever, reproducibly for a given seed."""
    rng = random.Random(seed)  # noqa: S311  (reproducible test data, not secrets)
    row_id = 0
    while True:
        row_id += 1
        first_name, sex = rng.choice(FIRST_NAMES)
        surname = rng.choice(SURNAMES)
        year = rng.randrange(1930, 2024)
        month = rng.randrange(1, 13)
        day = rng.randrange(1, 29)
        if rng.random() < corsica_rate:
            department, commune = rng.choice(("2A", "2B")), f"{rng.randrange(1, 367):03d}"
        else:
            department, commune = f"{rng.randrange(1, 96):02d}", f"{rng.randrange(1, 990):03d}"
            if department == "20":
                department = "21"
        first13 = (
            f"{sex}{year % 100:02d}{month:02d}{department}{commune}{rng.randrange(1, 1000):03d}"
        )
        key = nir_key(first13)
        valid = rng.random() >= invalid_rate
        if not valid:
            key = (key + rng.randrange(1, 97)) % 97 or 97
        value = rng.uniform(0.5, 12.0)
        yield Person(
            row_id=row_id,
            surname=surname,
            first_name=first_name,
            birth_date=f"{year}-{month:02d}-{day:02d}"
            if rng.random() < 0.5
            else f"{day:02d}/{month:02d}/{year}",
            nir=f"{first13}{key:02d}",
            nir_valid=valid,
            phone=_phone(rng),
            email=f"{first_name.lower()}.{surname.lower()}{row_id}@{rng.choice(DOMAINS)}".replace(
                "é", "e"
            )
            .replace("è", "e")
            .replace("ç", "c")
            .replace("ë", "e"),
            result=rng.choice(RESULTS).format(v=value),
            comment=f"{rng.choice(COMMENTS)}. {rng.choice(COMMENTS)}.",
        )


def generate(
    out: Path,
    *,
    size: int,
    seed: int = 1,
    delimiter: str = ";",
    encoding: str = "utf-8",
    invalid_rate: float = 0.01,
    keep_nirs: bool = False,
) -> ReferenceCounts:
    """Write rows to ``out`` until it holds at least ``size`` bytes; return the counts.

    Cells never contain the delimiter, quotes or newlines, so the file is
    plain delimited text (no quoting). ``keep_nirs`` also returns the valid NIRs
    written (for small files: it grows with the file).
    """
    counts = ReferenceCounts()
    eol = "\n"
    with out.open("wb") as handle:
        header = (delimiter.join(HEADER) + eol).encode(encoding)
        handle.write(header)
        written = len(header)
        batch: list[str] = []
        for person in people(seed, invalid_rate):
            batch.append(delimiter.join(person.cells()))
            counts.rows += 1
            if person.nir_valid:
                counts.nir_valid += 1
                if keep_nirs:
                    counts.nirs.append(person.nir)
            else:
                counts.nir_invalid += 1
            if person.nir[5:7] in {"2A", "2B"}:
                counts.corsica += 1
            if len(batch) == 2000:
                data = (eol.join(batch) + eol).encode(encoding)
                handle.write(data)
                written += len(data)
                batch = []
                if written >= size:
                    break
        if batch:
            data = (eol.join(batch) + eol).encode(encoding)
            handle.write(data)
            written += len(data)
    counts.bytes = written
    counts.phones = counts.emails = counts.birth_dates = counts.rows
    counts.surnames = counts.first_names = counts.comments = counts.rows
    return counts


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("out", type=Path)
    parser.add_argument("--size-mib", type=int, default=100)
    parser.add_argument("--seed", type=int, default=1)
    parser.add_argument("--delimiter", default=";")
    parser.add_argument("--invalid-rate", type=float, default=0.01)
    args = parser.parse_args()
    counts = generate(
        args.out,
        size=args.size_mib * 1024 * 1024,
        seed=args.seed,
        delimiter=args.delimiter,
        invalid_rate=args.invalid_rate,
    )
    for name, value in counts.as_dict().items():
        sys.stdout.write(f"{name}: {value}\n")


if __name__ == "__main__":
    main()
