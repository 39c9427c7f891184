"""audit Merkle tree: tree state, perfect-subtree nodes, signed checkpoints

Existing events are renumbered 1..n in their order (PostgreSQL sequences may
have left gaps) and become the first n leaves.

Revision ID: 0002
Revises: 0001
Create Date: 2026-12-03 10:30:00
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

from scelle.audit.entry import entry_bytes
from scelle.crypto.merkle import TreeBuilder, leaf_hash

revision = "0002"
down_revision = "0001"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "audit_tree_state",
        sa.Column("id", sa.Integer(), autoincrement=False, nullable=False),
        sa.Column("size", sa.BigInteger(), nullable=False),
        sa.Column("frontier", sa.LargeBinary(), nullable=False),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_audit_tree_state")),
    )
    op.create_table(
        "audit_tree_nodes",
        sa.Column("level", sa.SmallInteger(), autoincrement=False, nullable=False),
        sa.Column("index", sa.BigInteger(), autoincrement=False, nullable=False),
        sa.Column("hash", sa.LargeBinary(length=32), nullable=False),
        sa.PrimaryKeyConstraint("level", "index", name=op.f("pk_audit_tree_nodes")),
    )
    op.create_table(
        "audit_checkpoints",
        sa.Column("tree_size", sa.BigInteger(), autoincrement=False, nullable=False),
        sa.Column("root_hash", sa.LargeBinary(length=32), nullable=False),
        sa.Column("signed_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("note", sa.Text(), nullable=False),
        sa.PrimaryKeyConstraint("tree_size", name=op.f("pk_audit_checkpoints")),
    )
    _backfill()


def _backfill() -> None:
    from datetime import UTC

    bind = op.get_bind()
    events = sa.table(
        "audit_events",
        sa.column("seq", sa.Integer),
        sa.column("at", sa.DateTime(timezone=True)),
        sa.column("tag", sa.String),
        sa.column("actor_id", sa.String),
        sa.column("org_id", sa.String),
        sa.column("object_id", sa.String),
        sa.column("data", sa.Text),
    )
    nodes = sa.table(
        "audit_tree_nodes",
        sa.column("level", sa.SmallInteger),
        sa.column("index", sa.BigInteger),
        sa.column("hash", sa.LargeBinary),
    )
    rows = bind.execute(sa.select(events).order_by(events.c.seq)).all()
    builder = TreeBuilder()
    pending: list[dict[str, object]] = []
    for position, row in enumerate(rows, start=1):
        if row.seq != position:
            # Ascending: every smaller number is already free when we take it.
            bind.execute(sa.update(events).where(events.c.seq == row.seq).values(seq=position))
        at = row.at if row.at.tzinfo else row.at.replace(tzinfo=UTC)
        entry = entry_bytes(
            seq=position,
            at=at,
            tag=row.tag,
            actor_id=row.actor_id,
            org_id=row.org_id,
            object_id=row.object_id,
            data=row.data,
        )
        for level, index, value in builder.append(leaf_hash(entry)):
            pending.append({"level": level, "index": index, "hash": value})
    if pending:
        bind.execute(sa.insert(nodes), pending)
    state = sa.table(
        "audit_tree_state",
        sa.column("id", sa.Integer),
        sa.column("size", sa.BigInteger),
        sa.column("frontier", sa.LargeBinary),
    )
    bind.execute(sa.insert(state).values(id=1, size=len(rows), frontier=b"".join(builder.frontier)))


def downgrade() -> None:
    op.drop_table("audit_checkpoints")
    op.drop_table("audit_tree_nodes")
    op.drop_table("audit_tree_state")
