"""RFC 9162 Merkle trees: hashes, roots, inclusion and consistency proofs. Pure, no I/O.

The tree is the one of Certificate Transparency v2 (RFC 9162 §2.1):
``leaf = SHA-256(0x00 || entry)``, ``node = SHA-256(0x01 || left || right)``,
the root of ``n > 1`` leaves splits at the largest power of two below ``n``,
and the root of the empty tree is ``SHA-256("")``.

Storage works with *perfect subtrees*: the node at ``(level, index)`` is the
root of the ``2**level`` leaves starting at ``index * 2**level``. Every hash
a root or a proof needs is the right fold of a few perfect subtrees
(``range_nodes``), so a store that keeps each perfect subtree's hash once it
completes (``TreeBuilder.append`` reports them) answers any root or proof with
O(log n) reads and no rebuild. Proof generation here returns *ranges*; the
caller resolves them with ``range_hash`` and a lookup of the perfect nodes it
holds (``MemoryTree`` for tests and offline use, the database for the server).

Verification follows RFC 9162 §2.1.3.2 and §2.1.4.2 literally and raises
``InvalidProofError``; it never returns ``False``.
"""

from __future__ import annotations

import hashlib
import hmac
from collections.abc import Callable, Iterable, Mapping, Sequence

from scelle.crypto.errors import InvalidProofError

__all__ = [
    "EMPTY_ROOT",
    "HASH_SIZE",
    "MemoryTree",
    "Node",
    "Range",
    "TreeBuilder",
    "consistency_ranges",
    "frontier_nodes",
    "inclusion_ranges",
    "leaf_hash",
    "node_hash",
    "range_hash",
    "range_nodes",
    "root_from_leaves",
    "verify_consistency",
    "verify_inclusion",
]

HASH_SIZE = 32
EMPTY_ROOT = hashlib.sha256(b"").digest()

Node = tuple[int, int]  # (level, index): the perfect subtree of leaves [index << level, +2**level)
Range = tuple[int, int]  # [start, end) of leaf indices
Lookup = Callable[[int, int], bytes] | Mapping[Node, bytes]


def leaf_hash(entry: bytes) -> bytes:
    """The hash of one log entry: ``SHA-256(0x00 || entry)``."""
    return hashlib.sha256(b"\x00" + entry).digest()


def node_hash(left: bytes, right: bytes) -> bytes:
    """The hash of an interior node: ``SHA-256(0x01 || left || right)``."""
    return hashlib.sha256(b"\x01" + left + right).digest()


def _split(n: int) -> int:
    """The largest power of two strictly smaller than ``n`` (``n >= 2``)."""
    return 1 << ((n - 1).bit_length() - 1)


def root_from_leaves(leaves: Sequence[bytes]) -> bytes:
    """The root of the tree whose leaf hashes are ``leaves`` (in memory, O(n))."""
    builder = TreeBuilder()
    for leaf in leaves:
        builder.append(leaf)
    return builder.root()


def range_nodes(start: int, end: int) -> list[Node]:
    """The perfect subtrees, left to right, whose right fold is the root of ``[start, end)``.

    Valid for the ranges that appear in RFC 9162 trees: ``start`` is a multiple
    of a power of two at least ``end - start`` (true of every root and proof
    element). Raises ValueError otherwise.
    """
    if not 0 <= start < end:
        raise ValueError("an empty or negative range has no perfect subtrees")
    nodes: list[Node] = []
    position = start
    remaining = end - start
    while remaining:
        level = remaining.bit_length() - 1
        size = 1 << level
        if position % size:
            raise ValueError(f"range [{start}, {end}) is not aligned as in an RFC 9162 tree")
        nodes.append((level, position >> level))
        position += size
        remaining -= size
    return nodes


def frontier_nodes(size: int) -> list[Node]:
    """The perfect subtrees of a tree of ``size`` leaves (its root is their right fold)."""
    return range_nodes(0, size) if size else []


def _get(lookup: Lookup, node: Node) -> bytes:
    if callable(lookup):
        return lookup(*node)
    return lookup[node]


def range_hash(start: int, end: int, lookup: Lookup) -> bytes:
    """The root of leaves ``[start, end)`` from the hashes of its perfect subtrees."""
    nodes = range_nodes(start, end)
    acc = _get(lookup, nodes[-1])
    for node in reversed(nodes[:-1]):
        acc = node_hash(_get(lookup, node), acc)
    return acc


