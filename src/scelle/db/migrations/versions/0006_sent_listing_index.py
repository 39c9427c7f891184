"""index transfers on (sender_id, created_at) for the "sent" listing

At 10^6 transfers the listing sorted a sender's rows on every call (41x slower
than the inbox, bench/listing.py); the composite index serves it in order.

Revision ID: 0006
Revises: 0004
"""

from __future__ import annotations

from alembic import op

revision = "0006"
down_revision = "0004"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_index("ix_transfers_sender_id_created_at", "transfers", ["sender_id", "created_at"])


def downgrade() -> None:
    op.drop_index("ix_transfers_sender_id_created_at", table_name="transfers")
