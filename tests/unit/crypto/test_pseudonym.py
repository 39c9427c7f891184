"""Keyed pseudonyms: deterministic under one key, unrelated under another or another label."""

from __future__ import annotations

import hashlib
import hmac

import pytest
from hypothesis import given
from hypothesis import strategies as st

from scelle.crypto.errors import KeyFormatError
from scelle.crypto.pseudonym import (
    COLUMN_LABEL,
    SUBJECT_INDEX_LABEL,
    PseudonymKey,
    normalise_identifier,
)

KEY = PseudonymKey(bytes(range(32)))


def test_known_answer() -> None:
    expected = hmac.new(
        bytes(range(32)), b"scelle/v1/pseudonym\x00185057800608491", hashlib.sha256
    ).digest()
    assert KEY.digest("185057800608491", label=COLUMN_LABEL) == expected
    assert (
        KEY.subject_pseudonym("185057800608491")
        == hmac.new(
            bytes(range(32)), b"scelle/v1/subject-index\x00185057800608491", hashlib.sha256
        ).hexdigest()
    )


def test_deterministic_normalised_and_label_separated() -> None:
    assert KEY.column_pseudonym("Martin") == KEY.column_pseudonym("  MARTIN ")
    assert KEY.column_pseudonym("Jean  Martin") == KEY.column_pseudonym("jean martin")
    value = KEY.column_pseudonym("185057800608491")
    assert value.startswith("ps_")
    assert len(value) == 27
    # The subject index never equals what a recipient sees in a pseudonymised file.
    assert KEY.subject_pseudonym("185057800608491")[:24] != value[3:]
    assert KEY.digest("x", label=COLUMN_LABEL) != KEY.digest("x", label=SUBJECT_INDEX_LABEL)


@given(st.text(min_size=1, max_size=40))
def test_another_key_gives_another_pseudonym(value: str) -> None:
    other = PseudonymKey(bytes(range(1, 33)))
    assert KEY.digest(value, label=COLUMN_LABEL) != other.digest(value, label=COLUMN_LABEL)
    assert normalise_identifier(normalise_identifier(value)) == normalise_identifier(value)


def test_key_file_round_trip_and_secrecy() -> None:
    key = PseudonymKey.generate()
    again = PseudonymKey.from_text(key.to_text())
    assert again.column_pseudonym("a") == key.column_pseudonym("a")
    assert key.key_id == again.key_id
    assert key.to_text().split(":", 1)[1].strip() not in repr(key)
    for bad in ("", "hello", "scelle-pseudonym-key-v1:AAAA", "scelle-pseudonym-key-v1:!!"):
        with pytest.raises(KeyFormatError):
            PseudonymKey.from_text(bad)
    with pytest.raises(KeyFormatError):
        PseudonymKey(b"short")