def inclusion_ranges(index: int, size: int) -> list[Range]:
    """The ranges whose roots form the inclusion proof of leaf ``index`` in a tree of ``size``.

    RFC 9162 §2.1.3.1 ``PATH(m, D[n])``, bottom-up. Raises ValueError when
    ``index`` is not in the tree.
    """
    if not 0 <= index < size:
        raise ValueError(f"leaf {index} is not in a tree of size {size}")
    path: list[Range] = []
    lo, hi, m = 0, size, index
    while hi - lo > 1:
        k = _split(hi - lo)
        if m < k:
            path.append((lo + k, hi))
            hi = lo + k
        else:
            path.append((lo, lo + k))
            lo, m = lo + k, m - k
    path.reverse()
    return path


def consistency_ranges(old_size: int, new_size: int) -> list[Range]:
    """The ranges whose roots form the consistency proof from ``old_size`` to ``new_size``.

    RFC 9162 §2.1.4.1 ``PROOF(m, D[n])``; empty when ``old_size`` is 0 or
    equals ``new_size``. Raises ValueError when ``old_size > new_size``.
    """
    if not 0 <= old_size <= new_size:
        raise ValueError(f"no consistency proof from size {old_size} to {new_size}")
    if old_size in (0, new_size):
        return []
    # SUBPROOF(m, D[lo:hi], complete) unrolled; elements are appended after the
    # recursive part, so they are collected top-down and reversed.
    path: list[Range] = []
    lo, hi, m, complete = 0, new_size, old_size, True
    while m != hi - lo:
        k = _split(hi - lo)
        if m <= k:
            path.append((lo + k, hi))
            hi = lo + k
        else:
            path.append((lo, lo + k))
            lo, m, complete = lo + k, m - k, False
    if not complete:
        path.append((lo, hi))
    path.reverse()
    return path


def _check_hash(value: bytes, what: str) -> None:
    if not isinstance(value, bytes) or len(value) != HASH_SIZE:
        raise InvalidProofError(f"{what} is not a {HASH_SIZE}-byte hash")


def _shift_to_right_child(fn: int, sn: int) -> tuple[int, int]:
    """Right-shift both until ``fn`` is odd or 0 (the RFC 9162 verification step)."""
    while not fn & 1 and fn != 0:
        fn >>= 1
        sn >>= 1
    return fn, sn


def verify_inclusion(
    leaf: bytes, index: int, size: int, proof: Sequence[bytes], root: bytes
) -> None:
    """Return if ``leaf`` (a leaf hash) is leaf ``index`` of the tree of ``size`` with ``root``.

    RFC 9162 §2.1.3.2. Raises InvalidProofError otherwise (wrong leaf, index,
    size, root, or a malformed proof).
    """
    _check_hash(leaf, "the leaf hash")
    _check_hash(root, "the root hash")
    if not 0 <= index < size:
        raise InvalidProofError(f"leaf {index} is not in a tree of size {size}")
    fn, sn, r = index, size - 1, leaf
    for p in proof:
        _check_hash(p, "a proof element")
        if sn == 0:
            raise InvalidProofError("the inclusion proof is too long")
        if fn & 1 or fn == sn:
            r = node_hash(p, r)
            if not fn & 1:
                fn, sn = _shift_to_right_child(fn, sn)
        else:
            r = node_hash(r, p)
        fn >>= 1
        sn >>= 1
    if sn != 0:
        raise InvalidProofError("the inclusion proof is too short")
    if not hmac.compare_digest(r, root):
        raise InvalidProofError("the inclusion proof does not lead to the root hash")


def _trivially_consistent(
    old_size: int, new_size: int, old_root: bytes, new_root: bytes, proof: Sequence[bytes]
) -> bool:
    """Check the inputs; True when the sizes need no proof (equal, or from the empty tree)."""
    _check_hash(old_root, "the old root hash")
    _check_hash(new_root, "the new root hash")
    for p in proof:
        _check_hash(p, "a proof element")
    if not 0 <= old_size <= new_size:
        raise InvalidProofError(f"a tree of size {new_size} cannot extend one of size {old_size}")
    if old_size == new_size:
        if proof:
            raise InvalidProofError("a proof between equal sizes must be empty")
        if not hmac.compare_digest(old_root, new_root):
            raise InvalidProofError("two different roots for the same tree size")
        return True
    if old_size == 0:
        if proof:
            raise InvalidProofError("a proof from the empty tree must be empty")
        return True
    return False


