"""Ids: 128 random bits, strict parsing (anything else is unknown before it reaches a path)."""

from __future__ import annotations

import pytest
from hypothesis import given
from hypothesis import strategies as st

from scelle import ids


def test_new_ids_are_well_formed_and_distinct() -> None:
    made = {ids.new_id("tr") for _ in range(1000)}
    assert len(made) == 1000
    assert all(ids.is_valid(i, "tr") for i in made)


def test_prefix_must_match() -> None:
    assert not ids.is_valid(ids.new_id("usr"), "tr")
    with pytest.raises(ValueError, match="unknown id prefix"):
        ids.new_id("xx")


@pytest.mark.parametrize(
    "value",
    [
        "",
        "tr_",
        "tr_../../etc/passwd",
        "tr_AAAAAAAAAAAAAAAAAAAAAAAAAA",
        "tr_aaaaaaaaaaaaaaaaaaaaaaaaa1",
        "tr_aaaaaaaaaaaaaaaaaaaaaaaaaa\n",
        "tr_aaaaaaaaaaaaaaaaaaaaaaaaaa\x00",
        " tr_aaaaaaaaaaaaaaaaaaaaaaaaaa",
    ],
)
def test_malformed_ids_are_refused(value: str) -> None:
    assert not ids.is_valid(value, "tr")


@given(st.text(max_size=64))
def test_only_the_exact_shape_is_valid(value: str) -> None:
    if ids.is_valid(value, "tr"):
        assert value.startswith("tr_")
        assert len(value) == 29
        assert set(value[3:]) <= set("abcdefghijklmnopqrstuvwxyz234567")
