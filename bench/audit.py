"""Audit log benchmark: append throughput, proof time vs tree size, offline verify throughput.

Usage: .venv/bin/python bench/audit.py [--appends 2000] [--verify-events 1000000]
                                        [--sqlite-sizes 10000,1000000]
                                        [--memory-sizes 10000,1000000,10000000]

Every number is printed beside a reference measured in the same run:

* append: ``AuditLog.record`` (a Merkle leaf: lock, frontier read, node writes)
  against inserting the same event row without the tree, both through the
  real SQLite store (WAL, synchronous=FULL) in a temporary folder, one
  transaction per event (as a request) and 100 events per transaction;
* proofs: inclusion and consistency proofs (generated from the stored
  perfect subtrees, then verified) at each tree size, against the same
  store's first size: the time grows with log2(n), not n. Sizes in
  --sqlite-sizes use the real node table in a temporary SQLite file;
  --memory-sizes use an in-memory node store (one bytearray per level),
  because 2 x 10^7 rows would take minutes to insert;
* verify: ``verify_export`` (the code of ``scelle audit verify``) over an
  export of --verify-events entries with a checkpoint every 10^5, against
  reading the same lines and hashing each entry with raw hashlib SHA-256
  (the floor: parsing, canonical-form and seq checks and the tree on top).
  Target: at least 1,000,000 events verified per minute.

Outputs go to a temporary folder, deleted at the end; nothing is written to
the repository.
"""

from __future__ import annotations

import argparse
import base64
import hashlib
import json
import random
import sys
import tempfile
import time
from collections.abc import Callable
from datetime import UTC, datetime, timedelta
from functools import partial
from pathlib import Path

from sqlalchemy import insert

from scelle.audit import repository
from scelle.audit.entry import entry_bytes
from scelle.audit.export import EXPORT_FORMAT, verify_export
from scelle.audit.service import _resolve, entry_of, root
from scelle.config import Settings
from scelle.crypto.merkle import (
    TreeBuilder,
    consistency_ranges,
    inclusion_ranges,
    leaf_hash,
    range_hash,
    range_nodes,
    verify_consistency,
    verify_inclusion,
)
from scelle.crypto.note import Checkpoint, NoteSigner
from scelle.db.models import AuditEvent, AuditTreeNode, AuditTreeState
from scelle.server.container import Services, build_services


def timed(work: Callable[[], object]) -> float:
    started = time.perf_counter()
    work()
    return time.perf_counter() - started


# -- append ------------------------------------------------------------------------


def _append_with_tree(services: Services, count: int, per_tx: int) -> None:
    for start in range(0, count, per_tx):
        with services.database.transaction() as session:
            for i in range(start, min(count, start + per_tx)):
                services.audit.record(
                    session, "transfer:content:download", object_id="tr_bench", n=i
                )


def _append_plain_rows(services: Services, count: int, per_tx: int) -> None:
    now = datetime.now(UTC)
    for start in range(0, count, per_tx):
        with services.database.transaction() as session:
            for i in range(start, min(count, start + per_tx)):
                session.add(
                    AuditEvent(
                        tag="transfer:content:download",
                        object_id="tr_bench",
                        at=now,
                        data=json.dumps({"n": i}),
                    )
                )
                session.flush()


def bench_append(folder: Path, count: int) -> None:
    print(f"\n== append ({count} events, SQLite WAL + synchronous=FULL) ==")
    print(f"{'mode':<26}{'merkle ev/s':>14}{'plain row ev/s':>16}{'ratio':>8}")
    for per_tx in (1, 100):
        merkle = build_services(Settings(data=folder / f"merkle-{per_tx}"))
        plain = build_services(Settings(data=folder / f"plain-{per_tx}"))
        with_tree = partial(_append_with_tree, merkle, count, per_tx)
        without_tree = partial(_append_plain_rows, plain, count, per_tx)
        t_merkle = timed(with_tree)
        t_plain = timed(without_tree)
        with merkle.database.transaction() as session:
            tree = TreeBuilder()
            for row in repository.events(session):
                tree.append(leaf_hash(entry_of(row)))
            assert root(session, count) == tree.root()  # the stored tree is the right one
        print(
            f"{f'{per_tx} event(s) per transaction':<26}{count / t_merkle:>14,.0f}"
            f"{count / t_plain:>16,.0f}{t_plain / t_merkle:>8.2f}"
        )
        merkle.database.dispose()
        plain.database.dispose()
    print("ratio = merkle throughput / plain-row throughput (1.0 = the tree costs nothing)")