def verify_consistency(
    old_size: int, new_size: int, old_root: bytes, new_root: bytes, proof: Sequence[bytes]
) -> None:
    """Return if the tree of ``new_size`` with ``new_root`` extends the one of ``old_size``.

    RFC 9162 §2.1.4.2 (a tree is consistent with itself when the roots are
    equal and the proof empty; every tree extends the empty tree). Raises
    InvalidProofError otherwise.
    """
    if _trivially_consistent(old_size, new_size, old_root, new_root, proof):
        return
    if not proof:
        raise InvalidProofError("the consistency proof is empty")
    path = list(proof)
    if old_size & (old_size - 1) == 0:
        path.insert(0, old_root)
    fn, sn = old_size - 1, new_size - 1
    while fn & 1:
        fn >>= 1
        sn >>= 1
    fr = sr = path[0]
    for c in path[1:]:
        if sn == 0:
            raise InvalidProofError("the consistency proof is too long")
        if fn & 1 or fn == sn:
            fr = node_hash(c, fr)
            sr = node_hash(c, sr)
            if not fn & 1:
                fn, sn = _shift_to_right_child(fn, sn)
        else:
            sr = node_hash(sr, c)
        fn >>= 1
        sn >>= 1
    if sn != 0:
        raise InvalidProofError("the consistency proof is too short")
    for got, want, which in ((fr, old_root, "old"), (sr, new_root, "new")):
        if not hmac.compare_digest(got, want):
            raise InvalidProofError(f"the consistency proof does not lead to the {which} root hash")


class TreeBuilder:
    """An append-only tree kept as its frontier (the perfect subtrees of its size).

    ``append`` is amortised O(1) hashes and returns every perfect subtree it
    completed (the leaf itself included), which is what a store writes;
    ``root`` is O(log n). Memory is O(log n).
    """

    __slots__ = ("_frontier", "size")

    def __init__(self, size: int = 0, frontier: Sequence[bytes] = ()) -> None:
        """Resume a tree of ``size`` leaves from the hashes of ``frontier_nodes(size)``."""
        if len(frontier) != size.bit_count():
            raise ValueError("the frontier does not match the tree size")
        self.size = size
        self._frontier = list(frontier)

    def append(self, leaf: bytes) -> list[tuple[int, int, bytes]]:
        """Add one leaf hash; return the completed perfect subtrees as (level, index, hash)."""
        index = self.size
        completed = [(0, index, leaf)]
        acc, level = leaf, 0
        while (index >> level) & 1:
            acc = node_hash(self._frontier.pop(), acc)
            level += 1
            completed.append((level, index >> level, acc))
        self._frontier.append(acc)
        self.size += 1
        return completed

    def extend(self, leaves: Iterable[bytes]) -> None:
        """Add many leaf hashes (without reporting completed subtrees)."""
        frontier = self._frontier
        index = self.size
        for leaf in leaves:
            acc, bits = leaf, index
            while bits & 1:
                acc = node_hash(frontier.pop(), acc)
                bits >>= 1
            frontier.append(acc)
            index += 1
        self.size = index

    @property
    def frontier(self) -> list[bytes]:
        """The hashes of ``frontier_nodes(size)``, left to right (to resume the tree later)."""
        return list(self._frontier)

    def root(self) -> bytes:
        """The root hash of the tree as it stands (``EMPTY_ROOT`` when empty)."""
        if not self._frontier:
            return EMPTY_ROOT
        acc = self._frontier[-1]
        for left in reversed(self._frontier[:-1]):
            acc = node_hash(left, acc)
        return acc


class MemoryTree:
    """Every perfect subtree of an append-only tree, in memory: roots and proofs of any size."""

    def __init__(self) -> None:
        self.levels: list[list[bytes]] = []
        self._builder = TreeBuilder()

    @property
    def size(self) -> int:
        return self._builder.size

    def append(self, leaf: bytes) -> None:
        """Add one leaf hash."""
        for level, index, value in self._builder.append(leaf):
            if level == len(self.levels):
                self.levels.append([])
            row = self.levels[level]
            assert len(row) == index  # noqa: S101  (perfect subtrees complete in order)
            row.append(value)

    def node(self, level: int, index: int) -> bytes:
        """The hash of the perfect subtree ``(level, index)``; KeyError if not complete."""
        try:
            return self.levels[level][index]
        except IndexError:
            raise KeyError((level, index)) from None

    def root(self, size: int | None = None) -> bytes:
        """The root of the first ``size`` leaves (default: all)."""
        size = self.size if size is None else size
        if not 0 <= size <= self.size:
            raise ValueError(f"no tree of size {size}")
        return range_hash(0, size, self.node) if size else EMPTY_ROOT

    def inclusion_proof(self, index: int, size: int | None = None) -> list[bytes]:
        """The inclusion proof of leaf ``index`` in the tree of ``size`` (default: all)."""
        size = self.size if size is None else size
        return [range_hash(a, b, self.node) for a, b in inclusion_ranges(index, size)]

    def consistency_proof(self, old_size: int, new_size: int | None = None) -> list[bytes]:
        """The consistency proof from ``old_size`` to ``new_size`` (default: all)."""
        new_size = self.size if new_size is None else new_size
        return [range_hash(a, b, self.node) for a, b in consistency_ranges(old_size, new_size)]
