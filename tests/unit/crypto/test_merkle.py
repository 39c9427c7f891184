"""RFC 9162 Merkle trees: known answers against a naive MTH, proofs by property."""

from __future__ import annotations

import hashlib

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from scelle.crypto.errors import InvalidProofError
from scelle.crypto.merkle import (
    EMPTY_ROOT,
    MemoryTree,
    TreeBuilder,
    frontier_nodes,
    leaf_hash,
    node_hash,
    range_hash,
    root_from_leaves,
    verify_consistency,
    verify_inclusion,
)


def naive_mth(entries: list[bytes]) -> bytes:
    """RFC 9162 §2.1.1 MTH, written from the text, recursively."""
    n = len(entries)
    if n == 0:
        return hashlib.sha256(b"").digest()
    if n == 1:
        return hashlib.sha256(b"\x00" + entries[0]).digest()
    k = 1
    while k * 2 < n:
        k *= 2
    return hashlib.sha256(b"\x01" + naive_mth(entries[:k]) + naive_mth(entries[k:])).digest()


def naive_path(m: int, entries: list[bytes]) -> list[bytes]:
    """RFC 9162 §2.1.3.1 PATH(m, D[n])."""
    n = len(entries)
    if n == 1:
        return []
    k = 1
    while k * 2 < n:
        k *= 2
    if m < k:
        return [*naive_path(m, entries[:k]), naive_mth(entries[k:])]
    return [*naive_path(m - k, entries[k:]), naive_mth(entries[:k])]


def naive_subproof(m: int, entries: list[bytes], complete: bool) -> list[bytes]:
    """RFC 9162 §2.1.4.1 SUBPROOF(m, D[n], b)."""
    n = len(entries)
    if m == n:
        return [] if complete else [naive_mth(entries)]
    k = 1
    while k * 2 < n:
        k *= 2
    if m <= k:
        return [*naive_subproof(m, entries[:k], complete), naive_mth(entries[k:])]
    return [*naive_subproof(m - k, entries[k:], False), naive_mth(entries[:k])]


def tree_of(entries: list[bytes]) -> MemoryTree:
    tree = MemoryTree()
    for entry in entries:
        tree.append(leaf_hash(entry))
    return tree


ENTRIES = [f"entry-{i}".encode() for i in range(70)]


def test_hash_definitions() -> None:
    assert leaf_hash(b"x") == hashlib.sha256(b"\x00x").digest()
    assert (
        node_hash(b"a" * 32, b"b" * 32) == hashlib.sha256(b"\x01" + b"a" * 32 + b"b" * 32).digest()
    )
    assert EMPTY_ROOT.hex() == "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855"


def test_roots_match_the_naive_mth_at_every_size() -> None:
    tree = tree_of(ENTRIES)
    for n in range(len(ENTRIES) + 1):
        expected = naive_mth(ENTRIES[:n])
        assert tree.root(n) == expected
        assert root_from_leaves([leaf_hash(e) for e in ENTRIES[:n]]) == expected


def test_proofs_match_the_naive_algorithms() -> None:
    tree = tree_of(ENTRIES)
    for n in range(1, 40):
        for m in range(n):
            assert tree.inclusion_proof(m, n) == naive_path(m, ENTRIES[:n])
        for m in range(1, n + 1):
            assert tree.consistency_proof(m, n) == naive_subproof(m, ENTRIES[:n], True)


def test_known_answer_rfc6962_style_vector() -> None:
    # The 8-leaf tree of the CT test suite (certificate-transparency-go, merkle tests).
    leaves = [
        bytes.fromhex(h)
        for h in [
            "",
            "00",
            "10",
            "2021",
            "3031",
            "40414243",
            "5051525354555657",
            "606162636465666768696a6b6c6d6e6f",
        ]
    ]
    tree = tree_of(leaves)
    assert tree.root().hex() == "5dc9da79a70659a9ad559cb701ded9a2ab9d823aad2f4960cfe370eff4604328"
    assert tree.root(1).hex() == "6e340b9cffb37a989ca544e6bb780a2c78901d3fb33738768511a30617afa01d"


