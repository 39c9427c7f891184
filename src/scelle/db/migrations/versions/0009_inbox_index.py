"""inbox index: transfer_recipients.created_at and (user_id, created_at)

The inbox listed a recipient's transfers by joining every one of them and
sorting (1.7 s at 10^6 rows in PostgreSQL, bench/scale.py listing); with the
transfer's creation time copied into its recipient rows, the index hands the
newest ones over in order.

Revision ID: 0009
Revises: 0008
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0009"
down_revision = "0008"
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table("transfer_recipients") as batch:
        batch.add_column(sa.Column("created_at", sa.DateTime(timezone=True), nullable=True))
    op.execute(
        "UPDATE transfer_recipients SET created_at = (SELECT transfers.created_at FROM transfers"
        " WHERE transfers.id = transfer_recipients.transfer_id)"
    )
    with op.batch_alter_table("transfer_recipients") as batch:
        batch.alter_column("created_at", existing_type=sa.DateTime(timezone=True), nullable=False)
    op.create_index(
        "ix_transfer_recipients_user_id_created_at",
        "transfer_recipients",
        ["user_id", "created_at"],
    )


def downgrade() -> None:
    op.drop_index("ix_transfer_recipients_user_id_created_at", table_name="transfer_recipients")
    with op.batch_alter_table("transfer_recipients") as batch:
        batch.drop_column("created_at")
