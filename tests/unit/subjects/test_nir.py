"""NIR: key 97 - n mod 97, Corsica (2A is 19, 2B is 18), lengths; stdnum = the fast check."""

from __future__ import annotations

import pytest
from hypothesis import given
from hypothesis import strategies as st

from scelle.subjects import nir

# Valid keys computed by hand: 97 - (n mod 97).
VALID = [
    "185057800608491",  # 1 85 05 78 006 084 -> key 91
    "255081416802538",
    "1 85 05 78 006 084 91",  # the grouped written form
    "282072A12345665",  # Corsica 2A: computed with 19 in its place
    "282072B12345692",  # Corsica 2B: computed with 18
]
WRONG_KEY = [
    "185057800608492",
    "255081416802500",
    "282072A12345666",
    "282072B12345665",  # the 2A key on a 2B number
]
WRONG_LENGTH = ["18505780060849", "1850578006084911", "", "1"]


@pytest.mark.parametrize("value", VALID)
def test_valid_examples_validate(value: str) -> None:
    assert nir.is_valid(value)
    compact = nir.normalise(value)
    assert nir.key_of(compact[:13]) == int(compact[13:])
    valid, invalid = nir.split_by_key([compact.encode()])
    assert (valid, invalid) == ([compact.encode()], 0)


def test_corsica_counts_as_19_and_18() -> None:
    assert nir.key_of("282072A123456") == 97 - 2820719123456 % 97
    assert nir.key_of("282072B123456") == 97 - 2820718123456 % 97


@pytest.mark.parametrize("value", WRONG_KEY)
def test_wrong_keys_are_refused(value: str) -> None:
    assert not nir.is_valid(value)
    assert nir.split_by_key([value.encode()]) == ([], 1)


@pytest.mark.parametrize("value", WRONG_LENGTH)
def test_wrong_lengths_are_refused(value: str) -> None:
    assert not nir.is_valid(value)


def test_the_regex_finds_only_whole_15_character_values() -> None:
    text = b"a 185057800608491 b 1850578006084911 c 18505780060849 d 282072A12345665;"
    assert nir.COMPACT_PATTERN.findall(text) == [b"185057800608491", b"282072A12345665"]


@st.composite
def valid_nirs(draw: st.DrawFn) -> str:
    sex = draw(st.sampled_from("1278"))
    year = draw(st.integers(0, 99))
    month = draw(st.integers(1, 12))
    department = draw(st.sampled_from([*(f"{d:02d}" for d in range(1, 100)), "2A", "2B"]))
    rest = draw(st.integers(0, 999_999))
    first13 = f"{sex}{year:02d}{month:02d}{department}{rest:06d}"
    return f"{first13}{nir.key_of(first13):02d}"


@given(valid_nirs())
def test_generated_valid_nirs_always_validate(value: str) -> None:
    assert nir.is_valid(value)
    assert nir.split_by_key([value.encode()]) == ([value.encode()], 0)


@given(valid_nirs(), st.data())
def test_any_one_digit_change_is_caught(value: str, data: st.DataObject) -> None:
    digit_positions = [i for i, c in enumerate(value) if c.isdigit()]
    position = data.draw(st.sampled_from(digit_positions))
    replacement = data.draw(st.sampled_from([d for d in "0123456789" if d != value[position]]))
    changed = value[:position] + replacement + value[position + 1 :]
    # One digit changed moves n (or the key) by d * 10^k with 0 < |d| < 10: 97 is prime
    # and divides neither, so the sum n + key is no longer a multiple of 97.
    assert not nir.is_valid(changed)
    assert nir.split_by_key([changed.encode()]) == ([], 1)


@given(st.from_regex(r"\A[1-478][0-9]{4}([0-9]{2}|2[AB])[0-9]{8}\Z"))
def test_the_fast_key_check_agrees_with_stdnum(value: str) -> None:
    valid, invalid = nir.split_by_key([value.encode()])
    assert bool(valid) == nir.is_valid(value)
    assert invalid == (0 if valid else 1)


def test_a_letter_department_other_than_corsica_is_invalid_not_a_crash() -> None:
    """Found by hypothesis: a one-character change turned 2A into 0A."""
    from scelle.subjects.nir import split_by_key

    assert split_by_key(
        [b"100010A00000000", b"1850520A0000012", b"18505" + b"2C" + b"12345678"]
    ) == (
        [],
        3,
    )


NIR_SHAPED = st.from_regex(r"\A[1-478][0-9]{4}([0-9]{2}|2[ABab])[0-9]{8}\Z")


@given(st.lists(NIR_SHAPED, max_size=40))
def test_the_packed_key_check_agrees_with_the_one_by_one_check(values: list[str]) -> None:
    candidates = [value.encode() for value in values]
    assert nir.split_packed(candidates) == nir.split_by_key(candidates)
    # The column layout of the scanner: one candidate every 16 bytes, newline between.
    mask = nir.key_mask(b"\n".join(candidates), 16)
    assert list(mask) == [int(nir.is_valid(value)) for value in values]
