"""Queries of the audit log: events, tree state, perfect-subtree nodes, checkpoints."""

from __future__ import annotations

from collections.abc import Iterable, Iterator, Sequence
from typing import Any

from sqlalchemy import func, insert, select, tuple_, update
from sqlalchemy.orm import Session

from scelle.crypto.merkle import Node
from scelle.db.models import AuditCheckpoint, AuditEvent, AuditTreeNode, AuditTreeState

__all__ = [
    "add_checkpoint",
    "advance_size",
    "checkpoint_by_size",
    "checkpoints",
    "event_by_seq",
    "events",
    "events_for_object",
    "insert_nodes",
    "latest_checkpoint",
    "latest_seq",
    "leaf_hashes",
    "nodes",
    "tree_size",
]

STATE_ID = 1


def advance_size(session: Session) -> int:
    """Grow the tree by one leaf and return the new size (locks the state row until commit)."""
    size = session.execute(
        update(AuditTreeState)
        .where(AuditTreeState.id == STATE_ID)
        .values(size=AuditTreeState.size + 1)
        .returning(AuditTreeState.size)
    ).scalar_one()
    return int(size)


def tree_size(session: Session) -> int:
    """The number of leaves committed (as this transaction sees it)."""
    size = session.scalar(select(AuditTreeState.size).where(AuditTreeState.id == STATE_ID))
    return int(size or 0)


def nodes(session: Session, wanted: Iterable[Node]) -> dict[Node, bytes]:
    """The stored hashes of the perfect subtrees ``wanted`` (one query)."""
    keys = sorted(set(wanted))
    if not keys:
        return {}
    found: dict[Node, bytes] = {}
    # Chunked: a tuple IN list of a few hundred pairs at most per query.
    for start in range(0, len(keys), 200):
        chunk = keys[start : start + 200]
        rows = session.execute(
            select(AuditTreeNode.level, AuditTreeNode.index, AuditTreeNode.hash).where(
                tuple_(AuditTreeNode.level, AuditTreeNode.index).in_(chunk)
            )
        )
        for level, index, value in rows:
            found[(level, index)] = value
    return found


def insert_nodes(session: Session, rows: Sequence[tuple[int, int, bytes]]) -> None:
    """Store completed perfect subtrees (a node is written once: a duplicate raises)."""
    session.execute(
        insert(AuditTreeNode),
        [{"level": level, "index": index, "hash": value} for level, index, value in rows],
    )


def events(session: Session, *, start: int = 1, batch: int = 5000) -> Iterator[Any]:
    """Every event from ``seq`` ``start`` on, in order, as plain rows read in batches."""
    columns = (
        AuditEvent.seq,
        AuditEvent.at,
        AuditEvent.tag,
        AuditEvent.actor_id,
        AuditEvent.org_id,
        AuditEvent.object_id,
        AuditEvent.data,
    )
    seq = start
    while True:
        chunk = list(
            session.execute(
                select(*columns).where(AuditEvent.seq >= seq).order_by(AuditEvent.seq).limit(batch)
            )
        )
        if not chunk:
            return
        yield from chunk
        seq = chunk[-1].seq + 1


def leaf_hashes(session: Session, start: int, end: int) -> list[bytes]:
    """The stored leaf hashes of leaves ``[start, end)``, in order."""
    return list(
        session.scalars(
            select(AuditTreeNode.hash)
            .where(
                AuditTreeNode.level == 0,
                AuditTreeNode.index >= start,
                AuditTreeNode.index < end,
            )
            .order_by(AuditTreeNode.index)
        )
    )


def event_by_seq(session: Session, seq: int) -> AuditEvent | None:
    return session.get(AuditEvent, seq)


def events_for_object(session: Session, object_id: str) -> list[AuditEvent]:
    """The events about one object (a transfer id), in order."""
    return list(
        session.scalars(
            select(AuditEvent).where(AuditEvent.object_id == object_id).order_by(AuditEvent.seq)
        )
    )


def latest_seq(session: Session, *, tag: str, object_id: str, actor_id: str | None) -> int | None:
    """The newest ``seq`` of an event with this tag, object and actor."""
    return session.scalar(
        select(func.max(AuditEvent.seq)).where(
            AuditEvent.tag == tag,
            AuditEvent.object_id == object_id,
            AuditEvent.actor_id == actor_id,
        )
    )


def latest_checkpoint(session: Session) -> AuditCheckpoint | None:
    return session.scalars(
        select(AuditCheckpoint).order_by(AuditCheckpoint.tree_size.desc()).limit(1)
    ).first()


def checkpoint_by_size(session: Session, size: int) -> AuditCheckpoint | None:
    return session.get(AuditCheckpoint, size)


def checkpoints(session: Session) -> list[AuditCheckpoint]:
    return list(session.scalars(select(AuditCheckpoint).order_by(AuditCheckpoint.tree_size)))


def add_checkpoint(session: Session, checkpoint: AuditCheckpoint) -> None:
    session.add(checkpoint)
    session.flush()
