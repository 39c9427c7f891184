"""Audit HTTP API: the log key, checkpoints, inclusion and consistency proofs, a transfer's life.

The log key and the latest checkpoint are public (a witness or an auditor
needs them, and they hold a key, a count and a hash). Proofs need a token; an
inclusion proof also returns the event, so it is served only to whom may read
that event (``service.may_read``). Everything is O(log n) reads.
"""

from __future__ import annotations

import base64
from typing import Annotated

from fastapi import APIRouter, Path, Query

from scelle.audit import schemas, service
from scelle.errors import NotFound
from scelle.server.dependencies import CurrentUser, DbSession, ServicesDep
from scelle.transfers import service as transfers_service

router = APIRouter(prefix="/api/v1/audit", tags=["audit"])

_SIZE = Query(ge=0, le=2**62)


def _b64(value: bytes) -> str:
    return base64.b64encode(value).decode()


@router.get("/log-key", response_model=schemas.LogKeyOut)
def log_key(services: ServicesDep) -> schemas.LogKeyOut:
    """The log's verifier key: pin it once, check every checkpoint with it (public)."""
    verifier = services.log_signer.verifier
    return schemas.LogKeyOut(origin=verifier.name, verifier_key=str(verifier))


@router.get("/checkpoint", response_model=schemas.CheckpointOut)
def latest_checkpoint(session: DbSession) -> schemas.CheckpointOut:
    """The newest signed checkpoint (public); 404 before the first one."""
    row = service.latest_checkpoint(session)
    if row is None:
        raise NotFound("no checkpoint has been signed yet")
    return schemas.CheckpointOut(
        tree_size=row.tree_size, root_hash=_b64(row.root_hash), note=row.note
    )


@router.get("/checkpoints/{tree_size}", response_model=schemas.CheckpointOut)
def checkpoint_of_size(
    tree_size: Annotated[int, Path(ge=0, le=2**62)], principal: CurrentUser, session: DbSession
) -> schemas.CheckpointOut:
    """The signed checkpoint of one tree size, if one was signed at that size."""
    row = service.checkpoint_of_size(session, tree_size)
    if row is None:
        raise NotFound("no checkpoint of that size")
    return schemas.CheckpointOut(
        tree_size=row.tree_size, root_hash=_b64(row.root_hash), note=row.note
    )


@router.get("/proofs/inclusion", response_model=schemas.InclusionProofOut)
def inclusion(
    principal: CurrentUser,
    session: DbSession,
    leaf: Annotated[int, _SIZE],
    tree_size: Annotated[int | None, _SIZE] = None,
) -> schemas.InclusionProofOut:
    """An event the caller may read and its inclusion proof (default: in the latest checkpoint).

    409 while no checkpoint covers the event yet; 404 for an event the caller
    may not read, as for one that does not exist.
    """
    proof, checkpoint = service.readable_proof(session, principal, leaf, tree_size)
    return schemas.InclusionProofOut(
        leaf_index=proof.index,
        tree_size=proof.tree_size,
        entry=proof.entry.decode(),
        leaf_hash=_b64(proof.leaf_hash),
        path=[_b64(h) for h in proof.path],
        checkpoint=checkpoint.note if checkpoint is not None else None,
    )


@router.get("/proofs/consistency", response_model=schemas.ConsistencyProofOut)
def consistency(
    principal: CurrentUser,
    session: DbSession,
    old_size: Annotated[int, _SIZE],
    new_size: Annotated[int, _SIZE],
) -> schemas.ConsistencyProofOut:
    """The RFC 9162 consistency proof between two tree sizes (hashes only)."""
    path = service.consistency_proof(session, old_size, new_size)
    return schemas.ConsistencyProofOut(
        old_size=old_size, new_size=new_size, path=[_b64(h) for h in path]
    )


@router.get("/transfers/{transfer_id}", response_model=schemas.TransferEventsOut)
def transfer_life(
    transfer_id: str, principal: CurrentUser, session: DbSession, services: ServicesDep
) -> schemas.TransferEventsOut:
    """Every audit event about one transfer, for its sender and recipients."""
    transfer, _ = transfers_service.visible(session, services, principal, transfer_id)
    return schemas.TransferEventsOut(
        transfer_id=transfer.id,
        events=[
            schemas.TransferEventOut(leaf_index=e.seq - 1, entry=service.entry_of(e).decode())
            for e in service.transfer_events(session, transfer.id)
        ],
    )
