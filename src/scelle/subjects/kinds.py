"""What a column holds: identifier kinds, and the header and value heuristics that name them."""

from __future__ import annotations

import re
import unicodedata
from enum import StrEnum

__all__ = [
    "BIRTH_DATE_PATTERN",
    "EMAIL_PATTERN",
    "PHONE_PATTERN",
    "Kind",
    "header_kinds",
    "looks_clinical",
    "looks_like_name",
    "normalise_header",
]


class Kind(StrEnum):
    """An identifier or a kind of personal data a scan reports."""

    NIR = "nir"
    INS = "ins"
    PHONE = "phone"
    EMAIL = "email"
    BIRTH_DATE = "birth_date"
    NAME = "name"
    HEALTH_TEXT = "health_text"


#: Kinds that identify one data subject and go into the subject index.
SUBJECT_IDENTIFIERS = frozenset({Kind.NIR, Kind.INS})

#: French numbers: +33 or 0, then 9 digits, grouped by 2 with spaces, dots or dashes,
#: not inside a longer number. Written to start with a literal "+" or "0" (the
#: "not after a digit or +" test comes right after it), so that the regex
#: engine skips every other character in C; same matches as
#: ``(?<![0-9+])(?:\+33[ .-]?|0033[ .-]?|0)[1-9](?:[ .-]?[0-9]{2}){4}(?![0-9])``.
PHONE_PATTERN = re.compile(
    rb"(?:\+(?<![0-9+]\+)33[ .-]?|0(?<![0-9+]0)(?:033[ .-]?)?)[1-9]"
    rb"[ .-]?[0-9]{2}[ .-]?[0-9]{2}[ .-]?[0-9]{2}[ .-]?[0-9]{2}(?![0-9])"
)
#: One match per "@" that has a local-part character before it and a dotted
#: domain after it. The regex starts on the "@" (a literal: the engine jumps
#: from one to the next) and looks back one character for the local part.
EMAIL_PATTERN = re.compile(
    rb"@(?<=[A-Za-z0-9._%+-]@)[A-Za-z0-9-]+(?:\.[A-Za-z0-9-]+)*\.[A-Za-z]{2,}"
)
#: 1985-05-14, 14/05/1985, 14-05-1985, 14.05.1985 (a whole cell).
BIRTH_DATE_PATTERN = re.compile(
    rb"(?m)^[ \t]*(?:(?:19|20)[0-9]{2}-[01][0-9]-[0-3][0-9](?:[T ][0-9:.]+)?"
    rb"|[0-3]?[0-9][/.-][01]?[0-9][/.-](?:19|20)[0-9]{2})[ \t\r]*$"
)

_HEADER_WORDS: list[tuple[Kind, tuple[str, ...]]] = [
    (Kind.INS, ("ins", "insnir", "insnia", "matriculeins", "identifiantnationaldesante", "insc")),
    (
        Kind.NIR,
        ("nir", "nss", "numsecu", "numerosecu", "nsecu", "securitesociale", "numeross", "insee",
         "numerodesecuritesociale", "ssn", "matricule", "nirpatient", "numeronir", "nirassure"),
    ),
    (Kind.PHONE, ("tel", "telephone", "phone", "portable", "mobile", "fixe", "gsm")),
    (Kind.EMAIL, ("email", "mail", "courriel", "adressemail", "emailaddress")),
    (
        Kind.BIRTH_DATE,
        ("datenaissance", "datedenaissance", "naissance", "ddn", "dob", "birthdate",
         "dateofbirth", "nele", "nee", "birthday"),
    ),
    (
        Kind.NAME,
        ("nom", "prenom", "prenoms", "name", "firstname", "lastname", "surname", "givenname",
         "nomdenaissance", "nomdusage", "nomusage", "nomdefamille", "nompatient",
         "prenompatient", "fullname", "familyname"),
    ),
    (
        Kind.HEALTH_TEXT,
        ("commentaire", "commentaires", "comment", "comments", "observation", "observations",
         "notes", "note", "remarque", "remarques", "diagnostic", "motif", "antecedents",
         "conclusion", "compterendu", "clinique", "anamnese"),
    ),
]  # fmt: skip

_INS_SUFFIXES = frozenset({"", "nir", "nia", "c", "patient", "assure", "qualifie"})