# -- proofs ------------------------------------------------------------------------


class LevelStore:
    """Every perfect subtree of a tree, one bytearray per level (32 bytes a node)."""

    def __init__(self, size: int) -> None:
        self.levels: list[bytearray] = []
        level = bytearray()
        for i in range(size):
            level += hashlib.sha256(b"\x00" + i.to_bytes(8, "big")).digest()
        self.levels.append(level)
        while len(level) >= 64:
            above = bytearray()
            for offset in range(0, len(level) - 63, 64):
                above += hashlib.sha256(b"\x01" + level[offset : offset + 64]).digest()
            self.levels.append(above)
            level = above

    def node(self, level: int, index: int) -> bytes:
        return bytes(self.levels[level][index * 32 : index * 32 + 32])


def build_sqlite_tree(folder: Path, size: int) -> object:
    services = build_services(Settings(data=folder / f"tree-{size}"))
    builder = TreeBuilder()
    batch: list[dict[str, object]] = []
    with services.database.engine.begin() as connection:
        for i in range(size):
            for level, index, value in builder.append(
                hashlib.sha256(b"\x00" + i.to_bytes(8, "big")).digest()
            ):
                batch.append({"level": level, "index": index, "hash": value})
            if len(batch) >= 50_000:
                connection.execute(insert(AuditTreeNode), batch)
                batch.clear()
        if batch:
            connection.execute(insert(AuditTreeNode), batch)
        connection.execute(
            AuditTreeState.__table__.update().values(size=size, frontier=b"".join(builder.frontier))
        )
    return services


Resolve = Callable[[list[tuple[int, int]]], list[bytes]]


def _inclusions(resolve: Resolve, indices: list[int], size: int, full_root: bytes) -> None:
    for index in indices:
        path = resolve(inclusion_ranges(index, size))
        leaf = hashlib.sha256(b"\x00" + index.to_bytes(8, "big")).digest()
        verify_inclusion(leaf, index, size, path, full_root)


def _consistencies(
    resolve: Resolve, old_roots: dict[int, bytes], size: int, full_root: bytes
) -> None:
    for old, old_root in old_roots.items():
        path = resolve(consistency_ranges(old, size))
        verify_consistency(old, size, old_root, full_root, path)


def bench_proofs(folder: Path, sqlite_sizes: list[int], memory_sizes: list[int]) -> None:
    print("\n== proofs (generate from stored subtrees + verify; mean of 500 each) ==")
    print(
        f"{'leaves':>12} {'store':<8}{'log2 n':>7}{'nodes read':>11}"
        f"{'inclusion us':>14}{'consistency us':>16}{'x first':>8}"
    )
    rng = random.Random(7)  # noqa: S311  (which leaves to prove, not a secret)
    base: dict[str, float] = {}
    for size, kind in [(s, "sqlite") for s in sqlite_sizes] + [(s, "memory") for s in memory_sizes]:
        started = time.perf_counter()
        indices = [rng.randrange(size) for _ in range(500)]
        olds = [rng.randrange(1, size) for _ in range(500)]
        if kind == "sqlite":
            services = build_sqlite_tree(folder, size)
            database = services.database  # type: ignore[attr-defined]
            session = database.sessions()
            full_root = root(session, size)

            def resolve(ranges: list[tuple[int, int]], session: object = session) -> list[bytes]:
                return _resolve(session, ranges)  # type: ignore[arg-type]

        else:
            store = LevelStore(size)
            full_root = range_hash(0, size, store.node)

            def resolve(ranges: list[tuple[int, int]], store: LevelStore = store) -> list[bytes]:
                return [range_hash(a, b, store.node) for a, b in ranges]

        build = time.perf_counter() - started
        nodes = sum(len(range_nodes(a, b)) for a, b in inclusion_ranges(indices[0], size))

        old_roots = {old: resolve([(0, old)])[0] for old in olds}
        inclusions = partial(_inclusions, resolve, indices, size, full_root)
        consistencies = partial(_consistencies, resolve, old_roots, size, full_root)

        _inclusions(resolve, indices[:50], size, full_root)  # warm-up (statement caches)
        t_inc = timed(inclusions) / len(indices) * 1e6
        t_con = timed(consistencies) / len(old_roots) * 1e6
        base.setdefault(kind, t_inc)
        print(
            f"{size:>12,} {kind:<8}{size.bit_length():>7}{nodes:>11}"
            f"{t_inc:>14,.1f}{t_con:>16,.1f}{t_inc / base[kind]:>8.2f}"
            f"   (tree built in {build:.1f} s)"
        )
        if kind == "sqlite":
            session.close()
            database.dispose()
        else:
            del store
    print(
        "x first = inclusion time / the same store's time at its first size"
        " (logarithmic growth: about the ratio of the log2 n column)"
    )


