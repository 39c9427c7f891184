"""Appending audit events to the Merkle log, and reading roots and proofs.

Events carry ids, sizes, digests and counts: never a name, an e-mail, a file
name, a secret or health data. Tags follow ``source:subject:action``.

Every event becomes one leaf of an RFC 9162 Merkle tree, in the caller's
transaction: ``seq`` is the new tree size (leaf index ``seq - 1``), assigned
under the lock that a row-locking ``UPDATE`` of ``audit_tree_state`` takes,
so appends are serialised across processes and ``seq`` has no gaps (a rolled
back append takes its leaf with it). That same row holds the frontier (the
at most log2(n) perfect subtrees of the current size), so an append reads one
row, then writes the leaf hash and the perfect subtrees it completes
(amortised two rows) and the new frontier; roots and proofs of any size read
O(log n) nodes.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from sqlalchemy.orm import Session

from scelle import ids
from scelle.audit import repository
from scelle.audit.entry import canonical_json, entry_bytes
from scelle.crypto.merkle import (
    EMPTY_ROOT,
    HASH_SIZE,
    TreeBuilder,
    consistency_ranges,
    inclusion_ranges,
    leaf_hash,
    range_hash,
    range_nodes,
)
from scelle.db.base import utcnow
from scelle.db.engine import FAILURE_EVENTS
from scelle.db.models import AuditCheckpoint, AuditEvent
from scelle.errors import AuditLogInconsistent, Conflict, InvalidInput, NotFound
from scelle.transfers import repository as transfers_repository

if TYPE_CHECKING:
    from scelle.accounts.service import Principal

__all__ = [
    "AuditLog",
    "InclusionProof",
    "canonical_json",
    "checkpoint_of_size",
    "consistency_proof",
    "entry_of",
    "inclusion_proof",
    "latest_checkpoint",
    "latest_leaf",
    "may_read",
    "readable_proof",
    "root",
    "transfer_events",
]

_TAG = re.compile(r"\A[a-z0-9_-]+(:[a-z0-9_-]+){1,3}\Z")
_SAFE_VALUE = (str, int, float, bool, type(None))


class AuditLog:
    """Writes events in the caller's transaction: an event and its cause commit together."""

    def record(
        self,
        session: Session,
        tag: str,
        *,
        actor_id: str | None = None,
        org_id: str | None = None,
        object_id: str | None = None,
        **data: Any,
    ) -> AuditEvent:
        """Append one event (a new leaf); its ``seq`` is set on return.

        Raises ValueError for a malformed tag or a non-scalar value.
        """
        event = _event(tag, actor_id, org_id, object_id, data)
        append(session, event)
        return event

    def record_failure(
        self,
        session: Session,
        tag: str,
        *,
        actor_id: str | None = None,
        org_id: str | None = None,
        object_id: str | None = None,
        **data: Any,
    ) -> None:
        """Record an event that must be kept even though the request fails and rolls back.

        It is appended when the transaction ends: in it if it commits, in a
        transaction of its own after the rollback otherwise.
        """
        event = _event(tag, actor_id, org_id, object_id, data)
        session.info.setdefault(FAILURE_EVENTS, []).append(lambda s: append(s, event))


def _event(
    tag: str, actor_id: str | None, org_id: str | None, object_id: str | None, data: dict[str, Any]
) -> AuditEvent:
    if not _TAG.match(tag):
        raise ValueError(f"malformed audit tag {tag!r}")
    for key, value in data.items():
        if not isinstance(value, _SAFE_VALUE):
            raise ValueError(f"audit field {key!r} must be a scalar")
    return AuditEvent(
        tag=tag,
        actor_id=actor_id,
        org_id=org_id,
        object_id=object_id,
        at=utcnow(),
        data=canonical_json(data),
    )


def entry_of(event: Any) -> bytes:
    """The canonical entry bytes of an event (an ``AuditEvent`` or a row with its columns)."""
    return entry_bytes(
        seq=event.seq,
        at=event.at,
        tag=event.tag,
        actor_id=event.actor_id,
        org_id=event.org_id,
        object_id=event.object_id,
        data=event.data,
    )


def append(session: Session, event: AuditEvent) -> None:
    """Make ``event`` the next leaf: lock and grow the tree, store its new nodes, add it."""
    size, packed = repository.advance_size(session)
    index = size - 1
    event.seq = size
    event.at = utcnow()  # taken under the lock, so times follow the order of the leaves
    frontier = [packed[i : i + HASH_SIZE] for i in range(0, len(packed), HASH_SIZE)]
    try:
        builder = TreeBuilder(index, frontier)
    except ValueError:
        raise AuditLogInconsistent("the audit tree state is damaged") from None
    repository.insert_nodes(session, builder.append(leaf_hash(entry_of(event))))
    repository.set_frontier(session, b"".join(builder.frontier))
    session.add(event)
    session.flush()