_CLINICAL = re.compile(
    r"\b(?:diab[eè]t|hypertension|tension|traitement|trait[ée]|allergi|hospitalis|chirurg|"
    r"cancer|tumeur|m[ée]tastas|grossesse|enceinte|asthme|d[ée]pression|psychiatr|douleur|"
    r"fi[èe]vre|infection|posologie|insuffisance|ant[ée]c[ée]dent|symptôme|symptome|"
    r"vih|hiv|hépatite|hepatite|sérolog|serolog|patient|patiente|diagnos|pathologie|"
    r"prescri|ordonnance|suivi|rémission|remission|dialyse|avc|infarctus|épilep|epilep|"
    r"diabetes|treatment|surgery|pregnan|allerg|depression|symptom|diagnos)",
    re.IGNORECASE,
)

_WORD = re.compile(r"^[A-Za-zÀ-ÖØ-öø-ÿ][A-Za-zÀ-ÖØ-öø-ÿ' -]{0,40}$")

#: Frequent French surnames and first names (upper-cased, accents removed).
_NAMES_TEXT = """
MARTIN BERNARD THOMAS PETIT ROBERT RICHARD DURAND DUBOIS MOREAU LAURENT SIMON MICHEL
LEFEBVRE LEROY ROUX DAVID BERTRAND MOREL FOURNIER GIRARD BONNET DUPONT LAMBERT FONTAINE
ROUSSEAU VINCENT MULLER LEFEVRE FAURE ANDRE MERCIER BLANC GUERIN BOYER GARNIER CHEVALIER
FRANCOIS LEGRAND GAUTHIER GARCIA PERRIN ROBIN CLEMENT MORIN NICOLAS HENRY ROUSSEL
MATHIEU GAUTIER MASSON MARCHAND DUVAL DENIS DUMONT MARIE LEMAIRE NOEL MEYER DUFOUR
MEUNIER BRUN BLANCHARD GIRAUD JOLY RIVIERE LUCAS BRUNET GAILLARD BARBIER ARNAUD MARTINEZ
GERARD ROCHE RENARD SCHMITT ROY LEROUX COLIN VIDAL CARON PICARD ROGER FABRE AUBERT
LEMOINE RENAUD DUMAS LACROIX OLIVIER PHILIPPE BOURGEOIS PIERRE BENOIT REY LECLERC PAYET
ROLLAND LEBLANC GUILLAUME JEAN PAUL JACQUES LOUIS ALAIN ANDRE BERNARD CHRISTIAN DANIEL
ERIC FREDERIC JULIEN NICOLAS OLIVIER PASCAL PATRICK PHILIPPE PIERRE STEPHANE THIERRY
HUGO LUCAS MARIE JEANNE FRANCOISE MONIQUE CATHERINE NATHALIE ISABELLE SYLVIE CAMILLE LEA
CHLOE EMMA HELENE ANNE CHRISTINE MARTINE SOPHIE SANDRINE VALERIE CELINE JULIE AURELIE
LAURA MANON SARAH INES LOUISE ALICE JADE ZOE PAOLI SANTONI
"""
COMMON_NAMES = frozenset(_NAMES_TEXT.split())


def _fold(text: str) -> str:
    decomposed = unicodedata.normalize("NFKD", text)
    return "".join(c for c in decomposed if not unicodedata.combining(c))


def normalise_header(header: str) -> str:
    """Lower case, no accents, letters and digits only: "Date de naissance" -> "datedenaissance"."""
    return re.sub(r"[^a-z0-9]", "", _fold(header).lower())


def header_kinds(header: str) -> set[Kind]:
    """The kinds a column header announces (empty when it says nothing known)."""
    name = normalise_header(header)
    if not name:
        return set()
    found: set[Kind] = set()
    for kind, words in _HEADER_WORDS:
        if name in words or any(
            len(word) >= 5 and (name.startswith(word) or name.endswith(word)) for word in words
        ):
            found.add(kind)
    # "INS" is a NIR by shape: an INS header wins, and a "matricule INS" is an INS.
    if Kind.INS in found or (name.startswith("ins") and name[3:] in _INS_SUFFIXES):
        found.discard(Kind.NIR)
        found.add(Kind.INS)
    if {Kind.BIRTH_DATE, Kind.NAME} <= found:  # "nom de naissance" is a name, "née le" a date
        found.discard(Kind.BIRTH_DATE if name.startswith("nom") else Kind.NAME)
    return found


def looks_like_name(value: str) -> bool:
    """Whether a cell reads like a person's name: letters only, and a known name among its words."""
    text = value.strip()
    if not text or not _WORD.match(text):
        return False
    words = re.split(r"[ '-]+", _fold(text).upper())
    return any(word in COMMON_NAMES for word in words)


def looks_clinical(value: str) -> bool:
    """Whether a cell reads like free clinical text: several words, one of them medical."""
    return len(value) >= 25 and " " in value and _CLINICAL.search(value) is not None