# -- verify ------------------------------------------------------------------------


def write_export(path: Path, count: int, signer: NoteSigner) -> None:
    start = datetime(2026, 12, 1, tzinfo=UTC)
    builder = TreeBuilder()
    notes: list[str] = []
    lines: list[str] = []
    for i in range(count):
        entry = entry_bytes(
            seq=i + 1,
            at=start + timedelta(microseconds=i),
            tag="transfer:content:download",
            actor_id="usr_aaaaaaaaaaaaaaaaaaaaaaaaaa",
            org_id="org_bbbbbbbbbbbbbbbbbbbbbbbbbb",
            object_id="tr_cccccccccccccccccccccccccc",
            data=json.dumps({"download": i % 5 + 1}),
        )
        digest = leaf_hash(entry)
        builder.extend((digest,))
        lines.append(
            json.dumps(
                {
                    "leaf": i,
                    "entry": entry.decode(),
                    "leaf_hash": base64.b64encode(digest).decode(),
                },
                separators=(",", ":"),
            )
        )
        if (i + 1) % 100_000 == 0 or i + 1 == count:
            notes.append(Checkpoint(signer.name, i + 1, builder.root()).sign(signer))
    header = {
        "format": EXPORT_FORMAT,
        "origin": signer.name,
        "log_key": str(signer.verifier),
        "tree_size": count,
        "checkpoints": len(notes),
    }
    with path.open("w", encoding="utf-8") as out:
        out.write(json.dumps(header) + "\n")
        for note in notes:
            out.write(json.dumps({"checkpoint": note}) + "\n")
        for line in lines:
            out.write(line + "\n")


def bench_verify(folder: Path, count: int) -> None:
    print(f"\n== verify ({count:,} events, a checkpoint every 100,000) ==")
    signer = NoteSigner.generate("bench.example/scelle-audit")
    path = folder / "export.jsonl"
    write_export(path, count, signer)

    def reference() -> None:
        with path.open(encoding="utf-8") as lines:
            for raw in lines:
                value = json.loads(raw)
                entry = value.get("entry")
                if entry is not None:
                    hashlib.sha256(b"\x00" + entry.encode()).digest()

    def verify() -> None:
        with path.open(encoding="utf-8") as lines:
            report = verify_export(lines, signer.verifier)
        assert report.ok, report.problems[:3]
        assert report.entries == count

    t_ref = timed(reference)
    t_verify = timed(verify)
    per_minute = count / t_verify * 60
    print(f"{'':<34}{'seconds':>10}{'events/minute':>18}")
    print(f"{'raw hashlib (read + SHA-256)':<34}{t_ref:>10.2f}{count / t_ref * 60:>18,.0f}")
    print(f"{'scelle audit verify (in-process)':<34}{t_verify:>10.2f}{per_minute:>18,.0f}")
    print(f"ratio verify/reference throughput: {t_ref / t_verify:.2f}")
    print(f"target >= 1,000,000 events/minute: {'met' if per_minute >= 1_000_000 else 'NOT met'}")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--appends", type=int, default=2000)
    parser.add_argument("--verify-events", type=int, default=1_000_000)
    parser.add_argument("--sqlite-sizes", default="10000,1000000")
    parser.add_argument("--memory-sizes", default="10000,1000000,10000000")
    args = parser.parse_args()
    sqlite_sizes = [int(s) for s in args.sqlite_sizes.split(",") if s]
    memory_sizes = [int(s) for s in args.memory_sizes.split(",") if s]
    with tempfile.TemporaryDirectory(prefix="scelle-bench-audit-") as tmp:
        folder = Path(tmp)
        bench_append(folder, args.appends)
        bench_proofs(folder, sqlite_sizes, memory_sizes)
        bench_verify(folder, args.verify_events)
    sys.stdout.flush()


if __name__ == "__main__":
    main()