def _check_size(session: Session, size: int) -> None:
    current = repository.tree_size(session)
    if not 0 <= size <= current:
        raise InvalidInput(f"the tree size must be between 0 and {current}")


def _resolve(session: Session, ranges: list[tuple[int, int]]) -> list[bytes]:
    wanted = [node for start, end in ranges for node in range_nodes(start, end)]
    found = repository.nodes(session, wanted)
    return [range_hash(start, end, found) for start, end in ranges]


def root(session: Session, size: int) -> bytes:
    """The root hash of the first ``size`` leaves. Raises InvalidInput past the tree."""
    _check_size(session, size)
    if size == 0:
        return EMPTY_ROOT
    return _resolve(session, [(0, size)])[0]


@dataclass(frozen=True)
class InclusionProof:
    """Leaf ``index`` (the event of ``seq = index + 1``) in the tree of ``tree_size``."""

    index: int
    tree_size: int
    entry: bytes
    leaf_hash: bytes
    path: list[bytes]


def inclusion_proof(session: Session, index: int, size: int) -> InclusionProof:
    """The entry of leaf ``index`` and its inclusion proof in the tree of ``size``.

    Raises InvalidInput when the size is past the tree or the leaf is not in it.
    """
    _check_size(session, size)
    if not 0 <= index < size:
        raise InvalidInput(f"leaf {index} is not in a tree of size {size}")
    event = repository.event_by_seq(session, index + 1)
    if event is None:
        raise NotFound("no such audit event")
    entry = entry_of(event)
    path = _resolve(session, inclusion_ranges(index, size))
    return InclusionProof(
        index=index, tree_size=size, entry=entry, leaf_hash=leaf_hash(entry), path=path
    )


def consistency_proof(session: Session, old_size: int, new_size: int) -> list[bytes]:
    """The consistency proof from ``old_size`` to ``new_size``. Raises InvalidInput."""
    _check_size(session, new_size)
    if not 0 <= old_size <= new_size:
        raise InvalidInput("the old size must be between 0 and the new size")
    return _resolve(session, consistency_ranges(old_size, new_size))


def may_read(session: Session, principal: Principal, event: AuditEvent) -> bool:
    """Whether ``principal`` may see ``event``: docs/protocol.md ("Who reads the audit log").

    Its actor; the sender and recipients of the transfer it is about; an
    admin of the organisation it belongs to.
    """
    user = principal.user
    if event.actor_id == user.id:
        return True
    if "admin" in principal.scopes and event.org_id == user.org_id:
        return True
    if event.object_id and ids.is_valid(event.object_id, "tr"):
        transfer = transfers_repository.get(session, event.object_id)
        if transfer is not None and (
            transfer.sender_id == user.id
            or transfers_repository.recipient_link(session, transfer.id, user.id) is not None
        ):
            return True
    return False


def readable_proof(
    session: Session, principal: Principal, index: int, size: int | None
) -> tuple[InclusionProof, AuditCheckpoint | None]:
    """The inclusion proof of a leaf the caller may read, with the checkpoint of its size.

    Without ``size``, the proof is against the latest checkpoint. Raises
    NotFound (no such leaf, or one the caller may not read: the same answer),
    Conflict when no checkpoint covers the leaf yet, InvalidInput for a size
    past the tree.
    """
    event = repository.event_by_seq(session, index + 1) if index >= 0 else None
    if event is None or not may_read(session, principal, event):
        raise NotFound("no such audit event")
    checkpoint = None
    if size is None:
        checkpoint = repository.latest_checkpoint(session)
        if checkpoint is None or checkpoint.tree_size <= index:
            raise Conflict("no checkpoint covers this event yet; ask again after the next one")
        size = checkpoint.tree_size
    else:
        checkpoint = repository.checkpoint_by_size(session, size)
    return inclusion_proof(session, index, size), checkpoint


def transfer_events(session: Session, transfer_id: str) -> list[AuditEvent]:
    """The life of one transfer: every event about it, in order (the caller checks access)."""
    return repository.events_for_object(session, transfer_id)


def latest_leaf(session: Session, *, tag: str, object_id: str, actor_id: str | None) -> int | None:
    """The leaf index of the newest event with this tag, object and actor (a receipt's leaf)."""
    seq = repository.latest_seq(session, tag=tag, object_id=object_id, actor_id=actor_id)
    return None if seq is None else seq - 1


def latest_checkpoint(session: Session) -> AuditCheckpoint | None:
    """The newest signed checkpoint, if any."""
    return repository.latest_checkpoint(session)


def checkpoint_of_size(session: Session, size: int) -> AuditCheckpoint | None:
    """The checkpoint signed at tree size ``size``, if one was."""
    return repository.checkpoint_by_size(session, size)
