"""Queries of the audit log: events, tree state, perfect-subtree nodes, checkpoints."""

from __future__ import annotations

from collections.abc import Iterable, Iterator, Sequence
from datetime import datetime
from typing import Any

from sqlalchemy import func, select, text
from sqlalchemy.orm import Session

from scelle.crypto.merkle import Node
from scelle.db.models import AuditCheckpoint, AuditEvent, AuditTreeNode, AuditTreeState, User

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
    "org_events",
    "set_frontier",
    "tree_size",
]

STATE_ID = 1


_ADVANCE = text("UPDATE audit_tree_state SET size = size + 1 WHERE id = 1 RETURNING size, frontier")
_SET_FRONTIER = text("UPDATE audit_tree_state SET frontier = :frontier WHERE id = 1")
_INSERT_NODE = text('INSERT INTO audit_tree_nodes (level, "index", hash) VALUES (:l, :i, :h)')


def advance_size(session: Session) -> tuple[int, bytes]:
    """Grow the tree by one leaf: the new size and the frontier before it.

    The row stays locked until the transaction ends (appends are serialised).
    The frontier is the concatenated hashes of the perfect subtrees of the old
    size (``merkle.frontier_nodes``), kept so an append reads one row.
    """
    size, frontier = session.execute(_ADVANCE).one()
    return int(size), bytes(frontier)


def set_frontier(session: Session, frontier: bytes) -> None:
    session.execute(_SET_FRONTIER, {"frontier": frontier})


def tree_size(session: Session) -> int:
    """The number of leaves committed (as this transaction sees it)."""
    size = session.scalar(select(AuditTreeState.size).where(AuditTreeState.id == STATE_ID))
    return int(size or 0)


def nodes(session: Session, wanted: Iterable[Node]) -> dict[Node, bytes]:
    """The stored hashes of the perfect subtrees ``wanted`` (one indexed query).

    ``(level = ? AND index = ?) OR ...``: both SQLite (multi-index OR) and
    PostgreSQL answer each term from the primary key, where a row-value IN
    list makes SQLite scan the table. Plain SQL text: an append or a proof
    must not pay for building an expression tree each time.
    """
    keys = sorted(set(wanted))
    if not keys:
        return {}
    found: dict[Node, bytes] = {}
    for start in range(0, len(keys), 200):
        chunk = keys[start : start + 200]
        params: dict[str, int] = {}
        terms = []
        for n, (level, index) in enumerate(chunk):
            terms.append(f'(level = :l{n} AND "index" = :i{n})')
            params[f"l{n}"] = level
            params[f"i{n}"] = index
        # Only bound parameters in the terms: their text is ours, never input.
        query = 'SELECT level, "index", hash FROM audit_tree_nodes WHERE ' + " OR ".join(terms)  # noqa: S608
        for level, index, value in session.execute(text(query), params):
            found[(int(level), int(index))] = bytes(value)
    return found


def insert_nodes(session: Session, rows: Sequence[tuple[int, int, bytes]]) -> None:
    """Store completed perfect subtrees (a node is written once: a duplicate raises)."""
    session.execute(
        _INSERT_NODE, [{"l": level, "i": index, "h": value} for level, index, value in rows]
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


def org_events(
    session: Session,
    org_id: str,
    *,
    tag_prefix: str | None,
    start: datetime | None,
    end: datetime | None,
    before_seq: int | None,
    limit: int,
) -> list[Any]:
    """One organisation's events, newest first: (seq, at, tag, object_id, actor e-mail) rows.

    Answered from the ``org_id`` index (and ``seq``, the primary key, for the
    order and the cursor); the actor's e-mail comes from ``users`` by its key.
    """
    query = (
        select(
            AuditEvent.seq,
            AuditEvent.at,
            AuditEvent.tag,
            AuditEvent.object_id,
            User.email.label("actor_email"),
        )
        .outerjoin(User, User.id == AuditEvent.actor_id)
        .where(AuditEvent.org_id == org_id)
    )
    if tag_prefix:
        # The prefix is checked by the service ([a-z0-9_:-] only): no LIKE wildcard in it.
        query = query.where(AuditEvent.tag.startswith(tag_prefix, autoescape=True))
    if start is not None:
        query = query.where(AuditEvent.at >= start)
    if end is not None:
        query = query.where(AuditEvent.at <= end)
    if before_seq is not None:
        query = query.where(AuditEvent.seq < before_seq)
    return list(session.execute(query.order_by(AuditEvent.seq.desc()).limit(limit)))