def test_builder_resumes_from_its_frontier() -> None:
    tree = tree_of(ENTRIES[:45])
    frontier = [tree.node(*node) for node in frontier_nodes(45)]
    builder = TreeBuilder(45, frontier)
    for entry in ENTRIES[45:]:
        builder.append(leaf_hash(entry))
    assert builder.root() == naive_mth(ENTRIES)
    assert range_hash(0, 45, tree.node) == naive_mth(ENTRIES[:45])


def test_builder_rejects_a_frontier_of_the_wrong_length() -> None:
    with pytest.raises(ValueError, match="frontier"):
        TreeBuilder(3, [b"\x00" * 32])


def test_consistency_edge_cases() -> None:
    tree = tree_of(ENTRIES[:5])
    verify_consistency(0, 5, EMPTY_ROOT, tree.root(), [])
    verify_consistency(5, 5, tree.root(), tree.root(), [])
    with pytest.raises(InvalidProofError):
        verify_consistency(5, 5, tree.root(4), tree.root(), [])
    with pytest.raises(InvalidProofError):
        verify_consistency(5, 4, tree.root(), tree.root(4), [])
    with pytest.raises(InvalidProofError):
        verify_consistency(3, 5, tree.root(3), tree.root(), [])


def test_malformed_proofs_raise() -> None:
    tree = tree_of(ENTRIES[:5])
    with pytest.raises(InvalidProofError):
        verify_inclusion(leaf_hash(ENTRIES[0]), 5, 5, [], tree.root())
    with pytest.raises(InvalidProofError):
        verify_inclusion(b"short", 0, 5, tree.inclusion_proof(0), tree.root())
    with pytest.raises(InvalidProofError):
        verify_inclusion(
            leaf_hash(ENTRIES[0]), 0, 5, [*tree.inclusion_proof(0), b"\x00" * 32], tree.root()
        )
    with pytest.raises(InvalidProofError):
        verify_inclusion(leaf_hash(ENTRIES[0]), 0, 5, tree.inclusion_proof(0)[:-1], tree.root())


@st.composite
def tree_and_indices(draw: st.DrawFn) -> tuple[list[bytes], int, int, int]:
    entries = draw(st.lists(st.binary(max_size=12), min_size=1, max_size=200, unique=True))
    n = len(entries)
    size = draw(st.integers(1, n))
    index = draw(st.integers(0, size - 1))
    old = draw(st.integers(0, size))
    return entries, size, index, old


@settings(max_examples=300, deadline=None)
@given(tree_and_indices())
def test_every_proof_verifies_and_a_wrong_root_or_leaf_fails(
    case: tuple[list[bytes], int, int, int],
) -> None:
    entries, size, index, old = case
    tree = tree_of(entries)
    root = tree.root(size)
    assert root == naive_mth(entries[:size])
    leaf = leaf_hash(entries[index])
    proof = tree.inclusion_proof(index, size)
    verify_inclusion(leaf, index, size, proof, root)
    wrong_root = hashlib.sha256(root).digest()
    with pytest.raises(InvalidProofError):
        verify_inclusion(leaf, index, size, proof, wrong_root)
    with pytest.raises(InvalidProofError):
        verify_inclusion(leaf_hash(entries[index] + b"!"), index, size, proof, root)
    if size > 1:
        with pytest.raises(InvalidProofError):
            verify_inclusion(leaf, (index + 1) % size, size, proof, root)

    old_root = tree.root(old)
    consistency = tree.consistency_proof(old, size)
    verify_consistency(old, size, old_root, root, consistency)
    if 0 < old < size:
        with pytest.raises(InvalidProofError):
            verify_consistency(old, size, old_root, wrong_root, consistency)
        with pytest.raises(InvalidProofError):
            verify_consistency(old, size, hashlib.sha256(old_root).digest(), root, consistency)


@settings(max_examples=100, deadline=None)
@given(st.lists(st.binary(max_size=8), min_size=2, max_size=100), st.data())
def test_a_rewritten_history_is_not_consistent(entries: list[bytes], data: st.DataObject) -> None:
    n = len(entries)
    old = data.draw(st.integers(1, n - 1))
    victim = data.draw(st.integers(0, old - 1))
    honest = tree_of(entries)
    forged_entries = list(entries)
    forged_entries[victim] = forged_entries[victim] + b"\xff"
    forged = tree_of(forged_entries)
    with pytest.raises(InvalidProofError):
        verify_consistency(
            old, n, honest.root(old), forged.root(), forged.consistency_proof(old, n)
        )
